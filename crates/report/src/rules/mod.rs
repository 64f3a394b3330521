//! The policy's rules, one module per kind behind [`RuleKind`]: a kind judges a rule over the
//! events in the rule's scope and says what violates it. A new kind is a new module here (and
//! its variant of `acrlens_policy::Check`, which parses it).

mod allowed_paths;
mod denied_spike;
mod ip_rules;
mod public_disabled;
mod trusted_bypass;
mod unexplained;

use acrlens_policy::{Check, Rule, glob_to_like};
use acrlens_values::format_timestamp_micros;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::model::{RegistryCount, Sample, Violation};
use crate::rows::each;
use crate::sql::{Filter, Window, query};

/// How many examples a violation shows.
pub(crate) const SAMPLES: usize = 5;

/// What judging a rule gives: the violation, or `None` when nothing violates it.
pub(crate) type Judged = Result<Option<Violation>>;

/// One kind of rule.
pub(crate) trait RuleKind {
    /// Judges `rule` over the events `scope` selects (its registries and repositories within
    /// the window): the violation, or `None` when nothing violates it.
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, scope: Filter) -> Judged;
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
fn scoped(rule: &Rule, window: Window) -> Filter {
    let mut f = window.filter();
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

/// Event-level violations: the events matching `filter`.
pub(crate) async fn event_violation(
    ctx: &SessionContext,
    rule: &Rule,
    filter: &Filter,
    finding: String,
) -> Result<Option<Violation>> {
    let w = filter.sql();
    let stats = query(
        ctx,
        &format!(
            "SELECT registry, count(*) AS n, min(time) AS first, max(time) AS last FROM events \
             WHERE {w} GROUP BY registry ORDER BY registry"
        ),
        &filter.params,
    )
    .await?;
    let per_registry = each(&stats, |r, i| {
        Ok((
            r.text("registry", i)?,
            r.int("n", i)?.unwrap_or(0) as u64,
            r.int("first", i)?,
            r.int("last", i)?,
        ))
    })?;
    let n: u64 = per_registry.iter().map(|r| r.1).sum();
    if n == 0 {
        return Ok(None);
    }
    let first = per_registry.iter().filter_map(|r| r.2).min();
    let last = per_registry.iter().filter_map(|r| r.3).max();
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
        count: n,
        first_seen: first.map(format_timestamp_micros),
        last_seen: last.map(format_timestamp_micros),
        registries: per_registry
            .into_iter()
            .map(|(registry, count, _, _)| RegistryCount { registry, count })
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
        async fn judge(&self, ctx: &SessionContext, rule: &Rule, mut scope: Filter) -> Judged {
            let pattern = scope.text("legacy/%");
            scope.push(format!("repository LIKE {pattern}"));
            event_violation(ctx, rule, &scope, "legacy repositories were pulled".into()).await
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
