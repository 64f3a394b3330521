//! `ip_rules`: the IP rules of each registry's latest configuration stay within the limit, are
//! matched by some caller in the period (the callers table), and are still in the service tag
//! they were copied from.

use acrlens_engine::Table;
use acrlens_engine::udf::Function;
use acrlens_policy::Rule;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use super::{Judged, RuleKind, Scope, per_registry};
use crate::callers::CALLERS;
use crate::model::{Sample, Violation};
use crate::rows::each;
use crate::sql::{Filter, query};

/// IP rules of each registry's latest configuration: too many, or matched by no caller in the
/// window (the callers table of [`build_report`]).
pub(crate) struct IpRules {
    pub max_rules: Option<u64>,
    pub flag_unused: bool,
}

impl RuleKind for IpRules {
    /// The IP rules are the registries', not the events': `scope` is not read.
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, _scope: Scope) -> Judged {
        ip_rules(ctx, rule, self.max_rules, self.flag_unused).await
    }
}

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
         row_number() OVER (PARTITION BY login_server ORDER BY effective_from DESC NULLS LAST) AS k FROM {} WHERE {}) WHERE k = 1",
        Table::Registries.name(),
        registries.sql()
    );
    let params = registries.params;
    let ip_in_cidr = Function::IpInCidr.name();
    let service_tags = Table::ServiceTags.name();
    let sql = format!(
        "WITH latest AS ({latest}), rules AS (SELECT login_server, unnest(ip_rules) AS rule FROM latest), \
         callers AS (SELECT DISTINCT registry, caller_ip FROM {CALLERS} WHERE caller_ip IS NOT NULL \
         AND registry IN (SELECT login_server FROM rules)) \
         SELECT r.login_server, r.rule, count(c.caller_ip) AS callers, (SELECT count(*) FROM rules x WHERE x.login_server = r.login_server) AS rules \
         FROM rules r LEFT JOIN callers c ON c.registry = r.login_server AND {ip_in_cidr}(c.caller_ip, r.rule) \
         GROUP BY r.login_server, r.rule ORDER BY r.login_server, r.rule"
    );
    let left_sql = format!(
        "WITH latest AS ({latest}), rules AS (SELECT login_server, unnest(ip_rules) AS rule FROM latest), \
         newest AS (SELECT max(change_number) AS n FROM {service_tags}), \
         was AS (SELECT DISTINCT prefix, tag FROM {service_tags} WHERE change_number < (SELECT n FROM newest)), \
         still AS (SELECT DISTINCT prefix, tag FROM {service_tags} WHERE change_number = (SELECT n FROM newest)) \
         SELECT r.login_server, r.rule, w.tag, (SELECT n FROM newest) AS change FROM rules r JOIN was w ON w.prefix = r.rule \
         LEFT JOIN still s ON s.prefix = r.rule AND s.tag = w.tag WHERE s.prefix IS NULL ORDER BY 1, 2, 3"
    );
    let left = query(ctx, &left_sql, &params).await?;
    let left = each(&left, |r, i| {
        Ok((
            r.text("login_server", i)?.unwrap_or_default(),
            r.text("rule", i)?.unwrap_or_default(),
            r.text("tag", i)?.unwrap_or_default(),
            r.int("change", i)?.unwrap_or(0),
        ))
    })?;
    let rows = query(ctx, &sql, &params).await?;
    let rows = each(&rows, |r, i| {
        Ok((
            r.text("login_server", i)?.unwrap_or_default(),
            r.text("rule", i)?.unwrap_or_default(),
            r.int("callers", i)?.unwrap_or(0),
            r.int("rules", i)?.unwrap_or(0),
        ))
    })?;
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
        registries: per_registry(
            samples
                .iter()
                .map(|s| s.registry.as_deref().unwrap_or_default()),
        ),
        samples,
    }))
}
