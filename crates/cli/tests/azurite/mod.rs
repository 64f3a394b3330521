//! A real Azure Blob endpoint for tests: an Azurite process of the test's own on a free
//! loopback port, fixtures written into it as real append and block blobs by Azure's Python
//! SDK (`blobs.py` beside this file), and `acrlens` run against it. `.ci/run` installs both and
//! sets `ACRLENS_REQUIRE_AZURITE=1`, so there a missing one fails the test; on a developer's
//! machine without them the tests say so and check nothing else.

#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The emulator's published development key.
pub const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running Azurite blob service.
pub struct Azurite {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

fn available(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Azurite {
    /// Starts Azurite, or `None` (after saying why) where it or the SDK is not installed.
    pub fn start() -> Option<Azurite> {
        let found = available("azurite-blob", &["--version"])
            && available("python3", &["-c", "import azure.storage.blob"]);
        if !found {
            assert!(
                std::env::var_os("ACRLENS_REQUIRE_AZURITE").is_none(),
                "ACRLENS_REQUIRE_AZURITE is set but azurite-blob or Python's azure-storage-blob is missing"
            );
            eprintln!(
                "azurite-blob or azure-storage-blob is not installed (`npm install -g azurite@3.35.0`, `pip install azure-storage-blob`; .ci/run installs them): blob test not run"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new("azurite-blob")
            .current_dir(dir.path())
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--inMemoryPersistence", "--skipApiVersionCheck"])
            .args(["--disableTelemetry", "--silent", "--debug"])
            .arg(dir.path().join("debug.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut azurite = Azurite { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "Azurite did not start on {port}");
            assert!(
                azurite.child.try_wait().is_ok_and(|s| s.is_none()),
                "Azurite exited at start"
            );
            thread::sleep(Duration::from_millis(50));
        }
        Some(azurite)
    }

    /// The emulator's base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs the fixture script (`blobs.py`) with `args`.
    pub fn fixture(&self, args: &[&str]) {
        let conn = format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};BlobEndpoint={}/devstoreaccount1;",
            self.url()
        );
        let out = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/azurite/blobs.py"))
            .args(args)
            .current_dir(root())
            .env("ACRLENS_TEST_AZURITE", conn)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "blobs.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes `text` to a file and appends it to an append blob.
    pub fn append(&self, container: &str, blob: &str, text: &str) {
        let file = self.dir.path().join("append.tmp");
        fs::write(&file, text).unwrap();
        self.fixture(&["append", container, blob, file.to_str().unwrap()]);
    }

    /// Replaces a blob by a block blob holding `text`.
    pub fn replace(&self, container: &str, blob: &str, text: &str) {
        let file = self.dir.path().join("replace.tmp");
        fs::write(&file, text).unwrap();
        self.fixture(&["replace", container, blob, file.to_str().unwrap()]);
    }

    /// `acrlens` run against this emulator, in the repository root, with `env` on top of a
    /// clean Azure environment (the developer's own credentials never leak in).
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_acrlens"));
        for (key, _) in std::env::vars() {
            if key.starts_with("AZURE") {
                command.env_remove(key);
            }
        }
        command
            .args(args)
            .current_dir(root())
            .env("AZURE_STORAGE_USE_EMULATOR", "true")
            .env("AZURITE_BLOB_STORAGE_URL", self.url());
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }

    /// Runs `acrlens` against this emulator and waits for it.
    pub fn acrlens(&self, args: &[&str]) -> Output {
        self.command(args, &[]).output().unwrap()
    }

    /// The request lines of the emulator's debug log that `acrlens` sent (the fixture's SDK
    /// requests left out).
    pub fn requests(&self) -> Vec<String> {
        let log = fs::read_to_string(self.dir.path().join("debug.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains("RequestMethod=") && !l.contains("azsdk-python"))
            .map(|l| {
                let start = l.find("RequestMethod=").unwrap_or(0);
                let end = l[start..]
                    .find(" RequestHeaders")
                    .map_or(l.len(), |e| start + e);
                l[start..end].to_owned()
            })
            .collect()
    }

    /// List Blobs calls `acrlens` made.
    pub fn list_calls(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.contains("comp=list"))
            .count()
    }

    /// Stops the emulator at once.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The blob name of an hour of the resource-log layout under registry `registry`.
pub fn hour_blob(registry: &str, day: u32, hour: u32) -> String {
    format!(
        "resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/{registry}/y=2025/m=11/d={day:02}/h={hour:02}/m=00/PT1H.json"
    )
}

/// One resource-log line of a pull, `n` making it distinct, at `day` and `hour` of 2025-11.
pub fn pull(n: usize, day: u32, hour: u32) -> String {
    format!(
        r#"{{"time":"2025-11-{day:02}T{hour:02}:{:02}:{:02}.0000000Z","resourceId":"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/CONTOSO","operationName":"Pull","category":"ContainerRegistryRepositoryEvents","resultType":"HttpStatusCode","resultDescription":"200","durationMs":"12.5","callerIpAddress":"10.0.2.{}:51234","correlationId":"c-{n}","identity":"app","properties":{{"loginServer":"contoso.azurecr.io","repository":"app/web","tag":"v{n}","userAgent":"containerd/1.6.26"}}}}"#,
        (n / 60) % 60,
        n % 60,
        n % 250 + 1
    ) + "\n"
}

/// A loopback proxy in front of the emulator that answers the first `refuse` connections with
/// `503 Server Busy`, as a throttled storage account does, and then passes connections through.
/// It stops by itself after `LIFETIME`.
pub struct Throttler {
    pub port: u16,
    refused: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

const LIFETIME: Duration = Duration::from_secs(120);

impl Throttler {
    pub fn start(upstream: u16, refuse: usize) -> Throttler {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let refused = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (refused.clone(), stop.clone());
        thread::spawn(move || {
            let deadline = Instant::now() + LIFETIME;
            while Instant::now() < deadline && !stopped.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(2));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                if count.load(Ordering::Relaxed) < refuse {
                    count.fetch_add(1, Ordering::Relaxed);
                    thread::spawn(move || busy(client));
                } else {
                    thread::spawn(move || pipe(client, upstream));
                }
            }
        });
        Throttler {
            port,
            refused,
            stop,
        }
    }
}

impl Throttler {
    /// Connections answered with 503 so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }
}

impl Drop for Throttler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one request head and answers it as a throttled account does.
fn busy(mut client: TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    let _ = client.write_all(
        b"HTTP/1.1 503 Server Busy\r\nx-ms-error-code: ServerBusy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
}

/// Passes bytes both ways between a client and the emulator until either side closes.
fn pipe(client: TcpStream, upstream: u16) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let forward = thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut s_write);
        let _ = s_write.shutdown(std::net::Shutdown::Write);
    });
    let (mut s_read, mut c_write) = (server, client);
    let _ = std::io::copy(&mut s_read, &mut c_write);
    let _ = c_write.shutdown(std::net::Shutdown::Write);
    let _ = forward.join();
}
