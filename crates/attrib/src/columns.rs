//! The attribution columns of a batch under construction: only those a reader asked for are
//! built, the rest are placeholders.

use std::fmt::Write;
use std::sync::Arc;

use acrlens_events::{ColumnSet, finish_text, placeholder, put, text_builder};
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
        let text = |name: &'static str| wanted(name).then(|| text_builder(name, rows, 8));
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
            access_path: text_builder(col::ACCESS_PATH, rows, 8),
            access_reason: wanted(col::ACCESS_REASON)
                .then(|| text_builder(col::ACCESS_REASON, rows, 120)),
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
    /// endpoint and kind, and its path with the reason (when the reason is shown), in two
    /// parts that make one sentence (see [`Kept`](crate::memo::Kept)).
    pub(crate) fn push(
        &mut self,
        f: Option<&Shown>,
        raw: Option<&str>,
        config_version: Option<&str>,
        endpoint: Option<&PrivateEndpoint>,
        caller_kind: Option<&str>,
        (path, reason): (AccessPath, Option<(&str, &str)>),
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
        if let Some(reasons) = &mut self.access_reason {
            match reason {
                Some((head, tail)) => {
                    // Writing into the builder's values cannot fail; the row ends with the tail.
                    let _ = reasons.write_str(head);
                    reasons.append_value(tail);
                }
                None => reasons.append_null(),
            }
        }
    }

    pub(crate) fn finish(self, rows: usize) -> Vec<ArrayRef> {
        let text = |b: Option<StringBuilder>, name| b.map(|b| finish_text(name, b));
        fn number(b: Option<Int64Builder>) -> Option<ArrayRef> {
            b.map(|mut b| Arc::new(b.finish()) as ArrayRef)
        }
        let built = [
            text(self.ip_scope, col::IP_SCOPE),
            text(self.vnet, col::VNET),
            text(self.subnet, col::SUBNET),
            text(self.private_endpoint, col::PRIVATE_ENDPOINT),
            text(self.named_range, col::NAMED_RANGE),
            text(self.service_tag, col::SERVICE_TAG),
            self.service_tags
                .map(|mut b| Arc::new(b.finish()) as ArrayRef),
            text(self.azure_service, col::AZURE_SERVICE),
            text(self.azure_region, col::AZURE_REGION),
            number(self.tags_version),
            text(self.config_version, col::CONFIG_VERSION),
            text(self.country, col::COUNTRY),
            number(self.asn),
            text(self.as_org, col::AS_ORG),
            text(self.caller_kind, col::CALLER_KIND),
            Some(finish_text(col::ACCESS_PATH, self.access_path)),
            text(self.access_reason, col::ACCESS_REASON),
        ];
        built
            .into_iter()
            .zip(attribution_fields())
            .map(|(column, field)| column.unwrap_or_else(|| placeholder(field, rows)))
            .collect()
    }
}
