//! `acrlens scheduler`, `acrlens executor` and the `--cluster` option of `query` and `report`:
//! the same SQL and reports on a Ballista cluster.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;

use acrlens_cluster::{ClusterTopology, ExecutorOptions, SchedulerOptions};
use acrlens_engine::{EventSource, Session, session};
use acrlens_netmap::LazyTopology;
use anyhow::{Context, Result, bail};
use clap::Args;

use crate::topology::TopologyArgs;

/// Where `query` and `report` run.
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Run on the cluster whose scheduler is here (`acrlens scheduler`), over `--store`: a
    /// folder every machine of the cluster sees at the same path. The executors load their own
    /// topology; they must load the same files as this command's `--config`.
    #[arg(long, value_name = "df://HOST:PORT", requires = "store")]
    pub cluster: Option<String>,
}

impl ClusterArgs {
    /// Whether the work runs on a cluster.
    pub fn remote(&self) -> bool {
        self.cluster.is_some()
    }

    /// The session a query or report runs in: on this machine over `local`, or on the cluster
    /// (each process with the topology `topology` names).
    pub async fn session(
        &self,
        source: EventSource,
        topology: &TopologyArgs,
        local: LazyTopology,
    ) -> Result<Session> {
        let Some(address) = &self.cluster else {
            return Ok(session(source, local).await?);
        };
        let EventSource::Store(store) = source else {
            bail!("--cluster reads a store: give --store DIR");
        };
        let topology = cluster_topology(topology)?;
        Ok(acrlens_cluster::session(address, store, &topology).await?)
    }

    /// `error` of work that ran here or on the cluster, with a hint when the scheduler
    /// cancelled it because an executor left the cluster (it then said so in its log).
    pub fn explain(&self, error: anyhow::Error) -> anyhow::Error {
        let cancelled = format!("{error:#}").ends_with("failed: Cancelled");
        match &self.cluster {
            Some(address) if cancelled => error.context(format!(
                "the cluster at {address} cancelled the query: an executor left the cluster while \
                 it ran (the scheduler's log names it); run it again"
            )),
            _ => error,
        }
    }
}

fn cluster_topology(args: &TopologyArgs) -> Result<ClusterTopology> {
    let path = args.path();
    ClusterTopology::from_file(path.as_deref()).with_context(|| match &path {
        Some(path) => format!("reading the topology named by {}", path.display()),
        None => "reading the topology".to_owned(),
    })
}

#[derive(Args)]
pub struct SchedulerArgs {
    /// Where to listen for clients and executors.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    bind: String,
    /// The name executors and clients reach this scheduler by (default: the --bind address).
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor is taken for lost; the queries
    /// running then are cancelled (never recovered: see the README).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    executor_timeout: u64,
    #[command(flatten)]
    topology: TopologyArgs,
}

#[derive(Args)]
pub struct ExecutorArgs {
    /// The scheduler (`acrlens scheduler --bind`).
    #[arg(long, value_name = "HOST:PORT")]
    scheduler: String,
    /// Where to serve shuffle data and results (Arrow Flight).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50051")]
    bind: String,
    /// Where to take tasks from the scheduler (default: the --bind port + 1).
    #[arg(long, value_name = "PORT")]
    grpc_port: Option<u16>,
    /// The name the scheduler, other executors and clients reach this executor by (default:
    /// the --bind address).
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// How many tasks to run at once (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    slots: Option<usize>,
    /// Where to keep shuffle files (default: a temporary folder, removed at exit).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Seconds between heartbeats to the scheduler.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    heartbeat: u64,
    /// Seconds to wait for the scheduler at start-up.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    connect_timeout: u16,
    #[command(flatten)]
    topology: TopologyArgs,
}

/// `HOST:PORT` as one socket address (the first a name resolves to).
fn socket(text: &str) -> Result<SocketAddr> {
    text.to_socket_addrs()
        .with_context(|| format!("{text:?} is not HOST:PORT"))?
        .next()
        .with_context(|| format!("{text:?} resolves to no address"))
}

fn server_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server runtime")
}

pub fn scheduler(args: &SchedulerArgs, quiet: bool) -> Result<ExitCode> {
    acrlens_cluster::init_log(log_level(quiet));
    let bind = socket(&args.bind)?;
    let topology = cluster_topology(&args.topology)?;
    if !quiet {
        eprintln!("acrlens scheduler on {bind}, topology {}", topology.short());
    }
    let options = SchedulerOptions {
        bind,
        external_host: args.external_host.clone(),
        executor_timeout: args.executor_timeout,
    };
    server_runtime()?
        .block_on(acrlens_cluster::scheduler(options, topology))
        .with_context(|| format!("the scheduler on {bind}"))?;
    Ok(ExitCode::SUCCESS)
}

pub fn executor(args: &ExecutorArgs, quiet: bool) -> Result<ExitCode> {
    acrlens_cluster::init_log(log_level(quiet));
    let bind = socket(&args.bind)?;
    let (scheduler_host, scheduler_port) = args
        .scheduler
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host.to_owned(), port.parse().ok()?)))
        .with_context(|| format!("--scheduler {:?} is not HOST:PORT", args.scheduler))?;
    let topology = cluster_topology(&args.topology)?;
    // A folder this process makes is removed when the executor stops; one named is kept.
    let scratch;
    let work_dir = match &args.work_dir {
        Some(dir) => dir.clone(),
        None => {
            scratch = tempfile::Builder::new()
                .prefix("acrlens-executor-")
                .tempdir()
                .context("creating the executor's work folder (set TMPDIR or --work-dir)")?;
            scratch.path().to_path_buf()
        }
    };
    let grpc_port = match args.grpc_port {
        Some(port) => port,
        None => bind
            .port()
            .checked_add(1)
            .context("--bind's port is the last one: give --grpc-port")?,
    };
    if !quiet {
        eprintln!(
            "acrlens executor on {bind} (tasks on port {grpc_port}), scheduler {}, topology {}",
            args.scheduler,
            topology.short()
        );
    }
    let options = ExecutorOptions {
        scheduler_host,
        scheduler_port,
        bind,
        grpc_port,
        external_host: args.external_host.clone(),
        slots: args.slots.unwrap_or(0),
        work_dir,
        heartbeat: args.heartbeat,
        connect_timeout: args.connect_timeout,
    };
    server_runtime()?
        .block_on(acrlens_cluster::executor(options, topology))
        .with_context(|| format!("the executor on {bind}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Warnings and errors, or only errors with `--quiet`.
fn log_level(quiet: bool) -> log::Level {
    if quiet {
        log::Level::Error
    } else {
        log::Level::Warn
    }
}
