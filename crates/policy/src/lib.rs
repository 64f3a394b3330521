//! The compliance policy: rules a security engineer writes in TOML without reading code.
//!
//! ```toml
//! [[rule]]
//! name = "prod images only over private endpoints"
//! severity = "high"                      # low | medium | high | critical
//! kind = "allowed_paths"
//! registries = ["contoso.azurecr.io"]    # optional: the rule applies to these only
//! repositories = ["prod/*"]              # optional: glob patterns
//! paths = ["private_endpoint"]
//!
//! [[rule]]
//! name = "no unexplained access"
//! kind = "no_unexplained"
//!
//! [[rule]]
//! name = "trusted-service bypass only for our Container Instances"
//! kind = "trusted_bypass"
//! identities = ["synthetic-mi-aci-batch"]
//! caller_kinds = ["aci"]
//!
//! [[rule]]
//! name = "firewall denials stay low"
//! kind = "denied_spike"
//! max_per_hour = 5
//!
//! [[rule]]
//! name = "IP rules stay few and used"
//! kind = "ip_rules"
//! max_rules = 20
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Why a policy could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(String, #[source] std::io::Error),
    /// The file is not a valid policy; the message names the line.
    #[error("{file}: line {line}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// How bad a violation is; read and written by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Should be fixed.
    #[default]
    Medium,
    /// Must be fixed.
    High,
    /// Stop the line.
    Critical,
}

impl Severity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What a rule checks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Requests that got in may only have used these access paths.
    AllowedPaths {
        /// The allowed paths.
        paths: Vec<String>,
    },
    /// No request may be `unexplained`.
    NoUnexplained {},
    /// No public-internet or public-Azure request to a registry whose public access is disabled
    /// (such a request can only be `unexplained`, or the configuration is stale).
    NoPublicWhenDisabled {},
    /// The trusted-service bypass only for these identities or caller kinds.
    TrustedBypass {
        /// Identities allowed to use the bypass.
        #[serde(default)]
        identities: Vec<String>,
        /// Caller kinds allowed to use the bypass.
        #[serde(default)]
        caller_kinds: Vec<String>,
    },
    /// At most this many firewall denials in any hour.
    DeniedSpike {
        /// The limit per hour.
        max_per_hour: u64,
    },
    /// IP rules: at most this many, and none that matched no caller in the period.
    IpRules {
        /// The most rules a registry may have.
        max_rules: Option<u64>,
        /// Flag rules no request matched in the period (default true).
        #[serde(default = "yes")]
        flag_unused: bool,
    },
}

fn yes() -> bool {
    true
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Rule {
    /// Its name, shown in the report.
    pub name: String,
    /// How bad a violation is.
    #[serde(default)]
    pub severity: Severity,
    /// The registries it applies to (login servers); all when empty.
    #[serde(default)]
    pub registries: Vec<String>,
    /// Repository glob patterns (`prod/*`) it applies to; all when empty.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// What it checks.
    #[serde(flatten)]
    pub check: Check,
}

/// A policy: its rules, in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The rules.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

impl Policy {
    /// The policy used without a policy file: no unexplained requests, and no public pulls of
    /// registries whose public access is disabled.
    pub fn default_policy() -> Policy {
        Policy {
            rules: vec![
                Rule {
                    name: "no unexplained access".into(),
                    severity: Severity::High,
                    registries: Vec::new(),
                    repositories: Vec::new(),
                    check: Check::NoUnexplained {},
                },
                Rule {
                    name: "no public access while public network access is disabled".into(),
                    severity: Severity::High,
                    registries: Vec::new(),
                    repositories: Vec::new(),
                    check: Check::NoPublicWhenDisabled {},
                },
            ],
        }
    }

    /// Parses a policy from TOML text; errors name the line.
    pub fn parse(text: &str, file: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| PolicyError::Invalid {
            file: file.to_owned(),
            line: e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            }),
            message: e.message().to_owned(),
        })?;
        let paths: Vec<&str> = acrlens_attrib::AccessPath::ALL
            .iter()
            .map(|a| a.name())
            .collect();
        let kinds: Vec<&str> = acrlens_attrib::CallerKind::ALL
            .iter()
            .map(|k| k.name())
            .collect();
        for rule in &policy.rules {
            let (values, known, what) = match &rule.check {
                Check::AllowedPaths { paths: values } => (values, &paths, "access path"),
                Check::TrustedBypass { caller_kinds, .. } => (caller_kinds, &kinds, "caller kind"),
                _ => continue,
            };
            if let Some(bad) = values.iter().find(|v| !known.contains(&v.as_str())) {
                let line = text
                    .find(&format!("\"{bad}\""))
                    .map_or(1, |at| text[..at].matches('\n').count() + 1);
                return Err(PolicyError::Invalid {
                    file: file.to_owned(),
                    line,
                    message: format!(
                        "unknown {what} {bad:?} in rule {:?} (known: {})",
                        rule.name,
                        known.join(", ")
                    ),
                });
            }
        }
        Ok(policy)
    }

    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read(file.clone(), e))?;
        Policy::parse(&text, &file)
    }
}

/// A repository glob (`*` any run, `?` one character) as a SQL LIKE pattern (`\` escapes).
pub fn glob_to_like(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len());
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses() {
        let text = r#"
[[rule]]
name = "prod private"
severity = "critical"
kind = "allowed_paths"
repositories = ["prod/*"]
paths = ["private_endpoint"]

[[rule]]
name = "bypass"
kind = "trusted_bypass"
caller_kinds = ["aci"]

[[rule]]
name = "spikes"
kind = "denied_spike"
max_per_hour = 3

[[rule]]
name = "rules"
kind = "ip_rules"
max_rules = 2
"#;
        let p = Policy::parse(text, "p.toml").unwrap();
        assert_eq!(p.rules.len(), 4);
        assert_eq!(p.rules[0].severity, Severity::Critical);
        assert_eq!(p.rules[1].severity, Severity::Medium);
        assert_eq!(
            p.rules[3].check,
            Check::IpRules {
                max_rules: Some(2),
                flag_unused: true
            }
        );
    }

    #[test]
    fn errors_name_the_line() {
        let bad_path = "[[rule]]\nname = \"x\"\nkind = \"allowed_paths\"\npaths = [\"private_endpoint\", \"vpn\"]\n";
        let e = Policy::parse(bad_path, "p.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("p.toml: line 4: unknown access path \"vpn\""),
            "{e}"
        );
        let bad_caller =
            "[[rule]]\nname = \"x\"\nkind = \"trusted_bypass\"\n\ncaller_kinds = [\"aci \"]\n";
        let e = Policy::parse(bad_caller, "p.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("p.toml: line 5: unknown caller kind \"aci \"")
                && e.contains("acr_tasks"),
            "{e}"
        );
        let bad_kind = "[[rule]]\nname = \"x\"\nkind = \"teleport\"\n";
        let e = Policy::parse(bad_kind, "p.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("p.toml: line 1:") && e.contains("teleport"),
            "{e}"
        );
        let typo =
            "[[rule]]\nname = \"x\"\nkind = \"denied_spike\"\nmax_per_hour = 3\nmax_per_day = 9\n";
        let e = Policy::parse(typo, "p.toml").unwrap_err().to_string();
        assert!(e.contains("max_per_day"), "{e}");
    }

    #[test]
    fn globs_become_escaped_like_patterns() {
        assert_eq!(glob_to_like("prod/*"), "prod/%");
        assert_eq!(glob_to_like("a_b?%"), "a\\_b_\\%");
    }
}
