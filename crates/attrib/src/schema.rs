//! The attribution columns appended to the canonical event schema.

use std::sync::{Arc, OnceLock};

use acrlens_events::event_schema;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

/// Attribution column names, in schema order.
pub mod col {
    /// `public`, `private`, `cgnat`, `loopback`, `link_local`, `documentation`, `reserved`,
    /// `invalid` (a caller that is not an address) or `missing`.
    pub const IP_SCOPE: &str = "ip_scope";
    /// VNet of the caller's subnet.
    pub const VNET: &str = "vnet";
    /// The caller's subnet.
    pub const SUBNET: &str = "subnet";
    /// The private endpoint the request came through.
    pub const PRIVATE_ENDPOINT: &str = "private_endpoint";
    /// The named range holding the caller.
    pub const NAMED_RANGE: &str = "named_range";
    /// The most specific service tag.
    pub const SERVICE_TAG: &str = "service_tag";
    /// Every matching service tag, most specific first.
    pub const SERVICE_TAGS: &str = "service_tags";
    /// The system service of the most specific service tag that has one.
    pub const AZURE_SERVICE: &str = "azure_service";
    /// The region of the most specific regional tag.
    pub const AZURE_REGION: &str = "azure_region";
    /// The service-tag change number used.
    pub const TAGS_VERSION: &str = "tags_version";
    /// The registry configuration snapshot used (its effective time, or `initial`).
    pub const CONFIG_VERSION: &str = "config_version";
    /// ISO country code.
    pub const COUNTRY: &str = "country";
    /// Autonomous system number.
    pub const ASN: &str = "asn";
    /// Autonomous system organisation.
    pub const AS_ORG: &str = "as_org";
    /// A best guess at the kind of caller.
    pub const CALLER_KIND: &str = "caller_kind";
    /// The verdict.
    pub const ACCESS_PATH: &str = "access_path";
    /// Why.
    pub const ACCESS_REASON: &str = "access_reason";
}

/// The attribution columns alone (built once: attribution consults them for every batch).
pub fn attribution_fields() -> &'static [Field] {
    static FIELDS: OnceLock<Vec<Field>> = OnceLock::new();
    FIELDS.get_or_init(build_attribution_fields)
}

fn build_attribution_fields() -> Vec<Field> {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    vec![
        Field::new(col::IP_SCOPE, DataType::Utf8, false),
        text(col::VNET),
        text(col::SUBNET),
        text(col::PRIVATE_ENDPOINT),
        text(col::NAMED_RANGE),
        text(col::SERVICE_TAG),
        Field::new(
            col::SERVICE_TAGS,
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
        text(col::AZURE_SERVICE),
        text(col::AZURE_REGION),
        Field::new(col::TAGS_VERSION, DataType::Int64, true),
        text(col::CONFIG_VERSION),
        text(col::COUNTRY),
        Field::new(col::ASN, DataType::Int64, true),
        text(col::AS_ORG),
        Field::new(col::CALLER_KIND, DataType::Utf8, false),
        Field::new(col::ACCESS_PATH, DataType::Utf8, false),
        Field::new(col::ACCESS_REASON, DataType::Utf8, false),
    ]
}

/// The canonical event schema followed by the attribution columns.
pub fn attributed_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let mut fields: Vec<Field> = event_schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect();
            fields.extend(attribution_fields().iter().cloned());
            Arc::new(Schema::new(fields))
        })
        .clone()
}
