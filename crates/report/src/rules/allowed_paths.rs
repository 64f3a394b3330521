//! `allowed_paths`: requests in scope reached the registry only by the paths listed (a denied
//! request reached nothing, so it is no violation).

use acrlens_policy::Rule;
use datafusion::prelude::SessionContext;

use super::{Judged, RuleKind, event_violation};
use crate::sql::Filter;

pub(crate) struct AllowedPaths<'r> {
    pub paths: &'r [String],
}

impl RuleKind for AllowedPaths<'_> {
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, mut scope: Filter) -> Judged {
        let allowed: Vec<String> = self
            .paths
            .iter()
            .map(|p| format!("access_path <> {}", scope.text(p)))
            .collect();
        scope.push("access_path <> 'denied'");
        scope.parts.extend(allowed);
        let finding = format!(
            "requests reached the registry by a path other than {}",
            self.paths.join(", ")
        );
        event_violation(ctx, rule, &scope, finding).await
    }
}
