//! The attribution columns of a batch under construction: only those a reader asked for are
//! built, the rest are placeholders.

use std::sync::Arc;

use acrlens_events::{ColumnSet, placeholder, put};
use acrlens_netmap::{CallerScope, PrivateEndpoint};
use arrow_array::ArrayRef;
use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder};

use crate::callers::Shown;
use crate::schema::{attribution_fields, col};
use crate::verdict::AccessPath;

/// The `ip_scope` of a row: its address's, or why it has none.
fn scope_of(facts: Option<&Shown>, raw: Option<&str>) -> CallerScope {
    match (facts, raw) {
        (Some(f), _) => CallerScope::Of(f.scope),
        (None, Some(_)) => CallerScope::Invalid,
        (None, None) => CallerScope::Missing,
    }
}

/// The attribution columns under construction; `None` for a column nobody reads (the batch
/// then carries a placeholder). The path is always built.
pub(crate) struct Columns {
    ip_scope: Option<StringBuilder>,
    vnet: Option<StringBuilder>,
    subnet: Option<StringBuilder>,
    private_endpoint: Option<StringBuilder>,
    named_range: Option<StringBuilder>,
    service_tag: Option<StringBuilder>,
    service_tags: Option<ListBuilder<StringBuilder>>,
    azure_service: Option<StringBuilder>,
    azure_region: Option<StringBuilder>,
    tags_version: Option<Int64Builder>,
    config_version: Option<StringBuilder>,
    country: Option<StringBuilder>,
    asn: Option<Int64Builder>,
    as_org: Option<StringBuilder>,
    caller_kind: Option<StringBuilder>,
    access_path: StringBuilder,
    access_reason: Option<StringBuilder>,
}

impl Columns {
    /// Builders for `columns` (positions among the attribution columns).
    pub(crate) fn new(rows: usize, columns: ColumnSet) -> Self {
        let fields = attribution_fields();
        let wanted = |name: &str| {
            fields
                .iter()
                .position(|f| f.name() == name)
                .is_some_and(|i| columns.contains(i))
        };
        let text = |name: &str| wanted(name).then(|| StringBuilder::with_capacity(rows, rows * 8));
        let number = |name: &str| wanted(name).then(|| Int64Builder::with_capacity(rows));
        Columns {
            ip_scope: text(col::IP_SCOPE),
            vnet: text(col::VNET),
            subnet: text(col::SUBNET),
            private_endpoint: text(col::PRIVATE_ENDPOINT),
            named_range: text(col::NAMED_RANGE),
            service_tag: text(col::SERVICE_TAG),
            service_tags: wanted(col::SERVICE_TAGS)
                .then(|| ListBuilder::with_capacity(StringBuilder::new(), rows)),
            azure_service: text(col::AZURE_SERVICE),
            azure_region: text(col::AZURE_REGION),
            tags_version: number(col::TAGS_VERSION),
            config_version: text(col::CONFIG_VERSION),
            country: text(col::COUNTRY),
            asn: number(col::ASN),
            as_org: text(col::AS_ORG),
            caller_kind: text(col::CALLER_KIND),
            access_path: StringBuilder::with_capacity(rows, rows * 8),
            access_reason: wanted(col::ACCESS_REASON)
                .then(|| StringBuilder::with_capacity(rows, rows * 120)),
        }
    }

    /// Whether the caller kind is built.
    pub(crate) fn reads_kind(&self) -> bool {
        self.caller_kind.is_some()
    }

    /// Whether the configuration version is built.
    pub(crate) fn reads_config_version(&self) -> bool {
        self.config_version.is_some()
    }

    /// Whether the private endpoint is built.
    pub(crate) fn reads_endpoint(&self) -> bool {
        self.private_endpoint.is_some()
    }

    /// Whether the reason sentence is built.
    pub(crate) fn explains(&self) -> bool {
        self.access_reason.is_some()
    }

    /// Whether any column built needs the caller's facts.
    pub(crate) fn reads_facts(&self) -> bool {
        self.ip_scope.is_some()
            || self.vnet.is_some()
            || self.subnet.is_some()
            || self.named_range.is_some()
            || self.service_tag.is_some()
            || self.service_tags.is_some()
            || self.azure_service.is_some()
            || self.azure_region.is_some()
            || self.tags_version.is_some()
            || self.country.is_some()
            || self.asn.is_some()
            || self.as_org.is_some()
    }

    /// Adds a row: its caller's facts as shown, its caller text, configuration version,
    /// endpoint and kind, and its path with the reason (when the reason is shown).
    pub(crate) fn push(
        &mut self,
        f: Option<&Shown>,
        raw: Option<&str>,
        config_version: Option<&str>,
        endpoint: Option<&PrivateEndpoint>,
        caller_kind: Option<&str>,
        (path, reason): (AccessPath, Option<&str>),
    ) {
        put(&mut self.ip_scope, Some(scope_of(f, raw).name()));
        put(&mut self.vnet, f.and_then(|f| f.vnet.as_deref()));
        put(&mut self.subnet, f.and_then(|f| f.subnet.as_deref()));
        put(
            &mut self.private_endpoint,
            endpoint
                .filter(|_| path == AccessPath::PrivateEndpoint)
                .map(|pe| pe.name.as_str()),
        );
        put(
            &mut self.named_range,
            f.and_then(|f| f.named_range.as_deref()),
        );
        put(&mut self.service_tag, f.and_then(Shown::service_tag));
        if let Some(list) = &mut self.service_tags {
            for tag in f.map(|f| &*f.service_tags).unwrap_or_default() {
                list.values().append_value(tag);
            }
            list.append(true);
        }
        put(
            &mut self.azure_service,
            f.and_then(|f| f.azure_service.as_deref()),
        );
        put(
            &mut self.azure_region,
            f.and_then(|f| f.azure_region.as_deref()),
        );
        put(&mut self.tags_version, f.and_then(|f| f.tags_version));
        put(&mut self.config_version, config_version);
        put(&mut self.country, f.and_then(|f| f.country.as_deref()));
        put(&mut self.asn, f.and_then(|f| f.asn));
        put(&mut self.as_org, f.and_then(|f| f.as_org.as_deref()));
        put(&mut self.caller_kind, caller_kind);
        self.access_path.append_value(path.name());
        put(&mut self.access_reason, reason);
    }

    pub(crate) fn finish(mut self, rows: usize) -> Vec<ArrayRef> {
        fn text(b: Option<StringBuilder>) -> Option<ArrayRef> {
            b.map(|mut b| Arc::new(b.finish()) as ArrayRef)
        }
        fn number(b: Option<Int64Builder>) -> Option<ArrayRef> {
            b.map(|mut b| Arc::new(b.finish()) as ArrayRef)
        }
        let built = [
            text(self.ip_scope),
            text(self.vnet),
            text(self.subnet),
            text(self.private_endpoint),
            text(self.named_range),
            text(self.service_tag),
            self.service_tags
                .map(|mut b| Arc::new(b.finish()) as ArrayRef),
            text(self.azure_service),
            text(self.azure_region),
            number(self.tags_version),
            text(self.config_version),
            text(self.country),
            number(self.asn),
            text(self.as_org),
            text(self.caller_kind),
            Some(Arc::new(self.access_path.finish())),
            text(self.access_reason),
        ];
        built
            .into_iter()
            .zip(attribution_fields())
            .map(|(column, field)| column.unwrap_or_else(|| placeholder(field, rows)))
            .collect()
    }
}
