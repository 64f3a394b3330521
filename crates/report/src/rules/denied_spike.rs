//! `denied_spike`: no hour with more firewall denials of one registry than the limit.

use acrlens_policy::Rule;
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;

use super::{Judged, RuleKind, SAMPLES, per_registry};
use crate::model::{Sample, Violation};
use crate::rows::each;
use crate::sql::{Filter, query};

pub(crate) struct DeniedSpike {
    pub max_per_hour: u64,
}

impl RuleKind for DeniedSpike {
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, mut scope: Filter) -> Judged {
        scope.push("access_path = 'denied'");
        let max = scope.bind(ScalarValue::Int64(Some(self.max_per_hour as i64)));
        let hours = query(
            ctx,
            &format!(
                "SELECT date_trunc('hour', time) AS hour, registry, count(*) AS denied FROM events WHERE {} \
                 GROUP BY 1, 2 HAVING count(*) > {max} ORDER BY 1, 2",
                scope.sql()
            ),
            &scope.params,
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
