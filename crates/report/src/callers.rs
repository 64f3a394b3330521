//! The caller tables: the busiest callers of the public paths and of each access path, and who
//! used the trusted-service bypass, from the window's callers per day and trusted-service
//! requests per day. Requests per caller are counted once into an in-memory table that the
//! IP-rule check reads too; the details of just the callers shown come from one more scan.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use acrlens_engine::rollup::{CALLERS as CALLERS_ROLLUP, TRUSTED};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::model::{Caller, TOP_CALLERS, TOP_PER_PATH};
use crate::rows::{Rows, each};
use crate::sql::{Filter, drop_table, keep, query, register};
use crate::views::view_name;

/// The in-memory table of requests per access path, registry and caller within the window:
/// computed once, it feeds every caller table and the IP-rule check, which would otherwise each
/// group all events by caller again.
pub(crate) const CALLERS: &str = "acrlens_report_callers";

/// The callers the caller tables show, for the one scan that finds their details.
const SHOWN: &str = "acrlens_report_shown";

/// Counts the requests of every caller in the window into [`CALLERS`].
pub(crate) async fn count_callers(ctx: &SessionContext) -> Result<()> {
    keep(
        ctx,
        CALLERS,
        &format!(
            "SELECT access_path, registry, caller_ip, sum(requests) AS requests FROM {} \
             GROUP BY 1, 2, 3",
            view_name(CALLERS_ROLLUP)
        ),
        &HashMap::new(),
    )
    .await
}

/// Who used the trusted-service bypass: the busiest identities, kinds and tags.
pub(crate) async fn trusted_callers(ctx: &SessionContext) -> Result<Vec<Caller>> {
    let trusted = query(
        ctx,
        &format!(
            "SELECT registry, min(caller_ip) AS caller_ip, identity, caller_kind, service_tag, min(country) AS country, \
             min(asn) AS asn, min(as_org) AS as_org, 'trusted_service' AS access_path, sum(requests) AS requests \
             FROM {} GROUP BY registry, identity, caller_kind, service_tag \
             ORDER BY requests DESC, registry, identity, caller_kind, service_tag LIMIT {TOP_CALLERS}",
            view_name(TRUSTED)
        ),
        &HashMap::new(),
    )
    .await?;
    each(&trusted, caller)
}

/// What identifies a caller row: registry, address, access path.
type CallerKey = (String, Option<String>, String);

fn caller(r: &Rows, i: usize) -> Result<Caller> {
    Ok(Caller {
        registry: r.text("registry", i)?.unwrap_or_default(),
        caller_ip: r.text("caller_ip", i)?,
        identity: r.text("identity", i)?,
        caller_kind: r.text("caller_kind", i)?.unwrap_or_default(),
        service_tag: r.text("service_tag", i)?,
        country: r.text("country", i)?,
        asn: r.int("asn", i)?,
        as_org: r.text("as_org", i)?,
        access_path: r.text("access_path", i)?.unwrap_or_default(),
        requests: r.int("requests", i)?.unwrap_or(0) as u64,
    })
}

/// A caller as the callers table counts it: who and how many, the details to come.
fn counted(r: &Rows, i: usize) -> Result<Caller> {
    Ok(Caller {
        registry: r.text("registry", i)?.unwrap_or_default(),
        caller_ip: r.text("caller_ip", i)?,
        identity: None,
        caller_kind: String::new(),
        service_tag: None,
        country: None,
        asn: None,
        as_org: None,
        access_path: r.text("access_path", i)?.unwrap_or_default(),
        requests: r.int("requests", i)?.unwrap_or(0) as u64,
    })
}

fn key_of(c: &Caller) -> CallerKey {
    (
        c.registry.clone(),
        c.caller_ip.clone(),
        c.access_path.clone(),
    )
}

/// The busiest callers: of the public paths together, and of each access path present. Counted
/// from the callers table; their identity, kind, tag and GeoIP come from one scan of the callers
/// per day for just these callers.
pub(crate) async fn busiest_callers(
    ctx: &SessionContext,
    paths: &[&str],
) -> Result<(Vec<Caller>, Vec<Caller>)> {
    let top = |filter: &str, limit: usize| {
        format!(
            "SELECT registry, caller_ip, access_path, requests FROM {CALLERS} WHERE {filter} \
             ORDER BY requests DESC, registry, caller_ip, access_path LIMIT {limit}"
        )
    };
    let public = query(
        ctx,
        &top(
            "access_path IN ('public_internet', 'public_azure')",
            TOP_CALLERS,
        ),
        &HashMap::new(),
    )
    .await?;
    let mut public = each(&public, counted)?;
    let mut by_path = Vec::new();
    for path in paths {
        let mut f = Filter::default();
        let bound = f.text(path);
        let rows = query(
            ctx,
            &top(&format!("access_path = {bound}"), TOP_PER_PATH),
            &f.params,
        )
        .await?;
        by_path.extend(each(&rows, counted)?);
    }
    let shown: BTreeSet<CallerKey> = public.iter().chain(&by_path).map(key_of).collect();
    if shown.is_empty() {
        return Ok((by_path, public));
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("registry", DataType::Utf8, true),
        Field::new("caller_ip", DataType::Utf8, true),
        Field::new("access_path", DataType::Utf8, true),
    ]));
    let column = |f: fn(&CallerKey) -> Option<&str>| -> ArrayRef {
        Arc::new(shown.iter().map(f).collect::<StringArray>())
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            column(|k| Some(k.0.as_str())),
            column(|k| k.1.as_deref()),
            column(|k| Some(k.2.as_str())),
        ],
    )?;
    register(ctx, SHOWN, schema, vec![batch])?;
    let details = query(
        ctx,
        &format!(
            "SELECT e.registry, e.caller_ip, e.access_path, min(e.identity) AS identity, \
             min(e.caller_kind) AS caller_kind, min(e.service_tag) AS service_tag, \
             min(e.country) AS country, min(e.asn) AS asn, min(e.as_org) AS as_org, 0 AS requests \
             FROM {} e JOIN {SHOWN} s ON e.registry = s.registry \
             AND (e.caller_ip IS NOT DISTINCT FROM s.caller_ip) AND e.access_path = s.access_path \
             GROUP BY e.registry, e.caller_ip, e.access_path",
            view_name(CALLERS_ROLLUP)
        ),
        &HashMap::new(),
    )
    .await?;
    drop_table(ctx, SHOWN)?;
    let details: HashMap<CallerKey, Caller> = each(&details, caller)?
        .into_iter()
        .map(|c| (key_of(&c), c))
        .collect();
    for c in public.iter_mut().chain(by_path.iter_mut()) {
        if let Some(d) = details.get(&key_of(c)) {
            *c = Caller {
                requests: c.requests,
                ..d.clone()
            };
        }
    }
    Ok((by_path, public))
}
