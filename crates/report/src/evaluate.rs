//! Builds a [`Report`] with SQL over a session's `events` and `registries`. Every value from a
//! policy file is bound as a parameter, never spliced into the SQL text.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use acrlens_values::{MICROS_PER_DAY, format_day, format_timestamp_micros};
use arrow_array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::compute::cast;
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::model::{
    Caller, DayCount, Inputs, PathCount, Period, Report, SCHEMA, Sample, Violation,
};
use crate::render::paths_in_order;
use crate::unconfigured::Unconfigured;
use acrlens_policy::{Check, Policy, Rule, glob_to_like};

/// How many callers the caller tables show (the busiest).
pub const TOP_CALLERS: usize = 50;

/// How many callers per access path the callers-by-path table shows.
pub const TOP_PER_PATH: usize = 10;

/// How many examples a violation shows.
const SAMPLES: usize = 5;

/// A SQL predicate with its bound parameters.
#[derive(Default, Clone)]
struct Filter {
    parts: Vec<String>,
    params: HashMap<String, ScalarValue>,
}

impl Filter {
    fn bind(&mut self, value: ScalarValue) -> String {
        let name = format!("p{}", self.params.len());
        self.params.insert(name.clone(), value);
        format!("${name}")
    }

    fn text(&mut self, value: &str) -> String {
        self.bind(ScalarValue::Utf8(Some(value.to_owned())))
    }

    /// `column` equals one of `values` (no constraint when empty).
    fn any_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let alternatives: Vec<String> = values
            .iter()
            .map(|v| format!("{column} = {}", self.text(v)))
            .collect();
        self.parts.push(format!("({})", alternatives.join(" OR ")));
    }

    fn push(&mut self, predicate: impl Into<String>) {
        self.parts.push(predicate.into());
    }

    fn sql(&self) -> String {
        if self.parts.is_empty() {
            "TRUE".to_owned()
        } else {
            self.parts.join(" AND ")
        }
    }
}

async fn query(
    ctx: &SessionContext,
    sql: &str,
    params: &HashMap<String, ScalarValue>,
) -> Result<Vec<RecordBatch>> {
    frame(ctx, sql, params).await?.collect().await
}

/// Reads result columns by name, whatever their type, as text or numbers. Each column is
/// converted once per batch, not once per cell.
struct Rows {
    text: HashMap<String, StringArray>,
    ints: HashMap<String, Int64Array>,
}

impl Rows {
    fn of(batch: &RecordBatch) -> Rows {
        let mut rows = Rows {
            text: HashMap::new(),
            ints: HashMap::new(),
        };
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            let text = match column.as_any().downcast_ref::<TimestampMicrosecondArray>() {
                Some(t) => Some(
                    t.iter()
                        .map(|v| v.map(format_timestamp_micros))
                        .collect::<StringArray>(),
                ),
                None => cast(column, &DataType::Utf8)
                    .ok()
                    .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned()),
            };
            if let Some(text) = text {
                rows.text.insert(field.name().clone(), text);
            }
            if let Some(n) = cast(column, &DataType::Int64)
                .ok()
                .and_then(|c| c.as_any().downcast_ref::<Int64Array>().cloned())
            {
                rows.ints.insert(field.name().clone(), n);
            }
        }
        rows
    }

    fn text(&self, column: &str, row: usize) -> Option<String> {
        let c = self.text.get(column)?;
        c.is_valid(row).then(|| c.value(row).to_owned())
    }

    fn int(&self, column: &str, row: usize) -> Option<i64> {
        let n = self.ints.get(column)?;
        n.is_valid(row).then(|| n.value(row))
    }
}

fn each<T>(batches: &[RecordBatch], mut f: impl FnMut(&Rows, usize) -> T) -> Vec<T> {
    let mut out = Vec::new();
    for batch in batches {
        let rows = Rows::of(batch);
        out.extend((0..batch.num_rows()).map(|i| f(&rows, i)));
    }
    out
}

/// The window every section of the report is limited to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// Inclusive start (µs).
    pub since: Option<i64>,
    /// Exclusive end (µs).
    pub until: Option<i64>,
}

fn base(window: Window) -> Filter {
    let mut f = Filter::default();
    if let Some(since) = window.since {
        let p = f.bind(ScalarValue::TimestampMicrosecond(
            Some(since),
            Some("UTC".into()),
        ));
        f.push(format!("time >= {p}"));
    }
    if let Some(until) = window.until {
        let p = f.bind(ScalarValue::TimestampMicrosecond(
            Some(until),
            Some("UTC".into()),
        ));
        f.push(format!("time < {p}"));
    }
    f
}

/// The in-memory table of requests per access path, registry and caller within the window:
/// computed once, it feeds every caller table and the IP-rule check, which would otherwise each
/// group all events by caller again.
const CALLERS: &str = "acrlens_report_callers";

/// The callers the caller tables show, for the one scan that finds their details.
const SHOWN: &str = "acrlens_report_shown";

async fn frame(
    ctx: &SessionContext,
    sql: &str,
    params: &HashMap<String, ScalarValue>,
) -> Result<datafusion::dataframe::DataFrame> {
    let df = ctx.sql(sql).await?;
    if params.is_empty() {
        Ok(df)
    } else {
        df.with_param_values(params.clone())
    }
}

/// Runs `sql` and keeps its result as table `name`.
async fn keep(
    ctx: &SessionContext,
    name: &str,
    sql: &str,
    params: &HashMap<String, ScalarValue>,
) -> Result<()> {
    let df = frame(ctx, sql, params).await?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    register(ctx, name, schema, batches)
}

/// Registers `batches` as the in-memory table `name`, replacing any table of that name.
fn register(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    Ok(())
}

/// Per (registry, access path, day, versions): counts, times and data-quality sums — one scan
/// for the inputs, the per-registry table and the per-day chart. The day is grouped as a number
/// (days since 1970, UTC) and spelled once per group: formatting it per event cost five times
/// the rest of the scan.
struct Overview {
    inputs: Inputs,
    first: Option<i64>,
    last: Option<i64>,
    by_registry: Vec<PathCount>,
    by_day: Vec<DayCount>,
}

async fn overview(ctx: &SessionContext, all: &Filter) -> Result<Overview> {
    let rows = query(
        ctx,
        &format!(
            "SELECT registry, access_path, arrow_cast(time, 'Int64') / {MICROS_PER_DAY} AS day, \
             tags_version, config_version, count(*) AS events, min(time) AS first, max(time) AS last, \
             sum(CASE WHEN config_version IS NULL THEN 1 ELSE 0 END) AS unconfigured, \
             sum(CASE WHEN caller_ip IS NULL THEN 1 ELSE 0 END) AS no_caller \
             FROM events WHERE {} GROUP BY 1, 2, 3, 4, 5",
            all.sql()
        ),
        &all.params,
    )
    .await?;
    // Keys sort as SQL's ORDER BY would: NULLs last.
    let key = |v: Option<String>| (v.is_none(), v.unwrap_or_default());
    let mut by_registry: BTreeMap<((bool, String), String), u64> = BTreeMap::new();
    let mut by_day: BTreeMap<(i64, String), u64> = BTreeMap::new();
    let mut versions = BTreeSet::new();
    let mut configs = BTreeSet::new();
    let mut unconfigured = Unconfigured::default();
    let mut o = Overview {
        inputs: Inputs::default(),
        first: None,
        last: None,
        by_registry: Vec::new(),
        by_day: Vec::new(),
    };
    each(&rows, |r, i| {
        let n = r.int("events", i).unwrap_or(0) as u64;
        let registry = r.text("registry", i);
        let path = r.text("access_path", i).unwrap_or_default();
        o.inputs.events += n;
        o.inputs.events_without_configuration += r.int("unconfigured", i).unwrap_or(0) as u64;
        o.inputs.events_without_caller += r.int("no_caller", i).unwrap_or(0) as u64;
        o.first = o.first.into_iter().chain(r.int("first", i)).min();
        o.last = o.last.into_iter().chain(r.int("last", i)).max();
        versions.extend(r.int("tags_version", i));
        match r.text("config_version", i) {
            Some(config) => {
                configs.insert((key(registry.clone()), config));
            }
            None => {
                // Grouped by config_version: this row's events are all without one.
                if let (Some(day), Some(first), Some(last)) =
                    (r.int("day", i), r.int("first", i), r.int("last", i))
                {
                    unconfigured.add(registry.clone(), day, n, (first, last));
                }
            }
        }
        *by_registry
            .entry((key(registry), path.clone()))
            .or_default() += n;
        if let Some(day) = r.int("day", i) {
            *by_day.entry((day, path)).or_default() += n;
        }
    });
    o.inputs.service_tag_versions = versions.into_iter().collect();
    o.inputs.unconfigured_periods = unconfigured.periods();
    o.inputs.configurations = configs
        .into_iter()
        .map(|((_, registry), config)| format!("{registry} @ {config}"))
        .collect();
    o.by_registry = by_registry
        .into_iter()
        .map(|(((_, registry), access_path), requests)| PathCount {
            registry,
            access_path,
            requests,
        })
        .collect();
    o.by_day = by_day
        .into_iter()
        .map(|((day, access_path), requests)| DayCount {
            day: format_day(day),
            access_path,
            requests,
        })
        .collect();
    Ok(o)
}

/// What identifies a caller row: registry, address, access path.
type CallerKey = (String, Option<String>, String);

fn caller(r: &Rows, i: usize) -> Caller {
    Caller {
        registry: r.text("registry", i).unwrap_or_default(),
        caller_ip: r.text("caller_ip", i),
        identity: r.text("identity", i),
        caller_kind: r.text("caller_kind", i).unwrap_or_default(),
        service_tag: r.text("service_tag", i),
        country: r.text("country", i),
        asn: r.int("asn", i),
        as_org: r.text("as_org", i),
        access_path: r.text("access_path", i).unwrap_or_default(),
        requests: r.int("requests", i).unwrap_or(0) as u64,
    }
}

fn key_of(c: &Caller) -> CallerKey {
    (
        c.registry.clone(),
        c.caller_ip.clone(),
        c.access_path.clone(),
    )
}

/// The busiest callers: of the public paths together, and of each access path present. Counted
/// from the callers table; their identity, kind, tag and GeoIP come from one scan of the events
/// for just these callers.
async fn busiest_callers(
    ctx: &SessionContext,
    all: &Filter,
    paths: &[&str],
) -> Result<(Vec<Caller>, Vec<Caller>)> {
    let top = |filter: &str, limit: usize| {
        format!(
            "SELECT registry, caller_ip, access_path, requests FROM {CALLERS} WHERE {filter} \
             ORDER BY requests DESC, registry, caller_ip LIMIT {limit}"
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
    let mut public = each(&public, caller);
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
        by_path.extend(each(&rows, caller));
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
             FROM events e JOIN {SHOWN} s ON e.registry = s.registry \
             AND (e.caller_ip IS NOT DISTINCT FROM s.caller_ip) AND e.access_path = s.access_path \
             WHERE {} GROUP BY e.registry, e.caller_ip, e.access_path",
            all.sql()
        ),
        &all.params,
    )
    .await?;
    ctx.deregister_table(SHOWN)?;
    let details: HashMap<CallerKey, Caller> = each(&details, caller)
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

/// Makes the report.
pub async fn build_report(
    ctx: &SessionContext,
    policy: &Policy,
    window: Window,
    quarantined: u64,
) -> Result<Report> {
    let all = base(window);
    let o = overview(ctx, &all).await?;
    keep(
        ctx,
        CALLERS,
        &format!(
            "SELECT access_path, registry, caller_ip, count(*) AS requests FROM events \
             WHERE {} GROUP BY 1, 2, 3",
            all.sql()
        ),
        &all.params,
    )
    .await?;
    let paths = paths_in_order(o.by_registry.iter().map(|p| p.access_path.as_str()));
    let (callers_by_path, public_callers) = busiest_callers(ctx, &all, &paths).await?;
    let trusted = query(
        ctx,
        &format!(
            "SELECT registry, min(caller_ip) AS caller_ip, identity, caller_kind, service_tag, min(country) AS country, \
             min(asn) AS asn, min(as_org) AS as_org, 'trusted_service' AS access_path, count(*) AS requests \
             FROM events WHERE {} AND access_path = 'trusted_service' \
             GROUP BY registry, identity, caller_kind, service_tag ORDER BY requests DESC, registry, identity LIMIT {TOP_CALLERS}",
            all.sql()
        ),
        &all.params,
    )
    .await?;
    let mut violations = Vec::new();
    for rule in &policy.rules {
        if let Some(v) = evaluate(ctx, rule, window).await? {
            violations.push(v);
        }
    }
    ctx.deregister_table(CALLERS)?;
    violations.sort_by_key(|v| std::cmp::Reverse(v.severity));
    Ok(Report {
        schema: SCHEMA,
        period: Period {
            from: window.since.or(o.first).map(format_timestamp_micros),
            to: window.until.or(o.last).map(format_timestamp_micros),
        },
        inputs: Inputs {
            quarantined,
            ..o.inputs
        },
        paths_by_registry: o.by_registry,
        paths_by_day: o.by_day,
        callers_by_path,
        trusted_callers: each(&trusted, caller),
        public_callers,
        violations,
    })
}

/// Event-level violations: the events matching `filter`.
async fn event_violation(
    ctx: &SessionContext,
    rule: &Rule,
    filter: &Filter,
    finding: String,
) -> Result<Option<Violation>> {
    let w = filter.sql();
    let stats = query(
        ctx,
        &format!(
            "SELECT count(*) AS n, min(time) AS first, max(time) AS last FROM events WHERE {w}"
        ),
        &filter.params,
    )
    .await?;
    let (n, first, last) = each(&stats, |r, i| {
        (
            r.int("n", i).unwrap_or(0),
            r.text("first", i),
            r.text("last", i),
        )
    })
    .pop()
    .unwrap_or_default();
    if n == 0 {
        return Ok(None);
    }
    let samples = query(
        ctx,
        &format!(
            "SELECT time, registry, repository, caller_ip, identity, user_agent, access_path, access_reason \
             FROM events WHERE {w} ORDER BY time, source, source_line LIMIT {SAMPLES}"
        ),
        &filter.params,
    )
    .await?;
    Ok(Some(Violation {
        rule: rule.name.clone(),
        severity: rule.severity,
        finding,
        count: n as u64,
        first_seen: first,
        last_seen: last,
        samples: each(&samples, |r, i| Sample {
            time: r.text("time", i),
            registry: r.text("registry", i),
            repository: r.text("repository", i),
            caller_ip: r.text("caller_ip", i),
            identity: r.text("identity", i),
            user_agent: r.text("user_agent", i),
            access_path: r.text("access_path", i),
            detail: r.text("access_reason", i),
        }),
    }))
}

/// A rule's scope (registries, repository patterns) within the window.
fn scoped(rule: &Rule, window: Window) -> Filter {
    let mut f = base(window);
    f.any_of("registry", &rule.registries);
    if !rule.repositories.is_empty() {
        let patterns: Vec<String> = rule
            .repositories
            .iter()
            .map(|g| format!("repository LIKE {} ESCAPE '\\'", f.text(&glob_to_like(g))))
            .collect();
        f.push(format!("({})", patterns.join(" OR ")));
    }
    f
}

async fn evaluate(ctx: &SessionContext, rule: &Rule, window: Window) -> Result<Option<Violation>> {
    let mut f = scoped(rule, window);
    match &rule.check {
        Check::AllowedPaths { paths } => {
            let allowed: Vec<String> = paths
                .iter()
                .map(|p| format!("access_path <> {}", f.text(p)))
                .collect();
            f.push("access_path <> 'denied'");
            f.parts.extend(allowed);
            event_violation(
                ctx,
                rule,
                &f,
                format!(
                    "requests reached the registry by a path other than {}",
                    paths.join(", ")
                ),
            )
            .await
        }
        Check::NoUnexplained {} => {
            f.push("access_path = 'unexplained'");
            event_violation(
                ctx,
                rule,
                &f,
                "requests succeeded that the registry's rules deny and no bypass explains".into(),
            )
            .await
        }
        Check::NoPublicWhenDisabled {} => {
            f.push(
                "access_path IN ('public_internet', 'public_azure', 'unexplained') AND EXISTS (\
                 SELECT 1 FROM registries r WHERE r.login_server = events.registry AND NOT r.public_network_access \
                 AND ((split_part(events.config_version, ' ', 1) = 'initial' AND r.effective_from IS NULL) \
                 OR r.effective_from = TRY_CAST(split_part(events.config_version, ' ', 1) AS TIMESTAMP)))",
            );
            event_violation(
                ctx,
                rule,
                &f,
                "public requests reached a registry whose public network access was disabled"
                    .into(),
            )
            .await
        }
        Check::TrustedBypass {
            identities,
            caller_kinds,
        } => {
            f.push("access_path = 'trusted_service'");
            let mut allowed = Filter {
                params: std::mem::take(&mut f.params),
                ..Filter::default()
            };
            allowed.any_of("identity", identities);
            allowed.any_of("caller_kind", caller_kinds);
            if !allowed.parts.is_empty() {
                f.push(format!("NOT ({})", allowed.parts.join(" OR ")));
            }
            f.params = allowed.params;
            event_violation(
                ctx,
                rule,
                &f,
                "callers outside the allowed list used the trusted-service bypass".into(),
            )
            .await
        }
        Check::DeniedSpike { max_per_hour } => {
            f.push("access_path = 'denied'");
            let max = f.bind(ScalarValue::Int64(Some(*max_per_hour as i64)));
            let hours = query(
                ctx,
                &format!(
                    "SELECT date_trunc('hour', time) AS hour, registry, count(*) AS denied FROM events WHERE {} \
                     GROUP BY 1, 2 HAVING count(*) > {max} ORDER BY 1, 2",
                    f.sql()
                ),
                &f.params,
            )
            .await?;
            let rows = each(&hours, |r, i| {
                (
                    r.text("hour", i),
                    r.text("registry", i),
                    r.int("denied", i).unwrap_or(0),
                )
            });
            if rows.is_empty() {
                return Ok(None);
            }
            Ok(Some(Violation {
                rule: rule.name.clone(),
                severity: rule.severity,
                finding: format!("hours with more than {max_per_hour} firewall denials"),
                count: rows.len() as u64,
                first_seen: rows.first().and_then(|r| r.0.clone()),
                last_seen: rows.last().and_then(|r| r.0.clone()),
                samples: rows
                    .iter()
                    .take(SAMPLES)
                    .map(|(hour, registry, n)| {
                        Sample::note(
                            registry.as_deref().unwrap_or_default(),
                            hour.clone(),
                            Some("denied"),
                            format!("{n} denials in the hour"),
                        )
                    })
                    .collect(),
            }))
        }
        Check::IpRules {
            max_rules,
            flag_unused,
        } => ip_rules(ctx, rule, *max_rules, *flag_unused).await,
    }
}

/// IP rules of each registry's latest configuration: too many, or matched by no caller in the
/// window (the callers table of [`build_report`]).
async fn ip_rules(
    ctx: &SessionContext,
    rule: &Rule,
    max_rules: Option<u64>,
    flag_unused: bool,
) -> Result<Option<Violation>> {
    let mut registries = Filter::default();
    registries.any_of("login_server", &rule.registries);
    let latest = format!(
        "SELECT login_server, ip_rules FROM (SELECT login_server, ip_rules, \
         row_number() OVER (PARTITION BY login_server ORDER BY effective_from DESC NULLS LAST) AS k FROM registries WHERE {}) WHERE k = 1",
        registries.sql()
    );
    let params = registries.params;
    let sql = format!(
        "WITH latest AS ({latest}), rules AS (SELECT login_server, unnest(ip_rules) AS rule FROM latest), \
         callers AS (SELECT DISTINCT registry, caller_ip FROM {CALLERS} WHERE caller_ip IS NOT NULL \
         AND registry IN (SELECT login_server FROM rules)) \
         SELECT r.login_server, r.rule, count(c.caller_ip) AS callers, (SELECT count(*) FROM rules x WHERE x.login_server = r.login_server) AS rules \
         FROM rules r LEFT JOIN callers c ON c.registry = r.login_server AND ip_in_cidr(c.caller_ip, r.rule) \
         GROUP BY r.login_server, r.rule ORDER BY r.login_server, r.rule"
    );
    let left_sql = format!(
        "WITH latest AS ({latest}), rules AS (SELECT login_server, unnest(ip_rules) AS rule FROM latest), \
         newest AS (SELECT max(change_number) AS n FROM service_tags), \
         was AS (SELECT DISTINCT prefix, tag FROM service_tags WHERE change_number < (SELECT n FROM newest)), \
         still AS (SELECT DISTINCT prefix, tag FROM service_tags WHERE change_number = (SELECT n FROM newest)) \
         SELECT r.login_server, r.rule, w.tag, (SELECT n FROM newest) AS change FROM rules r JOIN was w ON w.prefix = r.rule \
         LEFT JOIN still s ON s.prefix = r.rule AND s.tag = w.tag WHERE s.prefix IS NULL ORDER BY 1, 2, 3"
    );
    let left = query(ctx, &left_sql, &params).await?;
    let left = each(&left, |r, i| {
        (
            r.text("login_server", i).unwrap_or_default(),
            r.text("rule", i).unwrap_or_default(),
            r.text("tag", i).unwrap_or_default(),
            r.int("change", i).unwrap_or(0),
        )
    });
    let rows = query(ctx, &sql, &params).await?;
    let rows = each(&rows, |r, i| {
        (
            r.text("login_server", i).unwrap_or_default(),
            r.text("rule", i).unwrap_or_default(),
            r.int("callers", i).unwrap_or(0),
            r.int("rules", i).unwrap_or(0),
        )
    });
    let mut samples = Vec::new();
    let mut over: Vec<&str> = Vec::new();
    for (registry, ip_rule, callers, rules) in &rows {
        if max_rules.is_some_and(|m| *rules as u64 > m) && !over.contains(&registry.as_str()) {
            over.push(registry);
            samples.push(Sample::note(
                registry,
                None,
                None,
                format!("{rules} IP rules, more than {}", max_rules.unwrap_or(0)),
            ));
        }
        if flag_unused && *callers == 0 {
            samples.push(Sample::note(
                registry,
                None,
                None,
                format!("IP rule {ip_rule} matched no caller in the period"),
            ));
        }
    }
    for (registry, ip_rule, tag, change) in &left {
        samples.push(Sample::note(registry, None, None, format!("IP rule {ip_rule} was copied from {tag}, which no longer holds it (service tags change {change})")));
    }
    if samples.is_empty() {
        return Ok(None);
    }
    Ok(Some(Violation {
        rule: rule.name.clone(),
        severity: rule.severity,
        finding: "IP rules beyond the limit, matched by no caller, or no longer in the service tag they came from".into(),
        count: samples.len() as u64,
        first_seen: None,
        last_seen: None,
        samples,
    }))
}
