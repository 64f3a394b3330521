//! The canonical event schema: one Arrow schema for both log categories and every input shape.
//!
//! It is written unchanged to Parquet, so its column names and types are a contract with every
//! engine that reads the store; change them only with a migration.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Column names of the canonical schema, in schema order.
pub mod col {
    /// Event time, µs since the epoch, UTC.
    pub const TIME: &str = "time";
    /// `ContainerRegistryRepositoryEvents` or `ContainerRegistryLoginEvents`.
    pub const CATEGORY: &str = "category";
    /// `Pull`, `Push`, `Delete`, `Untag`, `Login`, …
    pub const OPERATION: &str = "operation";
    /// The registry's login server, lower-case.
    pub const REGISTRY: &str = "registry";
    /// The registry's ARM resource id, lower-case.
    pub const RESOURCE_ID: &str = "resource_id";
    /// The registry's Azure region.
    pub const REGION: &str = "region";
    /// Repository name.
    pub const REPOSITORY: &str = "repository";
    /// Tag (or digest, for a pull by digest).
    pub const TAG: &str = "tag";
    /// Manifest digest.
    pub const DIGEST: &str = "digest";
    /// Manifest media type.
    pub const MEDIA_TYPE: &str = "media_type";
    /// OCI artifact type.
    pub const ARTIFACT_TYPE: &str = "artifact_type";
    /// Size in bytes.
    pub const SIZE_BYTES: &str = "size_bytes";
    /// Request duration in milliseconds.
    pub const DURATION_MS: &str = "duration_ms";
    /// HTTP status of the request.
    pub const STATUS: &str = "status";
    /// Caller identity (user, service principal, managed identity, token).
    pub const IDENTITY: &str = "identity";
    /// HTTP user agent.
    pub const USER_AGENT: &str = "user_agent";
    /// Correlation id of the request.
    pub const CORRELATION_ID: &str = "correlation_id";
    /// Id of the token used.
    pub const JWT_ID: &str = "jwt_id";
    /// Caller IP, canonical text, port stripped; NULL when missing or unparseable.
    pub const CALLER_IP: &str = "caller_ip";
    /// Caller IP exactly as logged.
    pub const CALLER_IP_RAW: &str = "caller_ip_raw";
    /// Lineage: the input the record came from.
    pub const SOURCE: &str = "source";
    /// Lineage: the 1-based line of the record in its input.
    pub const SOURCE_LINE: &str = "source_line";
}

/// The data type of the `time` column: microseconds, UTC.
pub fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The canonical event schema (shared, built once).
pub fn event_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let text = |name: &str| Field::new(name, DataType::Utf8, true);
            Arc::new(Schema::new(vec![
                Field::new(col::TIME, time_type(), false),
                text(col::CATEGORY),
                text(col::OPERATION),
                text(col::REGISTRY),
                text(col::RESOURCE_ID),
                text(col::REGION),
                text(col::REPOSITORY),
                text(col::TAG),
                text(col::DIGEST),
                text(col::MEDIA_TYPE),
                text(col::ARTIFACT_TYPE),
                Field::new(col::SIZE_BYTES, DataType::Int64, true),
                Field::new(col::DURATION_MS, DataType::Float64, true),
                Field::new(col::STATUS, DataType::Int32, true),
                text(col::IDENTITY),
                text(col::USER_AGENT),
                text(col::CORRELATION_ID),
                text(col::JWT_ID),
                text(col::CALLER_IP),
                text(col::CALLER_IP_RAW),
                // The same text in every row of an input: held once per batch.
                Field::new(
                    col::SOURCE,
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                    false,
                ),
                Field::new(col::SOURCE_LINE, DataType::Int64, false),
            ]))
        })
        .clone()
}

/// The two log categories, spelled as Azure Monitor spells them.
pub mod category {
    /// Pulls, pushes, deletes and untags.
    pub const REPOSITORY_EVENTS: &str = "ContainerRegistryRepositoryEvents";
    /// Logins (`docker login`, `az acr login`, token exchanges).
    pub const LOGIN_EVENTS: &str = "ContainerRegistryLoginEvents";
}
