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

/// What made a request, as far as it can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallerKind {
    /// ACR Tasks (`az acr build`, task runs).
    AcrTasks,
    /// Azure Container Apps.
    ContainerApps,
    /// Azure App Service.
    AppService,
    /// GitHub Actions.
    GithubActions,
    /// An AKS node.
    Aks,
    /// Azure Container Instances.
    Aci,
    /// The Docker CLI.
    DockerCli,
    /// Helm.
    Helm,
    /// ORAS.
    Oras,
    /// crane / go-containerregistry.
    Crane,
    /// The Azure CLI.
    AzureCli,
    /// Nothing matched.
    Unknown,
}

impl CallerKind {
    /// Every kind.
    pub const ALL: [CallerKind; 12] = [
        CallerKind::AcrTasks,
        CallerKind::ContainerApps,
        CallerKind::AppService,
        CallerKind::GithubActions,
        CallerKind::Aks,
        CallerKind::Aci,
        CallerKind::DockerCli,
        CallerKind::Helm,
        CallerKind::Oras,
        CallerKind::Crane,
        CallerKind::AzureCli,
        CallerKind::Unknown,
    ];

    /// The value of the `caller_kind` column.
    pub fn name(self) -> &'static str {
        match self {
            CallerKind::AcrTasks => "acr_tasks",
            CallerKind::ContainerApps => "container_apps",
            CallerKind::AppService => "app_service",
            CallerKind::GithubActions => "github_actions",
            CallerKind::Aks => "aks",
            CallerKind::Aci => "aci",
            CallerKind::DockerCli => "docker_cli",
            CallerKind::Helm => "helm",
            CallerKind::Oras => "oras",
            CallerKind::Crane => "crane",
            CallerKind::AzureCli => "azure_cli",
            CallerKind::Unknown => "unknown",
        }
    }

    /// The kind a `caller_kind` value names.
    pub fn from_name(name: &str) -> Option<CallerKind> {
        CallerKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Guesses the kind of caller.
pub fn caller_kind(
    facts: Option<&IpFacts<'_>>,
    user_agent: Option<&str>,
    identity: Option<&str>,
) -> CallerKind {
    with_identity(agent_kind(facts, user_agent), identity)
}

/// The kind from the address facts and user agent alone. Batches look it up once per distinct
/// caller and agent; [`with_identity`] then applies the one rule that reads the identity.
pub fn agent_kind(facts: Option<&IpFacts<'_>>, user_agent: Option<&str>) -> CallerKind {
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
        CallerKind::AcrTasks
    } else if delegated("Microsoft.App/environments") {
        CallerKind::ContainerApps
    } else if delegated("Microsoft.Web/serverFarms") || has(ua, "app service") {
        CallerKind::AppService
    } else if has(ua, "github-actions") {
        CallerKind::GithubActions
    } else if runtime && facts.is_some_and(|f| f.scope.is_internal()) {
        CallerKind::Aks
    } else if runtime && facts.is_some_and(|f| f.is_azure() && f.subnet.is_none()) {
        CallerKind::Aci
    } else if starts("helm/") {
        CallerKind::Helm
    } else if starts("oras/") {
        CallerKind::Oras
    } else if starts("crane/") || has(ua, "go-containerregistry") {
        CallerKind::Crane
    } else if has(ua, "azurecli") || has(ua, "azure-cli") {
        CallerKind::AzureCli
    } else if starts("docker/") {
        CallerKind::DockerCli
    } else {
        CallerKind::Unknown
    }
}

/// A GitHub identity makes a caller `github_actions` unless its address or agent already
/// named a more specific kind (ACR Tasks, Container Apps, App Service).
pub fn with_identity(kind: CallerKind, identity: Option<&str>) -> CallerKind {
    use CallerKind::{AcrTasks, AppService, ContainerApps, GithubActions};
    match kind {
        AcrTasks | ContainerApps | AppService | GithubActions => kind,
        _ if contains_ignore_case(identity.unwrap_or(""), "github") => GithubActions,
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
        let kind = |ua: &str| caller_kind(None, Some(ua), None).name();
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
            CallerKind::GithubActions
        );
    }
}
