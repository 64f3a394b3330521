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
    let ua = user_agent.unwrap_or("").to_ascii_lowercase();
    let identity = identity.unwrap_or("").to_ascii_lowercase();
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
    let runtime = ua.starts_with("containerd/") || ua.starts_with("cri-o/");
    if in_acr_tag || ua.contains("acr-builder") {
        "acr_tasks"
    } else if delegated("Microsoft.App/environments") {
        "container_apps"
    } else if delegated("Microsoft.Web/serverFarms") || ua.contains("app service") {
        "app_service"
    } else if ua.contains("github-actions") || identity.contains("github") {
        "github_actions"
    } else if runtime && facts.is_some_and(|f| f.scope.is_internal()) {
        "aks"
    } else if runtime && facts.is_some_and(|f| f.is_azure() && f.subnet.is_none()) {
        "aci"
    } else if ua.starts_with("helm/") {
        "helm"
    } else if ua.starts_with("oras/") {
        "oras"
    } else if ua.starts_with("crane/") || ua.contains("go-containerregistry") {
        "crane"
    } else if ua.contains("azurecli") || ua.contains("azure-cli") {
        "azure_cli"
    } else if ua.starts_with("docker/") {
        "docker_cli"
    } else {
        "unknown"
    }
}
