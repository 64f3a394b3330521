//! A client session on a cluster: queries are planned by the scheduler and run on the
//! executors, over a store every process sees.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use acrlens_engine::{EventSource, Session, register};
use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::codec::LogicalCodec;
use crate::options::with_fingerprint;
use crate::{ClusterTopology, MAX_MESSAGE};

/// Why a client session could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address is not `df://HOST:PORT`.
    #[error("{0:?} is not a cluster address: give df://HOST:PORT (the scheduler's)")]
    Address(String),
    /// Nothing answers there.
    #[error("cannot reach the scheduler at {address}: {reason}")]
    Unreachable {
        /// The address given.
        address: String,
        /// What the connection said.
        reason: String,
    },
    /// The session could not be set up.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
}

/// How long the scheduler has to answer the first connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A session whose queries run on the cluster at `address` (`df://HOST:PORT`, the scheduler),
/// with `events` over the store `store`, the topology tables and functions of `topology`.
pub async fn session(
    address: &str,
    store: PathBuf,
    topology: &ClusterTopology,
) -> Result<Session, ClientError> {
    let host_port = address
        .strip_prefix("df://")
        .filter(|rest| {
            rest.rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
        })
        .ok_or_else(|| ClientError::Address(address.to_owned()))?;
    let url = format!("http://{host_port}");
    let unreachable = |reason: String| ClientError::Unreachable {
        address: address.to_owned(),
        reason,
    };
    // Ballista connects at the first query; a scheduler that is not there is said now.
    match tokio::time::timeout(CONNECT_TIMEOUT, SchedulerGrpcClient::connect(url.clone())).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(unreachable(connection_reason(&e))),
        Err(_) => return Err(unreachable(format!("no answer within {CONNECT_TIMEOUT:?}"))),
    }
    let config = with_fingerprint(SessionConfig::new_with_ballista(), &topology.fingerprint)
        .with_information_schema(true)
        // With Ballista's adaptive planner, a window function in a plan of one stage came back
        // without its window (the rows of the scan under it): the static planner is used.
        .with_ballista_adaptive_query_planner(false)
        .with_ballista_grpc_client_max_message_size(MAX_MESSAGE as usize)
        .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::new(
            topology.topology.clone(),
        )));
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .build()
        .upgrade_for_ballista(url)?;
    let ctx = SessionContext::new_with_state(state);
    let quarantined = register(&ctx, EventSource::Store(store), topology.topology.clone()).await?;
    Ok(Session { ctx, quarantined })
}

/// A connection error with its causes ("transport error: Connection refused").
fn connection_reason(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
