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
    kind_of(AddressTraits::of(facts), AgentTraits::of(user_agent))
}

/// What an address's facts say about the kind of its caller: a decoding thread keeps them with
/// the facts it shows, so that a row's kind costs no look-up of the facts themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AddressTraits {
    /// In an `AzureContainerRegistry*` tag.
    acr_tag: bool,
    /// From a subnet delegated to `Microsoft.App/environments`.
    app_environment: bool,
    /// From a subnet delegated to `Microsoft.Web/serverFarms`.
    web_farm: bool,
    /// From inside a network.
    internal: bool,
    /// A Microsoft public address tied to no subnet.
    azure_unbound: bool,
}

impl AddressTraits {
    /// The traits of an address's facts; all false without an address.
    pub(crate) fn of(facts: Option<&IpFacts<'_>>) -> Self {
        let Some(f) = facts else {
            return AddressTraits::default();
        };
        let delegated = |service: &str| {
            f.subnet.is_some_and(|s| {
                s.delegations
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(service))
            })
        };
        AddressTraits {
            acr_tag: f
                .tags
                .iter()
                .any(|t| t.system_service == "AzureContainerRegistry"),
            app_environment: delegated("Microsoft.App/environments"),
            web_farm: delegated("Microsoft.Web/serverFarms"),
            internal: f.scope.is_internal(),
            azure_unbound: f.is_azure() && f.subnet.is_none(),
        }
    }
}

/// What a user agent says about the kind of its caller: a decoding thread keeps them per
/// distinct agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AgentTraits {
    builder: bool,
    app_service: bool,
    github: bool,
    runtime: bool,
    helm: bool,
    oras: bool,
    crane: bool,
    azure_cli: bool,
    docker: bool,
}

impl AgentTraits {
    /// The traits of a user agent (none said without one).
    pub(crate) fn of(user_agent: Option<&str>) -> Self {
        let ua = user_agent.unwrap_or("");
        let has = |needle: &str| contains_ignore_case(ua, needle);
        let starts = |needle: &str| {
            ua.get(..needle.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(needle))
        };
        AgentTraits {
            builder: has("acr-builder"),
            app_service: has("app service"),
            github: has("github-actions"),
            runtime: starts("containerd/") || starts("cri-o/"),
            helm: starts("helm/"),
            oras: starts("oras/"),
            crane: starts("crane/") || has("go-containerregistry"),
            azure_cli: has("azurecli") || has("azure-cli"),
            docker: starts("docker/"),
        }
    }
}

/// The kind from what the address and the agent say, first rule that holds.
pub(crate) fn kind_of(address: AddressTraits, agent: AgentTraits) -> CallerKind {
    if address.acr_tag || agent.builder {
        CallerKind::AcrTasks
    } else if address.app_environment {
        CallerKind::ContainerApps
    } else if address.web_farm || agent.app_service {
        CallerKind::AppService
    } else if agent.github {
        CallerKind::GithubActions
    } else if agent.runtime && address.internal {
        CallerKind::Aks
    } else if agent.runtime && address.azure_unbound {
        CallerKind::Aci
    } else if agent.helm {
        CallerKind::Helm
    } else if agent.oras {
        CallerKind::Oras
    } else if agent.crane {
        CallerKind::Crane
    } else if agent.azure_cli {
        CallerKind::AzureCli
    } else if agent.docker {
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

/// Whether `text` contains `needle` (ASCII, any case) without allocating. Only the places
/// where the needle's first byte occurs (either case) are compared: the identity of every row
/// is searched for `github` when the caller kind is read.
fn contains_ignore_case(text: &str, needle: &str) -> bool {
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let Some(last_start) = text.len().checked_sub(needle.len()) else {
        return false;
    };
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    memchr::memchr2_iter(lower, upper, &text[..=last_start])
        .any(|i| text[i + 1..i + needle.len()].eq_ignore_ascii_case(rest))
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

    #[test]
    fn case_blind_search_finds_what_a_window_search_finds() {
        let naive = |text: &str, needle: &str| {
            needle.is_empty()
                || text
                    .as_bytes()
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        };
        let texts = [
            "",
            "g",
            "GitHub",
            "sp-GitHub-deploy",
            "gggithub",
            "githu",
            "xgithuB",
            "ghost-github",
            "G\u{e9}ithub github",
            "azure-cli/2.0 AZURECLI",
        ];
        let needles = ["", "g", "github", "GITHUB", "azurecli", "azure-cli", "é"];
        for text in texts {
            for needle in needles {
                assert_eq!(
                    contains_ignore_case(text, needle),
                    naive(text, needle),
                    "{text:?} {needle:?}"
                );
            }
        }
    }
}
