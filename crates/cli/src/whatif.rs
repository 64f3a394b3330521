//! `acrlens whatif`: replay a period of a registry's requests against a proposed network
//! configuration; exit 1 when somebody let in today would be cut off.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use acrlens_engine::session;
use acrlens_netmap::{Proposal, RegistryConfig};
use acrlens_whatif::{Target, Window, render, whatif};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::output::write_document;
use crate::runtime::query_runtime;
use crate::sourceargs::SourceArgs;
use crate::topology::TopologyArgs;

#[derive(Args)]
pub struct WhatIfArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    topology: TopologyArgs,
    /// The registry (`contoso` or `contoso.azurecr.io`).
    #[arg(long)]
    registry: String,
    /// A change to the configurations in force: public_network_access=Enabled|Disabled,
    /// default_action=Allow|Deny, bypass=AzureServices|None, tasks_bypass=true|false,
    /// ip_rules=CIDR,… (the whole list) or ip_rules=+CIDR,-CIDR (edits),
    /// private_endpoint=SUBNET; repeat for more.
    #[arg(
        long = "set",
        value_name = "KEY=VALUE",
        required_unless_present = "registry_config"
    )]
    set: Vec<String>,
    /// A whole configuration (`az acr show` output) replayed in place of every one in force;
    /// --set changes it further.
    #[arg(long, value_name = "FILE")]
    registry_config: Option<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "md")]
    format: WhatIfFormat,
    /// Write the output here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum WhatIfFormat {
    /// Markdown, for the pull request that makes the change.
    Md,
    /// One self-contained HTML page.
    Html,
    /// JSON (schema acrlens.whatif/v1).
    Json,
}

fn registry_config(path: &Path) -> Result<RegistryConfig> {
    let mut configs =
        RegistryConfig::load(path, None).with_context(|| format!("loading {}", path.display()))?;
    if configs.len() != 1 {
        bail!(
            "{} holds {} registries; --registry-config takes one",
            path.display(),
            configs.len()
        );
    }
    Ok(configs.remove(0))
}

pub fn run(args: &WhatIfArgs) -> Result<ExitCode> {
    let topology = Arc::new(args.topology.load()?);
    let target = Target {
        registry: args.registry.clone(),
        proposal: Proposal::parse(&args.set, topology.subnets())?,
        registry_config: args
            .registry_config
            .as_deref()
            .map(registry_config)
            .transpose()?,
    };
    let window = args.source.decode.window()?;
    let source = args.source.source()?;
    let runtime = query_runtime()?;
    let outcome = runtime.block_on(async {
        let s = session(source, topology.clone()).await?;
        let window = Window {
            since: window.since,
            until: window.until,
        };
        anyhow::Ok(whatif(&s.ctx, &topology, &target, window).await?)
    })?;
    let text = match args.format {
        WhatIfFormat::Md => render::markdown(&outcome),
        WhatIfFormat::Html => render::html(&outcome),
        WhatIfFormat::Json => render::json(&outcome),
    };
    write_document(args.out.as_deref(), &text)?;
    Ok(if outcome.cuts_off_anyone() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
