//! The decision table replayed against a proposed configuration: which path a request would
//! have taken had another configuration been in force, given the path it did take.
//!
//! The log says what the firewall did under the configuration in force; a proposal can only be
//! judged from there. Where the proposal's rules let the caller in, the path follows from the
//! rules alone. Where they deny it, only the trusted-service bypass could still let it in, and
//! whether a caller is a trusted service is not in the log: a caller that went through the
//! bypass before still does (if the proposal keeps the bypass), a caller that came in by a rule
//! or open access passes the bypass only when its kind is a trusted service
//! ([`is_trusted_kind`]), and a request the rules denied before keeps its outcome unless the
//! proposal newly opens the bypass to a trusted kind.

use acrlens_netmap::RegistryConfig;

use crate::kind::CallerKind;
use crate::verdict::{AccessPath, Request, TASKS_LEFT_TRUSTED_SERVICES};

/// Whether a caller kind is one of the trusted services the bypass admits: Container
/// Instances, and ACR Tasks (since 2025-03-08 only with the Tasks flag). Defender for Cloud,
/// Machine Learning and ACR import are trusted too, but no caller kind names them.
pub fn is_trusted_kind(kind: &str) -> bool {
    matches!(
        CallerKind::from_name(kind),
        Some(CallerKind::Aci | CallerKind::AcrTasks)
    )
}

/// Whether `config`'s bypass lets this request's caller through when the rules deny it.
fn bypass_admits(config: &RegistryConfig, r: &Request<'_, '_>) -> bool {
    config.bypass_azure_services
        && (!r.is_task
            || r.time < TASKS_LEFT_TRUSTED_SERVICES
            || config.bypass_for_tasks == Some(true))
}

/// The path `r` would have taken under `proposed` instead of `met`, the configuration in force
/// at its time, against which it took `before` (the verdict of [`crate::decide`]). `kind` is
/// the caller's kind. Replaying `met` itself gives `before` back.
pub fn replay(
    r: &Request<'_, '_>,
    before: AccessPath,
    met: &RegistryConfig,
    proposed: &RegistryConfig,
    kind: &str,
) -> AccessPath {
    let Some(facts) = r.facts else {
        return before;
    };
    if facts.scope.is_internal() {
        // Private callers come through a private endpoint, which no firewall rule governs.
        return before;
    }
    if proposed.allows_public(facts.ip).is_some() {
        return AccessPath::IpRule;
    }
    if proposed.open_to_all() {
        return if facts.is_azure() {
            AccessPath::PublicAzure
        } else {
            AccessPath::PublicInternet
        };
    }
    // The proposal's rules deny the caller: only the bypass can still let it in.
    let bypass = facts.is_azure() && bypass_admits(proposed, r);
    let trusted = bypass && is_trusted_kind(kind);
    match before {
        AccessPath::TrustedService | AccessPath::Unexplained if bypass => {
            AccessPath::TrustedService
        }
        AccessPath::TrustedService => AccessPath::Denied,
        AccessPath::Denied if trusted && !bypass_admits(met, r) => AccessPath::TrustedService,
        AccessPath::IpRule | AccessPath::PublicAzure | AccessPath::PublicInternet if trusted => {
            AccessPath::TrustedService
        }
        AccessPath::IpRule | AccessPath::PublicAzure | AccessPath::PublicInternet => {
            AccessPath::Denied
        }
        other => other,
    }
}
