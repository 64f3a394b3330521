//! The topology fingerprint in a session's configuration: a client sets it, and a scheduler
//! or executor whose own topology has another fingerprint refuses the session's work.

use std::any::Any;

use datafusion::common::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionConfig;

/// The setting's name within acrlens's settings.
const TOPOLOGY: &str = "topology";

/// acrlens's settings of a session (`acrlens.*`). Written out rather than with DataFusion's
/// `extensions_options!`, whose entries lack the `acrlens.` prefix: Ballista sends a session's
/// entries to the scheduler and executors, which could then not set them.
#[derive(Debug, Clone, Default)]
struct Options {
    /// The fingerprint of the topology the session's plans are made against.
    topology: String,
}

impl ConfigExtension for Options {
    const PREFIX: &'static str = "acrlens";
}

impl ExtensionOptions for Options {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            TOPOLOGY => {
                value.clone_into(&mut self.topology);
                Ok(())
            }
            _ => Err(DataFusionError::Configuration(format!(
                "no setting acrlens.{key}"
            ))),
        }
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        vec![ConfigEntry {
            key: format!("{}.{TOPOLOGY}", Self::PREFIX),
            value: Some(self.topology.clone()),
            description: "The fingerprint of the topology the session's plans are made against",
        }]
    }
}

/// `config` able to hold acrlens's settings, with `fingerprint` as the topology's (a server
/// starts each session's configuration with an empty one: a session that does not set it is
/// refused).
pub fn with_fingerprint(config: SessionConfig, fingerprint: &str) -> SessionConfig {
    config.with_option_extension(Options {
        topology: fingerprint.to_owned(),
    })
}

/// Fails unless the session's topology is this process's (`ours`); `role` names the process in
/// the message.
pub fn check(config: &SessionConfig, ours: &str, role: &str) -> Result<()> {
    let theirs = config
        .options()
        .extensions
        .get::<Options>()
        .map(|o| o.topology.as_str())
        .unwrap_or_default();
    if theirs == ours {
        return Ok(());
    }
    let theirs = if theirs.is_empty() {
        "none: not an acrlens client"
    } else {
        theirs
    };
    Err(DataFusionError::Configuration(format!(
        "topology fingerprint mismatch: the query was planned against topology {theirs}, \
         this {role} loaded {ours}; give every process the same --config files"
    )))
}

#[cfg(test)]
mod tests {
    use ballista_core::extension::SessionConfigHelperExt;

    use super::*;

    #[test]
    fn the_fingerprint_travels_as_a_setting_and_another_is_refused() {
        let client = with_fingerprint(SessionConfig::new(), "aaa");
        // What Ballista sends with every job and task, applied to a server's own configuration.
        let sent = client.to_key_value_pairs();
        let server = with_fingerprint(SessionConfig::new(), "").update_from_key_value_pair(&sent);
        check(&server, "aaa", "executor").unwrap();
        let error = check(&server, "bbb", "executor").unwrap_err().to_string();
        assert!(
            error.contains("planned against topology aaa, this executor loaded bbb"),
            "{error}"
        );
        let stock = SessionConfig::new();
        let error = check(&stock, "bbb", "scheduler").unwrap_err().to_string();
        assert!(error.contains("not an acrlens client"), "{error}");
    }
}
