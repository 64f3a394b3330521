//! The changes that took effect within the period, for the time series: each registry's new
//! configurations (what changed from the one before, from the `registries` table) and each new
//! service-tag snapshot.

use acrlens_values::format_timestamp_micros;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::model::Change;
use crate::rows::each;
use crate::sql::query;

/// One row of the `registries` table, as far as a change is described.
#[derive(PartialEq)]
struct Config {
    login_server: String,
    from: Option<i64>,
    public: Option<bool>,
    allow: Option<bool>,
    rules: Option<i64>,
    bypass: Option<bool>,
    tasks: Option<bool>,
    unknown: Option<String>,
}

/// The changes between `from` and `to` (µs, inclusive; open when `None`), in time order.
pub(crate) async fn changes(
    ctx: &SessionContext,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<Change>> {
    let within = |t: i64| from.is_none_or(|f| t >= f) && to.is_none_or(|u| t <= u);
    let rows = query(
        ctx,
        "SELECT login_server, effective_from, public_network_access, default_allow, \
         cardinality(ip_rules) AS rules, bypass_azure_services, bypass_for_tasks, unknown \
         FROM registries ORDER BY login_server, effective_from NULLS FIRST",
        &Default::default(),
    )
    .await?;
    let configs = each(&rows, |r, i| {
        Ok(Config {
            login_server: r.text("login_server", i)?.unwrap_or_default(),
            from: r.int("effective_from", i)?,
            public: r.flag("public_network_access", i)?,
            allow: r.flag("default_allow", i)?,
            rules: r.int("rules", i)?,
            bypass: r.flag("bypass_azure_services", i)?,
            tasks: r.flag("bypass_for_tasks", i)?,
            unknown: r.text("unknown", i)?,
        })
    })?;
    let mut out = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        let Some(time) = c.from.filter(|&t| within(t)) else {
            continue;
        };
        let before = i
            .checked_sub(1)
            .map(|p| &configs[p])
            .filter(|p| p.login_server == c.login_server);
        out.push(Change {
            registry: Some(c.login_server.clone()),
            time: format_timestamp_micros(time),
            kind: "configuration",
            detail: describe(before, c),
        });
    }
    let tags = query(
        ctx,
        "SELECT change_number, min(effective_from) AS effective_from FROM service_tags \
         WHERE effective_from IS NOT NULL GROUP BY change_number",
        &Default::default(),
    )
    .await?;
    for (number, time) in each(&tags, |r, i| {
        Ok((r.int("change_number", i)?, r.int("effective_from", i)?))
    })? {
        if let (Some(number), Some(time)) = (number, time.filter(|&t| within(t))) {
            out.push(Change {
                registry: None,
                time: format_timestamp_micros(time),
                kind: "service_tags",
                detail: format!("service tags change {number}"),
            });
        }
    }
    // RFC 3339 in one format sorts by time; ties keep registries before service tags.
    out.sort_by(|a, b| a.time.cmp(&b.time));
    Ok(out)
}

/// What differs from the configuration before, in a few words.
fn describe(before: Option<&Config>, after: &Config) -> String {
    if let Some(why) = &after.unknown {
        return format!("configuration not known: {why}");
    }
    let Some(before) = before.filter(|b| b.unknown.is_none()) else {
        return "configuration known from here".to_owned();
    };
    let mut parts = Vec::new();
    let mut flag = |name: &str, a: Option<bool>, b: Option<bool>, (yes, no): (&str, &str)| {
        if a != b {
            let word = |v: Option<bool>| match v {
                Some(true) => yes,
                Some(false) => no,
                None => "unset",
            };
            parts.push(format!("{name} {} → {}", word(a), word(b)));
        }
    };
    flag("public access", before.public, after.public, ("on", "off"));
    flag(
        "default action",
        before.allow,
        after.allow,
        ("Allow", "Deny"),
    );
    flag("bypass", before.bypass, after.bypass, ("on", "off"));
    flag("Tasks bypass", before.tasks, after.tasks, ("on", "off"));
    if before.rules != after.rules {
        parts.push(format!(
            "IP rules {} → {}",
            before.rules.unwrap_or(0),
            after.rules.unwrap_or(0)
        ));
    }
    if parts.is_empty() {
        "configuration rewritten, same rules".to_owned()
    } else {
        parts.join(", ")
    }
}
