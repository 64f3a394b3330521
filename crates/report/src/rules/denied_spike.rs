//! `denied_spike`: no hour with more firewall denials of one registry than the limit.

use acrlens_policy::Rule;
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;

use acrlens_engine::rollup::PATHS;

use super::{Judged, RuleKind, SAMPLES, Scope, per_registry};
use crate::model::{Sample, Violation};
use crate::rows::each;
use crate::sql::query;

pub(crate) struct DeniedSpike {
    pub max_per_hour: u64,
}

impl RuleKind for DeniedSpike {
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, scope: Scope) -> Judged {
        let counted = scope.counted(PATHS);
        let mut f = scope.filter;
        f.push("access_path = 'denied'");
        let max = f.bind(ScalarValue::Int64(Some(self.max_per_hour as i64)));
        let (hour, n, from) = (counted.hour()?, counted.requests(), counted.from(&mut f));
        let hours = query(
            ctx,
            &format!(
                "SELECT {hour} AS hour, registry, {n} AS denied FROM {from} WHERE {} \
                 GROUP BY 1, 2 HAVING {n} > {max} ORDER BY 1, 2",
                f.sql()
            ),
            &f.params,
        )
        .await?;
        let rows = each(&hours, |r, i| {
            Ok((
                r.text("hour", i)?,
                r.text("registry", i)?,
                r.int("denied", i)?.unwrap_or(0),
            ))
        })?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(Violation {
            rule: rule.name.clone(),
            severity: rule.severity,
            finding: format!(
                "hours with more than {} firewall denials",
                self.max_per_hour
            ),
            count: rows.len() as u64,
            first_seen: rows.first().and_then(|r| r.0.clone()),
            last_seen: rows.last().and_then(|r| r.0.clone()),
            registries: per_registry(rows.iter().map(|r| r.1.as_deref().unwrap_or_default())),
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
}
