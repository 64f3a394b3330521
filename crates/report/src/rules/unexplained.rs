//! `no_unexplained`: no request succeeded that the registry's rules deny and no bypass explains.

use acrlens_policy::Rule;
use datafusion::prelude::SessionContext;

use super::{Judged, RuleKind, event_violation};
use crate::sql::Filter;

pub(crate) struct NoUnexplained;

impl RuleKind for NoUnexplained {
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, mut scope: Filter) -> Judged {
        scope.push("access_path = 'unexplained'");
        let finding = "requests succeeded that the registry's rules deny and no bypass explains";
        event_violation(ctx, rule, &scope, finding.into()).await
    }
}
