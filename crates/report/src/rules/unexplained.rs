//! `no_unexplained`: no request succeeded that the registry's rules deny and no bypass explains.

use acrlens_policy::Rule;
use datafusion::prelude::SessionContext;

use acrlens_engine::rollup::PATHS;

use super::{Judged, RuleKind, Scope, event_violation};

pub(crate) struct NoUnexplained;

impl RuleKind for NoUnexplained {
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, mut scope: Scope) -> Judged {
        scope.filter.push("access_path = 'unexplained'");
        let finding = "requests succeeded that the registry's rules deny and no bypass explains";
        let counted = scope.counted(PATHS);
        event_violation(ctx, rule, &scope.filter, counted, finding.into()).await
    }
}
