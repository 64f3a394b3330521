//! `allowed_paths`: requests in scope reached the registry only by the paths listed (a denied
//! request reached nothing, so it is no violation).

use acrlens_policy::Rule;
use datafusion::prelude::SessionContext;

use acrlens_engine::rollup::PATHS;

use super::{Judged, RuleKind, Scope, event_violation};

pub(crate) struct AllowedPaths<'r> {
    pub paths: &'r [String],
}

impl RuleKind for AllowedPaths<'_> {
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, mut scope: Scope) -> Judged {
        let allowed: Vec<String> = self
            .paths
            .iter()
            .map(|p| format!("access_path <> {}", scope.filter.text(p)))
            .collect();
        scope.filter.push("access_path <> 'denied'");
        scope.filter.parts.extend(allowed);
        let finding = format!(
            "requests reached the registry by a path other than {}",
            self.paths.join(", ")
        );
        let counted = scope.counted(PATHS);
        event_violation(ctx, rule, &scope.filter, counted, finding).await
    }
}
