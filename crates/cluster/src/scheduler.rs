//! `acrlens scheduler`: Ballista's scheduler with acrlens's codecs and the topology check.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use ballista_core::utils::default_session_builder;
use ballista_scheduler::cluster::{BallistaCluster, ClusterStateEvent};
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service};
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use futures::StreamExt;

use crate::codec::{LogicalCodec, PhysicalCodec};
use crate::options::{check, with_fingerprint};
use crate::windows::SortedWindowKeys;
use crate::{ClusterTopology, MAX_MESSAGE, ServerError};

/// How a scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Where it listens for clients and executors.
    pub bind: SocketAddr,
    /// The name executors and clients reach it by (its address when not given).
    pub external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor is taken for lost (and the queries
    /// running then are cancelled).
    pub executor_timeout: u64,
}

/// Runs a scheduler until Ctrl-C or SIGTERM.
pub async fn scheduler(
    options: SchedulerOptions,
    topology: ClusterTopology,
) -> Result<(), ServerError> {
    let fingerprint = topology.fingerprint.clone();
    let mut config = SchedulerConfig {
        bind_host: options.bind.ip().to_string(),
        bind_port: options.bind.port(),
        external_host: options
            .external_host
            .unwrap_or_else(|| options.bind.ip().to_string()),
        executor_timeout_seconds: options.executor_timeout,
        no_executors_grace_period_seconds: options.executor_timeout,
        expire_dead_executor_interval_seconds: (options.executor_timeout / 4).max(1),
        grpc_server_max_decoding_message_size: MAX_MESSAGE,
        grpc_server_max_encoding_message_size: MAX_MESSAGE,
        grpc_client_max_message_size: MAX_MESSAGE,
        task_max_failures: 1,
        stage_max_failures: 1,
        ..SchedulerConfig::default()
    };
    config.override_config_producer = Some(Arc::new(move || {
        with_fingerprint(SessionConfig::new_with_ballista(), "")
    }));
    // A session planned against another topology is refused before anything is planned.
    config.override_session_builder = Some(Arc::new(move |session: SessionConfig| {
        check(&session, &fingerprint, "scheduler")?;
        Ok(
            SessionStateBuilder::new_from_existing(default_session_builder(session)?)
                .with_physical_optimizer_rule(Arc::new(SortedWindowKeys))
                .build(),
        )
    }));
    config.override_logical_codec = Some(Arc::new(LogicalCodec::new(topology.topology.clone())));
    config.override_physical_codec = Some(Arc::new(PhysicalCodec::new(topology.topology.clone())));
    let cluster = BallistaCluster::new_from_config(&config).await?;
    let scheduler =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config)).await?;
    let lost = cancel_on_lost_executor(scheduler.clone()).await?;
    let served = tokio::select! {
        served = start_grpc_service(options.bind, scheduler) => served.map_err(ServerError::from),
        signal = stop_signal() => signal.map_err(ServerError::from),
    };
    lost.abort();
    served
}

/// Cancels every running query when an executor leaves the cluster (lost, or stopped).
///
/// Ballista would re-run the lost executor's part of each query instead, but that recovery is
/// not to be trusted: with an executor killed mid-query it answered a count 4% too high, and
/// hung on another run. A query that fails can be run again; a wrong answer in an audit cannot
/// be taken back. The same is why tasks and stages are not retried (`task_max_failures` and
/// `stage_max_failures` are 1).
async fn cancel_on_lost_executor(
    scheduler: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>,
) -> Result<tokio::task::JoinHandle<()>, ServerError> {
    let mut events = scheduler.cluster_state_events().await?;
    Ok(tokio::spawn(async move {
        while let Some(event) = events.next().await {
            let ClusterStateEvent::RemovedExecutor { executor_id } = event else {
                continue;
            };
            let jobs: Vec<_> = scheduler
                .state
                .task_manager
                .get_running_job_cache()
                .keys()
                .cloned()
                .collect();
            for job in jobs {
                log::warn!(
                    "executor {executor_id} left the cluster during query {job}: the query is \
                     cancelled, not recovered; run it again"
                );
                if let Err(e) = scheduler.cancel_job(job.clone()).await {
                    log::error!("cannot cancel query {job}: {e}");
                }
            }
        }
    }))
}

/// Waits for Ctrl-C or (on Unix) SIGTERM, as a service manager sends.
pub(crate) async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
