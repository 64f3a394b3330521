//! `caller_kind`: a best guess at what made a request, from its address facts, user agent and
//! identity. It is a label for reports, never an input to the verdict.
//!
//! | kind | when |
//! |---|---|
//! | `acr_tasks` | the address is in an `AzureContainerRegistry*` tag, or the agent is ACR's builder |
//! | `container_apps` | from a subnet delegated to `Microsoft.App/environments` |
//! | `app_service` | from a subnet delegated to `Microsoft.Web/serverFarms`, or an App Service agent |
//! | `github_actions` | a GitHub Actions agent or identity |
//! | `aks` | containerd / CRI-O from a private address (a node in a VNet) |
//! | `aci` | containerd from a Microsoft public address tied to no subnet (Container Instances) |
//! | `docker_cli`, `helm`, `oras`, `crane`, `azure_cli` | by user agent |
//! | `unknown` | nothing matched |

use acrlens_netmap::IpFacts;

/// Guesses the kind of caller.
pub fn caller_kind(
    facts: Option<&IpFacts<'_>>,
    user_agent: Option<&str>,
    identity: Option<&str>,
) -> &'static str {
    with_identity(agent_kind(facts, user_agent), identity)
}

/// The kind from the address facts and user agent alone. Batches look it up once per distinct
/// caller and agent; [`with_identity`] then applies the one rule that reads the identity.
pub fn agent_kind(facts: Option<&IpFacts<'_>>, user_agent: Option<&str>) -> &'static str {
    let ua = user_agent.unwrap_or("");
    let has = |text: &str, needle: &str| contains_ignore_case(text, needle);
    let starts = |needle: &str| {
        ua.get(..needle.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(needle))
    };
    let in_acr_tag = facts.is_some_and(|f| {
        f.tags
            .iter()
            .any(|t| t.system_service == "AzureContainerRegistry")
    });
    let delegated = |service: &str| {
        facts.and_then(|f| f.subnet).is_some_and(|s| {
            s.delegations
                .iter()
                .any(|d| d.eq_ignore_ascii_case(service))
        })
    };
    let runtime = starts("containerd/") || starts("cri-o/");
    if in_acr_tag || has(ua, "acr-builder") {
        "acr_tasks"
    } else if delegated("Microsoft.App/environments") {
        "container_apps"
    } else if delegated("Microsoft.Web/serverFarms") || has(ua, "app service") {
        "app_service"
    } else if has(ua, "github-actions") {
        "github_actions"
    } else if runtime && facts.is_some_and(|f| f.scope.is_internal()) {
        "aks"
    } else if runtime && facts.is_some_and(|f| f.is_azure() && f.subnet.is_none()) {
        "aci"
    } else if starts("helm/") {
        "helm"
    } else if starts("oras/") {
        "oras"
    } else if starts("crane/") || has(ua, "go-containerregistry") {
        "crane"
    } else if has(ua, "azurecli") || has(ua, "azure-cli") {
        "azure_cli"
    } else if starts("docker/") {
        "docker_cli"
    } else {
        "unknown"
    }
}

/// A GitHub identity makes a caller `github_actions` unless its address or agent already
/// named a more specific kind (ACR Tasks, Container Apps, App Service).
pub fn with_identity(kind: &'static str, identity: Option<&str>) -> &'static str {
    match kind {
        "acr_tasks" | "container_apps" | "app_service" | "github_actions" => kind,
        _ if contains_ignore_case(identity.unwrap_or(""), "github") => "github_actions",
        _ => kind,
    }
}

/// Whether `text` contains `needle` (ASCII, any case) without allocating.
fn contains_ignore_case(text: &str, needle: &str) -> bool {
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || text
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_name_their_tools() {
        let kind = |ua: &str| caller_kind(None, Some(ua), None);
        assert_eq!(kind("Helm/3.15.4"), "helm");
        assert_eq!(kind("oras/1.2.0"), "oras");
        assert_eq!(kind("go-containerregistry/v0.19"), "crane");
        assert_eq!(kind("AZURECLI/2.66.0"), "azure_cli");
        assert_eq!(kind("docker/27.3.1 go/go1.22.7"), "docker_cli");
        assert_eq!(kind("GitHub-Actions docker/26.1.3"), "github_actions");
        assert_eq!(kind("acr-builder/1.0"), "acr_tasks");
        assert_eq!(kind("curl/8.5"), "unknown");
        assert_eq!(
            caller_kind(None, None, Some("sp-GitHub-deploy")),
            "github_actions"
        );
    }
}
