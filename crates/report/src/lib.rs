//! acrlens-report: compliance policy, report model and renderers.
//!
//! A [`Policy`] (TOML) lists rules a security engineer writes without reading code;
//! [`build_report`] answers them with SQL over a session's attributed `events` and builds a
//! [`Report`]; [`render`] turns it into Markdown, one self-contained HTML page, or JSON
//! (schema `acrlens.report/v1`).
//!
//! ```
//! use acrlens_report::{Check, Policy, Severity};
//!
//! let policy = Policy::parse(
//!     "[[rule]]\nname = \"prod only private\"\nseverity = \"high\"\nkind = \"allowed_paths\"\n\
//!      repositories = [\"prod/*\"]\npaths = [\"private_endpoint\"]\n",
//!     "policy.toml",
//! )
//! .unwrap();
//! assert_eq!(policy.rules[0].severity, Severity::High);
//! assert_eq!(policy.rules[0].check, Check::AllowedPaths { paths: vec!["private_endpoint".into()] });
//! assert_eq!(Policy::default_policy().rules.len(), 2);
//! ```

mod build;
mod callers;
mod changes;
mod counted;
mod model;
mod overview;
pub mod render;
mod rows;
mod rules;
mod sql;
mod trace;
mod unconfigured;
mod views;

pub use acrlens_policy::{Check, Policy, PolicyError, Rule, Severity, glob_to_like};
pub use build::build_report;
pub use model::*;
pub use sql::Window;
pub use trace::{SqlTrace, Traced};
