//! acrlens-whatif: what a firewall change would do, before anybody makes it.
//!
//! [`whatif`] replays a period of a registry's requests against a proposed configuration — the
//! configurations in force with some settings changed ([`acrlens_netmap::Proposal`]), or a whole
//! configuration in their place — through the same decision table as the verdicts, and lists the
//! callers the proposal would cut off and those it would newly let in. [`render`] writes the
//! outcome as Markdown, one HTML page, or JSON (schema `acrlens.whatif/v1`).
//!
//! ```
//! use acrlens_netmap::{Proposal, Topology, TopologyParts};
//! use acrlens_whatif::{Replayer, Target, WhatIfError};
//!
//! let topology = Topology::compile(TopologyParts::default());
//! let target = Target {
//!     registry: "contoso".into(),
//!     proposal: Proposal::parse(&["public_network_access=Disabled".into()], &[]).unwrap(),
//!     registry_config: None,
//! };
//! // Without a configuration of the registry there is nothing to replay against.
//! let err = Replayer::new(&topology, &target).err().unwrap();
//! assert!(matches!(err, WhatIfError::NoConfiguration(r) if r == "contoso.azurecr.io"));
//! ```

mod model;
pub mod render;
mod replayer;
mod scan;

use acrlens_netmap::Topology;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

pub use acrlens_report::Window;
pub use model::*;
pub use replayer::{Replayer, Row, Target};

/// Why a replay could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WhatIfError {
    /// The topology holds no configuration of the registry.
    #[error(
        "the topology holds no configuration of {0}: whatif replays its requests against the configurations in force, so name them in --config"
    )]
    NoConfiguration(String),
    /// `--registry-config` holds another registry.
    #[error("{file} is the configuration of {found}, not of {registry}")]
    OtherRegistry {
        /// The file.
        file: String,
        /// The registry it holds.
        found: String,
        /// The registry asked about.
        registry: String,
    },
    /// A `-CIDR` names no rule the registry ever had.
    #[error("ip_rules: {rule} is not an IP rule of {registry} in any configuration")]
    UnknownRule {
        /// The rule.
        rule: String,
        /// The registry.
        registry: String,
    },
    /// The proposal cannot be applied (too many rules).
    #[error("{0}")]
    Proposal(String),
    /// A column of the events is missing or of another type.
    #[error("the events' column {0} cannot be read: {1}")]
    Column(String, String),
    /// The query failed.
    #[error(transparent)]
    Query(#[from] DataFusionError),
}

/// Replays the registry's requests in the window (from the session's `events`) against the
/// proposal.
pub async fn whatif(
    ctx: &SessionContext,
    topology: &Topology,
    target: &Target,
    window: Window,
) -> Result<WhatIf, WhatIfError> {
    let mut replayer = Replayer::new(topology, target)?;
    scan::scan(ctx, &mut replayer, window.since, window.until).await?;
    Ok(replayer.finish(window.since, window.until))
}
