//! `no_public_when_disabled`: no public request reached a registry whose configuration in force
//! (the one its verdict names in `config_version`, whose first word is its effective time or
//! `initial`) had public network access disabled.

use acrlens_engine::rollup::PATHS;
use acrlens_engine::{EVENTS, Table};
use acrlens_policy::Rule;
use datafusion::prelude::SessionContext;

use super::{Judged, RuleKind, Scope, event_violation};

pub(crate) struct NoPublicWhenDisabled;

impl RuleKind for NoPublicWhenDisabled {
    async fn judge(&self, ctx: &SessionContext, rule: &Rule, mut scope: Scope) -> Judged {
        let registries = Table::Registries.name();
        scope.filter.push(format!(
            "access_path IN ('public_internet', 'public_azure', 'unexplained') AND EXISTS (\
             SELECT 1 FROM {registries} r WHERE r.login_server = {EVENTS}.registry \
             AND NOT r.public_network_access \
             AND ((split_part({EVENTS}.config_version, ' ', 1) = 'initial' AND r.effective_from IS NULL) \
             OR r.effective_from = TRY_CAST(split_part({EVENTS}.config_version, ' ', 1) AS TIMESTAMP)))",
        ));
        let finding = "public requests reached a registry whose public network access was disabled";
        let counted = scope.counted(PATHS);
        event_violation(ctx, rule, &scope.filter, counted, finding.into()).await
    }
}
