//! `acrlens executor`: Ballista's executor with acrlens's codecs, refusing tasks of sessions
//! planned against another topology.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::JobId;
use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use datafusion::error::Result;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;

use crate::codec::{LogicalCodec, PhysicalCodec};
use crate::options::{check, with_fingerprint};
use crate::{ClusterTopology, MAX_MESSAGE, ServerError};

/// How an executor runs.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// Where it serves shuffle data and results (Arrow Flight).
    pub bind: SocketAddr,
    /// Where it takes tasks from the scheduler (gRPC).
    pub grpc_port: u16,
    /// The name the scheduler, other executors and clients reach it by (its address when not
    /// given).
    pub external_host: Option<String>,
    /// How many tasks it runs at once.
    pub slots: usize,
    /// Where it keeps shuffle files.
    pub work_dir: PathBuf,
    /// Seconds between heartbeats to the scheduler.
    pub heartbeat: u64,
    /// Seconds to wait for the scheduler at start-up.
    pub connect_timeout: u16,
}

/// Runs an executor until Ctrl-C, SIGTERM or the scheduler stops it.
pub async fn executor(
    options: ExecutorOptions,
    topology: ClusterTopology,
) -> Result<(), ServerError> {
    let fingerprint = topology.fingerprint.clone();
    // The functions the scheduler plans with: Ballista's executor would otherwise know only
    // DataFusion's core functions, not its nested ones (`cardinality`, `array_has`, …), and
    // refuse every task that uses one.
    let functions = BallistaFunctionRegistry::from(&default_session_builder(
        SessionConfig::new_with_ballista(),
    )?);
    let config = ExecutorProcessConfig {
        bind_host: options.bind.ip().to_string(),
        port: options.bind.port(),
        grpc_port: options.grpc_port,
        external_host: options.external_host,
        scheduler_host: options.scheduler_host,
        scheduler_port: options.scheduler_port,
        scheduler_connect_timeout_seconds: options.connect_timeout,
        vcores: options.slots,
        work_dir: Some(options.work_dir.display().to_string()),
        executor_heartbeat_interval_seconds: options.heartbeat,
        print_thread_info: false,
        grpc_max_decoding_message_size: MAX_MESSAGE,
        grpc_max_encoding_message_size: MAX_MESSAGE,
        override_config_producer: Some(Arc::new(move || {
            with_fingerprint(SessionConfig::new_with_ballista(), "")
                .with_ballista_grpc_client_max_message_size(MAX_MESSAGE as usize)
        })),
        override_function_registry: Some(Arc::new(functions)),
        override_execution_engine: Some(Arc::new(Checked {
            fingerprint,
            engine: DefaultExecutionEngine::new(),
        })),
        override_logical_codec: Some(Arc::new(LogicalCodec::new(topology.topology.clone()))),
        override_physical_codec: Some(Arc::new(PhysicalCodec::new(topology.topology))),
        ..ExecutorProcessConfig::default()
    };
    Ok(start_executor_process(Arc::new(config)).await?)
}

/// Ballista's execution engine, refusing every task of a session planned against another
/// topology. The check is made as a task is set up to run, so its failure, with both
/// fingerprints in the message, is the task's, and the query's (a refusal while tasks are still
/// being handed out would reach the client as a bare "rejected by executor").
struct Checked {
    fingerprint: String,
    engine: DefaultExecutionEngine,
}

impl ExecutionEngine for Checked {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> Result<Arc<dyn QueryStageExecutor>> {
        check(config, &self.fingerprint, "executor")?;
        self.engine.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )
    }
}
