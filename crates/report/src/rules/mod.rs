//! The policy's rules, one module per kind behind [`RuleKind`]: a kind judges a rule over the
//! requests in the rule's scope and says what violates it. A new kind is a new module here (and
//! its variant of `acrlens_policy::Check`, which parses it).

mod allowed_paths;
mod denied_spike;
mod ip_rules;
mod public_disabled;
mod trusted_bypass;
mod unexplained;

use std::collections::BTreeMap;

use acrlens_engine::rollup::Rollup;
use acrlens_policy::{Check, Rule, glob_to_like};
use acrlens_values::format_timestamp_micros;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::counted::Counted;
use crate::model::{RegistryCount, Sample, Violation};
use crate::rows::each;
use crate::sql::{Filter, Window, query};

/// How many examples a violation shows.
pub(crate) const SAMPLES: usize = 5;

/// What judging a rule gives: the violation, or `None` when nothing violates it.
pub(crate) type Judged = Result<Option<Violation>>;

/// One kind of rule.
pub(crate) trait RuleKind {
    /// Judges `rule` over the requests `scope` selects (its registries and repositories within
    /// the window): the violation, or `None` when nothing violates it.
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, scope: Scope) -> Judged;
}

/// The requests a rule is about: its predicate (registries, repositories, and what the kind
/// adds) and where they are counted.
pub(crate) struct Scope {
    /// The predicate, without the window.
    pub filter: Filter,
    window: Window,
    /// Whether the predicate names repositories, which no rollup keeps.
    repositories: bool,
}

impl Scope {
    /// Where to count: the view of `rollup`, or the events when the scope names repositories.
    pub fn counted(&self, rollup: Rollup) -> Counted {
        if self.repositories {
            self.events()
        } else {
            Counted::rollup(self.window, rollup)
        }
    }

    /// The events of the window, for a predicate no rollup can answer.
    pub fn events(&self) -> Counted {
        Counted::events(self.window)
    }
}

/// Judges one rule of the policy.
pub(crate) async fn evaluate(
    ctx: &SessionContext,
    rule: &Rule,
    window: Window,
) -> Result<Option<Violation>> {
    let scope = scoped(rule, window);
    match &rule.check {
        Check::AllowedPaths { paths } => {
            allowed_paths::AllowedPaths { paths }
                .judge(ctx, rule, scope)
                .await
        }
        Check::NoUnexplained {} => unexplained::NoUnexplained.judge(ctx, rule, scope).await,
        Check::NoPublicWhenDisabled {} => {
            public_disabled::NoPublicWhenDisabled
                .judge(ctx, rule, scope)
                .await
        }
        Check::TrustedBypass {
            identities,
            caller_kinds,
        } => {
            trusted_bypass::TrustedBypass {
                identities,
                caller_kinds,
            }
            .judge(ctx, rule, scope)
            .await
        }
        Check::DeniedSpike { max_per_hour } => {
            denied_spike::DeniedSpike {
                max_per_hour: *max_per_hour,
            }
            .judge(ctx, rule, scope)
            .await
        }
        Check::IpRules {
            max_rules,
            flag_unused,
        } => {
            ip_rules::IpRules {
                max_rules: *max_rules,
                flag_unused: *flag_unused,
            }
            .judge(ctx, rule, scope)
            .await
        }
    }
}

/// Findings counted per registry (in registry order).
pub(crate) fn per_registry<'a>(
    registries: impl IntoIterator<Item = &'a str>,
) -> Vec<RegistryCount> {
    let mut counts: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for r in registries {
        *counts.entry(r).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(registry, count)| RegistryCount {
            registry: Some(registry.to_owned()),
            count,
        })
        .collect()
}

/// A rule's scope (registries, repository patterns) within the window.
fn scoped(rule: &Rule, window: Window) -> Scope {
    let mut f = Filter::default();
    f.any_of("registry", &rule.registries);
    if !rule.repositories.is_empty() {
        let patterns: Vec<String> = rule
            .repositories
            .iter()
            .map(|g| format!("repository LIKE {} ESCAPE '\\'", f.text(&glob_to_like(g))))
            .collect();
        f.push(format!("({})", patterns.join(" OR ")));
    }
    Scope {
        filter: f,
        window,
        repositories: !rule.repositories.is_empty(),
    }
}

/// Requests found, and the time of the first and the last.
type Found = (u64, Option<i64>, Option<i64>);

/// Event-level violations: the requests matching `filter`, counted from `counted`, with the
/// first of them as samples.
pub(crate) async fn event_violation(
    ctx: &SessionContext,
    rule: &Rule,
    filter: &Filter,
    counted: Counted,
    finding: String,
) -> Result<Option<Violation>> {
    let mut f = filter.clone();
    let from = counted.from(&mut f);
    let bucket = counted.bucket();
    let stats = query(
        ctx,
        &format!(
            "SELECT registry, {bucket} AS bucket, {} AS n, {} AS first, {} AS last FROM {from} \
             WHERE {} GROUP BY 1, 2",
            counted.requests(),
            counted.first(),
            counted.last(),
            f.sql()
        ),
        &f.params,
    )
    .await?;
    let mut groups = each(&stats, |r, i| {
        Ok((
            r.text("registry", i)?,
            r.int("n", i)?.unwrap_or(0) as u64,
            r.int("first", i)?,
            r.int("last", i)?,
        ))
    })?;
    // The samples are the first requests: taking groups in the order of their first request
    // until they hold enough, every sample is at or before the last request among them.
    groups.sort_by_key(|g| g.2);
    // Registries in SQL's order (NULL last): requests, first and last time.
    let mut per_registry: BTreeMap<(bool, Option<String>), Found> = BTreeMap::new();
    let (mut seen, mut cut, mut latest) = (0u64, None, None);
    for (registry, n, first, last) in groups {
        let entry = per_registry
            .entry((registry.is_none(), registry))
            .or_default();
        entry.0 += n;
        entry.1 = entry.1.into_iter().chain(first).min();
        entry.2 = entry.2.into_iter().chain(last).max();
        seen += n;
        latest = latest.into_iter().chain(last).max();
        if cut.is_none() && seen >= SAMPLES as u64 {
            cut = latest;
        }
    }
    if seen == 0 {
        return Ok(None);
    }
    let first = per_registry.values().filter_map(|r| r.1).min();
    let last = per_registry.values().filter_map(|r| r.2).max();
    let mut sampled = filter.clone();
    let from = Counted::events(counted.window()).from(&mut sampled);
    if let Some(cut) = cut {
        let p = sampled.bind(ScalarValue::TimestampMicrosecond(
            Some(cut),
            Some("UTC".into()),
        ));
        sampled.push(format!("time <= {p}"));
    }
    let samples = query(
        ctx,
        &format!(
            "SELECT time, registry, repository, caller_ip, identity, user_agent, access_path, access_reason \
             FROM {from} WHERE {} ORDER BY time, source, source_line LIMIT {SAMPLES}",
            sampled.sql()
        ),
        &sampled.params,
    )
    .await?;
    Ok(Some(Violation {
        rule: rule.name.clone(),
        severity: rule.severity,
        finding,
        count: seen,
        first_seen: first.map(format_timestamp_micros),
        last_seen: last.map(format_timestamp_micros),
        registries: per_registry
            .into_iter()
            .map(|((_, registry), (count, _, _))| RegistryCount { registry, count })
            .collect(),
        samples: each(&samples, |r, i| {
            Ok(Sample {
                time: r.text("time", i)?,
                registry: r.text("registry", i)?,
                repository: r.text("repository", i)?,
                caller_ip: r.text("caller_ip", i)?,
                identity: r.text("identity", i)?,
                user_agent: r.text("user_agent", i)?,
                access_path: r.text("access_path", i)?,
                detail: r.text("access_reason", i)?,
            })
        })?,
    }))
}

#[cfg(test)]
mod a_new_kind {
    //! A rule kind that exists only here: "no pull of a repository under `legacy/`". It is one
    //! module implementing [`RuleKind`], judged like every other kind.

    use super::*;
    use acrlens_policy::Severity;

    struct NoLegacyPulls;

    impl RuleKind for NoLegacyPulls {
        async fn judge(&self, ctx: &SessionContext, rule: &Rule, mut scope: Scope) -> Judged {
            let pattern = scope.filter.text("legacy/%");
            scope.filter.push(format!("repository LIKE {pattern}"));
            let finding = "legacy repositories were pulled".into();
            event_violation(ctx, rule, &scope.filter, scope.events(), finding).await
        }
    }

    async fn events() -> SessionContext {
        let ctx = SessionContext::new();
        ctx.sql(
            "CREATE TABLE events AS SELECT * FROM (VALUES \
             (CAST('2025-11-03T10:00:00Z' AS TIMESTAMP), 'contoso.azurecr.io', 'legacy/api', '203.0.113.7', \
              'ci', 'docker', 'public_internet', 'public_internet: …', 'a.json', 1), \
             (CAST('2025-11-03T11:00:00Z' AS TIMESTAMP), 'contoso.azurecr.io', 'prod/api', '10.0.1.4', \
              'aks', 'containerd', 'private_endpoint', 'private_endpoint: …', 'a.json', 2), \
             (CAST('2025-11-04T09:00:00Z' AS TIMESTAMP), 'fabrikam.azurecr.io', 'legacy/web', '198.51.100.9', \
              'dev', 'docker', 'public_internet', 'public_internet: …', 'b.json', 1)) \
             AS t(time, registry, repository, caller_ip, identity, user_agent, access_path, access_reason, source, source_line)",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        ctx
    }

    fn rule(registries: &[&str]) -> Rule {
        Rule {
            name: "no legacy pulls".into(),
            severity: Severity::Low,
            registries: registries.iter().map(|r| r.to_string()).collect(),
            repositories: Vec::new(),
            check: Check::NoUnexplained {},
        }
    }

    #[tokio::test]
    async fn a_kind_in_its_own_module_is_judged_within_the_rules_scope() {
        let ctx = events().await;
        let all = rule(&[]);
        let v = NoLegacyPulls
            .judge(&ctx, &all, scoped(&all, Window::default()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v.count, 2);
        assert_eq!(v.samples[0].repository.as_deref(), Some("legacy/api"));
        assert_eq!(v.finding, "legacy repositories were pulled");
        let contoso = rule(&["contoso.azurecr.io"]);
        let until = Window {
            since: None,
            until: acrlens_values::parse_timestamp_micros("2025-11-03T10:30:00Z"),
        };
        let v = NoLegacyPulls
            .judge(&ctx, &contoso, scoped(&contoso, until))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v.count, 1);
        let later = Window {
            since: acrlens_values::parse_timestamp_micros("2025-11-05T00:00:00Z"),
            until: None,
        };
        assert!(
            NoLegacyPulls
                .judge(&ctx, &all, scoped(&all, later))
                .await
                .unwrap()
                .is_none()
        );
    }
}
