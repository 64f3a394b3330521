//! A deterministic generator of realistic resource-log exports at any size, for benchmarks and
//! memory tests. Seeded: the same arguments write the same bytes.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use acrlens_events::format_timestamp_micros;

use crate::callers::{AzurePrefixes, Callers};
use crate::event::{Category, LogEvent};
use crate::render::resource_log_line;
use crate::truth::Truth;

/// A small, fast, seeded PRNG (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `p` (in thousandths).
    pub fn permille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const REGIONS: &[&str] = &["eastus", "westeurope", "southeastasia", "australiaeast"];
const OPERATIONS: &[(&str, u64)] = &[("Pull", 820), ("Push", 90), ("Delete", 10), ("Untag", 10)];
const AGENTS: &[&str] = &[
    "containerd/1.7.20-azure",
    "docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.8.0-1015-azure os/linux arch/amd64 UpstreamClient(Docker-Client/27.3.1 \\(linux\\))",
    "GitHub-Actions docker/26.1.3 go/go1.21.10 kernel/6.5.0-1021-azure os/linux arch/amd64",
    "acr-builder/1.0 docker/24.0.7",
    "cri-o/1.28.4 go/go1.20.10 os/linux arch/amd64",
    "oras/1.2.0+Homebrew",
    "helm/v3.15.4",
];

/// Shape of the generated data.
#[derive(Debug, Clone)]
pub struct GenSpec {
    /// Events to write.
    pub events: u64,
    /// Registries.
    pub registries: u32,
    /// Days covered, starting 2025-11-03.
    pub days: u32,
    /// Seed.
    pub seed: u64,
    /// Share of malformed lines, in thousandths.
    pub malformed_permille: u64,
    /// Distinct callers; `None`: one per hundred events, at least a thousand.
    pub callers: Option<u64>,
    /// The Azure prefixes Azure callers come from.
    pub azure: AzurePrefixes,
}

impl Default for GenSpec {
    fn default() -> Self {
        GenSpec {
            events: 100_000,
            registries: 4,
            days: 3,
            seed: 42,
            malformed_permille: 1,
            callers: None,
            azure: AzurePrefixes::builtin(),
        }
    }
}

impl GenSpec {
    /// The population of callers of this run.
    pub fn callers(&self) -> Callers {
        let population = self.callers.unwrap_or((self.events / 100).max(1000));
        Callers::new(self.azure.clone(), population, self.seed)
    }
}

fn hex(rng: &mut Rng, n: usize) -> String {
    let mut s = String::with_capacity(n);
    while s.len() < n {
        s.push_str(&format!("{:016x}", rng.next_u64()));
    }
    s.truncate(n);
    s
}

fn guid(rng: &mut Rng) -> String {
    let h = hex(rng, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The `i`-th event of a run.
pub fn generated_event(rng: &mut Rng, spec: &GenSpec, callers: &Callers, i: u64) -> LogEvent {
    let start = 1_762_128_000_000_000i64; // 2025-11-03T00:00:00Z
    let span = i64::from(spec.days.max(1)) * 86_400_000_000;
    let time = start + (i as i128 * span as i128 / spec.events.max(1) as i128) as i64 / 1000 * 1000;
    // Callers keep to their own registry, mostly, and to their own identity, as in real logs.
    let (caller, caller_ip) = callers.draw(rng);
    let registries = u64::from(spec.registries.max(1));
    let registry = if rng.permille(900) {
        caller % registries
    } else {
        rng.below(registries)
    };
    let name = format!("registry{registry:02}");
    let mut roll = rng.below(1000);
    let operation = OPERATIONS
        .iter()
        .find(|(_, w)| {
            let hit = roll < *w;
            roll = roll.saturating_sub(*w);
            hit
        })
        .map_or("Login", |(op, _)| *op);
    let login = operation == "Login";
    let digest = format!("sha256:{}", hex(rng, 64));
    let status = match rng.below(100) {
        0..90 => 200,
        90..94 => 401,
        94..98 => 403,
        _ => 404,
    };
    LogEvent {
        time,
        category: if login {
            Category::Login
        } else {
            Category::Repository
        },
        operation,
        login_server: format!("{name}.azurecr.io"),
        resource_id: format!(
            "/SUBSCRIPTIONS/{}/RESOURCEGROUPS/RG-ACR-{}/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/{}",
            "00000000-0000-0000-0000-000000000000",
            registry,
            name.to_ascii_uppercase()
        ),
        location: REGIONS[registry as usize % REGIONS.len()],
        repository: (!login).then(|| format!("team{}/service-{}", rng.below(20), rng.below(200))),
        tag: (!login).then(|| {
            if rng.permille(150) {
                digest.clone()
            } else {
                format!("1.{}.{}", rng.below(40), rng.below(300))
            }
        }),
        digest: (!login).then_some(digest),
        media_type: (!login).then_some("application/vnd.oci.image.manifest.v1+json"),
        artifact_type: None,
        size: (!login).then(|| rng.below(50_000_000) as i64),
        duration_ms: format!("{}.{:06}", rng.below(2000), rng.below(1_000_000)),
        status,
        identity: Some(if caller % 2 == 0 {
            guid(&mut Rng::new(spec.seed ^ caller))
        } else {
            format!("user{}@contoso.example", caller % 500)
        }),
        user_agent: Some((*rng.pick(AGENTS)).to_owned()),
        correlation_id: guid(rng),
        jwt_id: Some(guid(rng)),
        caller_ip,
        tenant_id: "00000000-0000-0000-0000-0000000000aa",
    }
}

/// Appends malformed text in place of a record, as a damaged export would hold.
fn malformed_line(rng: &mut Rng, out: &mut Vec<u8>) {
    match rng.below(3) {
        0 => out.extend_from_slice(
            b"{\"time\": \"2025-11-03T00:00:00Z\", \"operationName\": \"Pull\"\n",
        ),
        1 => out
            .extend_from_slice(b"{\"operationName\":\"Pull\",\"callerIpAddress\":\"10.0.0.1\"}\n"),
        _ => out.extend_from_slice(b"\x00\x01garbage\n"),
    }
}

/// Resource-log JSON lines in memory, at least `bytes` long (for decode benchmarks).
pub fn lines_in_memory(bytes: usize, seed: u64) -> Vec<u8> {
    let spec = GenSpec {
        events: (bytes / 900).max(1) as u64,
        seed,
        ..GenSpec::default()
    };
    lines_of(&spec, bytes)
}

/// Resource-log JSON lines of `spec` in memory, at least `bytes` long.
pub fn lines_of(spec: &GenSpec, bytes: usize) -> Vec<u8> {
    let callers = spec.callers();
    let mut rng = Rng::new(spec.seed);
    let mut out = Vec::with_capacity(bytes + 4096);
    let mut i = 0;
    while out.len() < bytes {
        if rng.permille(spec.malformed_permille) {
            malformed_line(&mut rng, &mut out);
        } else {
            resource_log_line(&generated_event(&mut rng, spec, &callers, i), &mut out);
        }
        i += 1;
    }
    out
}

/// Writes `spec.events` records in the Storage export layout under `out`, counting each record
/// written whole into `truth` when there is one; returns the files written and the bytes in all.
pub fn write_storage_layout(
    spec: &GenSpec,
    out: &Path,
    mut truth: Option<&mut Truth>,
) -> io::Result<(Vec<PathBuf>, u64)> {
    let callers = spec.callers();
    let mut rng = Rng::new(spec.seed);
    let mut current: Option<(PathBuf, BufWriter<File>)> = None;
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut line = Vec::with_capacity(2048);
    for i in 0..spec.events {
        let event = generated_event(&mut rng, spec, &callers, i);
        let when = format_timestamp_micros(event.time);
        let path = out
            .join(format!("insights-logs-{}", Category::Repository.name().to_ascii_lowercase()))
            .join(format!("resourceId={}", "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-ACR/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/GENERATED"))
            .join(format!("y={}/m={}/d={}/h={}/m=00/PT1H.json", &when[0..4], &when[5..7], &when[8..10], &when[11..13]));
        if current.as_ref().is_none_or(|(p, _)| *p != path) {
            if let Some((_, mut w)) = current.take() {
                w.flush()?;
            }
            fs::create_dir_all(path.parent().unwrap_or(out))?;
            files.push(path.clone());
            current = Some((
                path.clone(),
                BufWriter::with_capacity(1 << 20, File::create(&path)?),
            ));
        }
        line.clear();
        if rng.permille(spec.malformed_permille) {
            malformed_line(&mut rng, &mut line);
        } else {
            resource_log_line(&event, &mut line);
            if let Some(truth) = truth.as_deref_mut() {
                truth.count(&event);
            }
        }
        total += line.len() as u64;
        if let Some((_, w)) = current.as_mut() {
            w.write_all(&line)?;
        }
    }
    if let Some((_, mut w)) = current.take() {
        w.flush()?;
    }
    Ok((files, total))
}
