//! `acrlens scheduler`, `acrlens executor` and `--cluster`: real processes on loopback ports,
//! compared with the same work done in one process.

mod common;

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use common::{acrlens, assert_exit, stdout};

const CONFIG: &str = "sample-logs/topology/acrlens.toml";

/// Child processes, killed when dropped (a failed test leaves none behind).
#[derive(Default)]
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts `acrlens args…` in the repository root, its stderr kept in `log`.
fn spawn(args: &[&str], log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_acrlens"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(File::create(log).expect("create a log"))
        .spawn()
        .expect("start acrlens")
}

/// Waits until `port` accepts connections, failing if `child` exits first.
fn wait_listening(child: &mut Child, port: u16, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the process exited ({status}) before listening on {port}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A scheduler and executors on loopback, and a store of the sample logs.
struct Cluster {
    address: String,
    store: PathBuf,
    dir: tempfile::TempDir,
    processes: Processes,
}

impl Cluster {
    /// A scheduler loading `CONFIG`, and one executor per entry of `executors`, each loading
    /// the project file it names (none: the empty topology).
    fn start(executors: &[Option<&str>]) -> Cluster {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = dir.path().join("store");
        let out = acrlens(&[
            "ingest",
            "sample-logs/exports",
            "--config",
            CONFIG,
            "--store",
            store.to_str().expect("a UTF-8 path"),
            "--quiet",
        ]);
        assert_exit(&out, 0);
        let mut processes = Processes::default();
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let log = dir.path().join("scheduler.log");
        let mut scheduler = spawn(
            &[
                "scheduler",
                "--bind",
                &bind,
                "--config",
                CONFIG,
                "--executor-timeout",
                "4",
            ],
            &log,
        );
        wait_listening(&mut scheduler, port, &log);
        processes.0.push(scheduler);
        for (i, config) in executors.iter().enumerate() {
            let (flight, grpc) = (free_port(), free_port());
            let executor_bind = format!("127.0.0.1:{flight}");
            let grpc = grpc.to_string();
            let work = dir.path().join(format!("executor-{i}"));
            std::fs::create_dir(&work).expect("the executor's folder");
            let mut args = vec![
                "executor",
                "--scheduler",
                &bind,
                "--bind",
                &executor_bind,
                "--grpc-port",
                &grpc,
                "--slots",
                "2",
                "--heartbeat",
                "1",
                "--work-dir",
                work.to_str().expect("a UTF-8 path"),
            ];
            if let Some(config) = config {
                args.extend(["--config", config]);
            }
            let log = dir.path().join(format!("executor-{i}.log"));
            let mut executor = spawn(&args, &log);
            wait_listening(&mut executor, flight, &log);
            processes.0.push(executor);
        }
        Cluster {
            address: format!("df://{bind}"),
            store,
            dir,
            processes,
        }
    }

    /// `acrlens query` over the store with `args`, here (`cluster` false) or on the cluster.
    fn query(&self, cluster: bool, args: &[&str]) -> Output {
        let mut all = vec![
            "query",
            "--store",
            self.store.to_str().expect("a UTF-8 path"),
        ];
        if cluster {
            all.extend(["--cluster", &self.address]);
        }
        all.extend(args);
        acrlens(&all)
    }

    /// Whether executor `i` wrote shuffle data for some query.
    fn executor_worked(&self, i: usize) -> bool {
        let work = self.dir.path().join(format!("executor-{i}"));
        std::fs::read_dir(work).is_ok_and(|mut entries| entries.next().is_some())
    }
}

/// The header and the rows of CSV output, the rows sorted: an ORDER BY may leave ties in any
/// order, in one process as on a cluster.
fn rows(out: &Output) -> Vec<String> {
    let text = stdout(out);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if let Some((_, rows)) = lines.split_first_mut() {
        rows.sort();
    }
    lines
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every canned query, a query of the topology tables and functions, and the sample report:
/// the same rows and the same report from the cluster as from one process.
#[test]
fn canned_queries_and_the_report_agree_with_a_local_run() {
    let cluster = Cluster::start(&[Some(CONFIG), Some(CONFIG)]);
    let mut files: Vec<_> = std::fs::read_dir(root().join("queries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the canned queries: {files:?}");
    for file in &files {
        let file = file.to_str().unwrap();
        let args = ["--config", CONFIG, "--file", file, "--format", "csv"];
        let (here, there) = (cluster.query(false, &args), cluster.query(true, &args));
        assert_exit(&here, 0);
        assert_exit(&there, 0);
        assert_eq!(rows(&there), rows(&here), "{file}");
        assert!(stdout(&here).lines().count() > 1, "{file} answers rows");
    }
    // Functions, topology tables, dates and a window whose PARTITION BY key a filter fixes.
    let sql = "WITH latest AS (SELECT login_server, ip_rules FROM (SELECT login_server, ip_rules, \
               row_number() OVER (PARTITION BY login_server ORDER BY effective_from DESC NULLS LAST) AS k \
               FROM registries WHERE login_server = 'contoso.azurecr.io') WHERE k = 1) \
               SELECT CAST(e.time AS DATE) AS day, service_tag(e.caller_ip) AS tag, ip_scope(e.caller_ip) AS scope, \
               count(*) AS n, count(DISTINCT t.tag) AS tags, max(cardinality(l.ip_rules)) AS rules \
               FROM events e LEFT JOIN service_tags t ON ip_in_cidr(e.caller_ip, t.prefix) \
               LEFT JOIN latest l ON l.login_server = e.registry \
               GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
    let args = ["--config", CONFIG, sql, "--format", "csv"];
    let (here, there) = (cluster.query(false, &args), cluster.query(true, &args));
    assert_exit(&here, 0);
    assert_exit(&there, 0);
    assert_eq!(stdout(&there), stdout(&here));
    assert!(
        stdout(&here).contains("AzureContainerRegistry"),
        "{}",
        stdout(&here)
    );
    for format in ["json", "md"] {
        let report = |cluster_args: &[&str]| {
            let mut args = vec![
                "report",
                "--store",
                cluster.store.to_str().unwrap(),
                "--config",
                CONFIG,
                "--policy",
                "sample-logs/policy.toml",
                "--format",
                format,
            ];
            args.extend(cluster_args);
            acrlens(&args)
        };
        let (here, there) = (report(&[]), report(&["--cluster", &cluster.address]));
        // The sample policy is violated on purpose: exit 1 on both.
        assert_exit(&here, 1);
        assert_exit(&there, 1);
        assert_eq!(stdout(&there), stdout(&here), "the {format} report");
    }
    assert!(
        cluster.executor_worked(0) && cluster.executor_worked(1),
        "both executors ran tasks"
    );
}

/// Waits for `child` at most `limit`.
fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// An executor killed in the middle of a query: the query fails and says why, or answers what
/// one process answers — never another number, and it does not hang.
#[test]
fn an_executor_killed_mid_query_fails_the_query_and_no_wrong_answer_comes_out() {
    let mut cluster = Cluster::start(&[Some(CONFIG), Some(CONFIG)]);
    // Long enough (seconds) to be killed in: a three-way self-join of the sample events.
    let sql = "SELECT count(*) AS n, sum(length(concat(a.repository, b.user_agent, c.identity))) AS chars \
               FROM events a JOIN events b ON a.registry = b.registry JOIN events c ON b.registry = c.registry \
               WHERE a.size_bytes + b.size_bytes > c.size_bytes";
    let here = cluster.query(false, &["--config", CONFIG, sql, "--format", "csv"]);
    assert_exit(&here, 0);
    let out = cluster.dir.path().join("query.out");
    let err = cluster.dir.path().join("query.err");
    let mut query = Command::new(env!("CARGO_BIN_EXE_acrlens"))
        .args(["query", "--store", cluster.store.to_str().unwrap()])
        .args(["--cluster", &cluster.address, "--config", CONFIG, sql])
        .args(["--format", "csv"])
        .current_dir(root())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        query.try_wait().unwrap().is_none(),
        "the query still runs when its executor is killed"
    );
    let mut victim = cluster.processes.0.remove(2);
    victim.kill().unwrap();
    victim.wait().unwrap();
    let status = wait_for(&mut query, Duration::from_secs(120));
    let (out, err) = (
        std::fs::read_to_string(out).unwrap(),
        std::fs::read_to_string(err).unwrap(),
    );
    let Some(status) = status else {
        let _ = query.kill();
        panic!("the query still runs 120 s after its executor was killed: {err}");
    };
    if status.success() {
        assert_eq!(out, stdout(&here), "a query that succeeds answers right");
    } else {
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(out.is_empty(), "a failed query writes no rows: {out}");
        assert!(
            err.contains("an executor left the cluster while it ran"),
            "the failure says why: {err}"
        );
    }
}

/// An executor whose topology differs from the client's is refused, and so is a client whose
/// topology differs from the scheduler's: each message names both fingerprints.
#[test]
fn another_topology_is_refused_with_the_fingerprints() {
    let cluster = Cluster::start(&[None]);
    let sql = "SELECT registry, count(*) FROM events GROUP BY registry";
    let executor = cluster.query(true, &["--config", CONFIG, sql]);
    assert_exit(&executor, 2);
    assert!(
        stderr(&executor).contains("topology fingerprint mismatch")
            && stderr(&executor).contains("this executor loaded empty"),
        "{}",
        stderr(&executor)
    );
    let scheduler = cluster.query(true, &[sql]);
    assert_exit(&scheduler, 2);
    assert!(
        stderr(&scheduler).contains("planned against topology empty, this scheduler loaded"),
        "{}",
        stderr(&scheduler)
    );
    assert!(stdout(&executor).is_empty() && stdout(&scheduler).is_empty());
}

#[test]
fn no_scheduler_is_exit_2_naming_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("df://127.0.0.1:{}", free_port());
    let out = acrlens(&[
        "query",
        "--store",
        dir.path().to_str().unwrap(),
        "--cluster",
        &address,
        "SELECT 1",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!("cannot reach the scheduler at {address}")),
        "{}",
        stderr(&out)
    );
    let raw = acrlens(&[
        "query",
        "--logs",
        "sample-logs/exports",
        "--cluster",
        &address,
        "SELECT 1",
    ]);
    assert_exit(&raw, 2);
}

/// SIGTERM (what a service manager sends) and SIGINT (Ctrl-C) stop an executor and the
/// scheduler cleanly: exit 0.
#[cfg(unix)]
#[test]
fn sigterm_and_ctrl_c_stop_the_processes_cleanly() {
    let mut cluster = Cluster::start(&[Some(CONFIG)]);
    // The executor first (it tells the scheduler it leaves), by SIGTERM; the scheduler by SIGINT.
    for (mut child, signal) in cluster.processes.0.drain(..).rev().zip(["-TERM", "-INT"]) {
        let term = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let status = wait_for(&mut child, Duration::from_secs(30));
        assert!(
            status.is_some_and(|s| s.success()),
            "stopped cleanly by {signal}: {status:?}"
        );
    }
}
