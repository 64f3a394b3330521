//! `trusted_bypass`: only the listed identities or caller kinds used the trusted-service bypass.

use acrlens_policy::Rule;
use datafusion::prelude::SessionContext;

use acrlens_engine::rollup::TRUSTED;

use super::{Judged, RuleKind, Scope, event_violation};
use crate::sql::Filter;

pub(crate) struct TrustedBypass<'r> {
    pub identities: &'r [String],
    pub caller_kinds: &'r [String],
}

impl RuleKind for TrustedBypass<'_> {
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, mut scope: Scope) -> Judged {
        scope.filter.push("access_path = 'trusted_service'");
        // The allowed callers, bound in the same parameter list as the scope.
        let mut allowed = Filter {
            params: std::mem::take(&mut scope.filter.params),
            ..Filter::default()
        };
        allowed.any_of("identity", self.identities);
        allowed.any_of("caller_kind", self.caller_kinds);
        if !allowed.parts.is_empty() {
            scope
                .filter
                .push(format!("NOT ({})", allowed.parts.join(" OR ")));
        }
        scope.filter.params = allowed.params;
        let finding = "callers outside the allowed list used the trusted-service bypass";
        let counted = scope.counted(TRUSTED);
        event_violation(ctx, rule, &scope.filter, counted, finding.into()).await
    }
}
