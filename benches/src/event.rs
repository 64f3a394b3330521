//! A log event as the generators model it, before it is rendered into an export shape.

/// Which table an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// `ContainerRegistryRepositoryEvents`.
    Repository,
    /// `ContainerRegistryLoginEvents`.
    Login,
}

impl Category {
    /// Azure Monitor's name for the category.
    pub fn name(self) -> &'static str {
        match self {
            Category::Repository => "ContainerRegistryRepositoryEvents",
            Category::Login => "ContainerRegistryLoginEvents",
        }
    }
}

/// One request to a registry, with the values as the registry logs them.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    /// Event time, µs since the epoch (whole milliseconds, so every shape can carry it).
    pub time: i64,
    /// Table.
    pub category: Category,
    /// `Pull`, `Push`, `Login`, …
    pub operation: &'static str,
    /// Login server, as logged.
    pub login_server: String,
    /// Registry resource id, upper-case as resource logs write it.
    pub resource_id: String,
    /// Region of the registry.
    pub location: &'static str,
    /// Repository (repository events only).
    pub repository: Option<String>,
    /// Tag, or the digest for a pull by digest.
    pub tag: Option<String>,
    /// Manifest digest.
    pub digest: Option<String>,
    /// Manifest media type.
    pub media_type: Option<&'static str>,
    /// OCI artifact type.
    pub artifact_type: Option<&'static str>,
    /// Bytes.
    pub size: Option<i64>,
    /// Duration as the logs write it: a string of milliseconds.
    pub duration_ms: String,
    /// HTTP status.
    pub status: u16,
    /// Caller identity.
    pub identity: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Correlation id.
    pub correlation_id: String,
    /// Token id.
    pub jwt_id: Option<String>,
    /// Caller address as logged (may carry a port, be `<nil>`, or junk).
    pub caller_ip: Option<String>,
    /// Tenant of the caller.
    pub tenant_id: &'static str,
}
