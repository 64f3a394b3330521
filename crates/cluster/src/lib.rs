//! acrlens-cluster: the same SQL and reports on Apache DataFusion Ballista.
//!
//! [`scheduler`] and [`executor`] run Ballista's scheduler and executor with acrlens's codecs,
//! so plans that use its functions and topology tables can cross process boundaries; [`session`]
//! is a client session whose queries the scheduler plans and the executors run. Every process
//! loads its topology from its own project file and carries the topology's fingerprint: a
//! scheduler or executor refuses a session planned against another one.
//!
//! The store is read where the processes see it: a folder shared by every machine (the same
//! path on each), since the scheduler lists it and the executors read its files.

mod client;
mod codec;
mod executor;
mod log;
mod options;
mod scheduler;
mod windows;

use std::path::Path;

use acrlens_netmap::{LazyTopology, TopologyError, fingerprint};

pub use client::{ClientError, session};
pub use codec::{LogicalCodec, PhysicalCodec};
pub use executor::{ExecutorOptions, executor};
pub use log::init as init_log;
pub use scheduler::{SchedulerOptions, scheduler};

/// The largest gRPC message any process of the cluster sends or takes (Ballista's default is
/// 16 MiB). A report keeps aggregates between its queries as in-memory tables, and they travel
/// inside the plans that read them: over a 20 M-event store one of them passed 16 MiB.
const MAX_MESSAGE: u32 = 256 << 20;

/// The topology of one process of a cluster, with its fingerprint.
#[derive(Debug, Clone)]
pub struct ClusterTopology {
    /// The topology, loaded when first used.
    pub topology: LazyTopology,
    /// [`acrlens_netmap::fingerprint`] of its files.
    pub fingerprint: String,
}

impl ClusterTopology {
    /// The topology a project file names (the empty one without), its files hashed now.
    pub fn from_file(config: Option<&Path>) -> Result<ClusterTopology, TopologyError> {
        Ok(ClusterTopology {
            fingerprint: fingerprint(config)?,
            topology: LazyTopology::from_file(config.map(Path::to_path_buf)),
        })
    }

    /// The fingerprint, shortened for messages.
    pub fn short(&self) -> &str {
        &self.fingerprint[..self.fingerprint.len().min(12)]
    }
}

/// The error of a scheduler or executor process.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Ballista failed (binding, registering, serving).
    #[error(transparent)]
    Ballista(#[from] ballista_core::error::BallistaError),
    /// Setting up the codecs or the session failed.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Waiting for a signal failed.
    #[error("cannot wait for a stop signal: {0}")]
    Signal(#[from] std::io::Error),
}
