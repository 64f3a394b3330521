//! `acrlens query`: SQL over raw exports, with the topology's tables and IP functions.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use acrlens_engine::{OutputFormat, ResultWriter, bind_params};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use futures::StreamExt;

use crate::cluster::ClusterArgs;
use crate::runtime::query_runtime;
use crate::sourceargs::SourceArgs;
use crate::topology::TopologyArgs;

#[derive(Args)]
pub struct QueryArgs {
    /// The SQL to run (or --file).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    sql: Option<String>,
    /// A file of SQL, such as one of `queries/`.
    #[arg(long)]
    file: Option<PathBuf>,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    topology: TopologyArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// A named parameter for `$name` in the SQL, as `name=value` (repeatable); a query file's
    /// `-- param name: default` lines give defaults. Values are bound, never spliced into the SQL.
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Output format.
    #[arg(long, default_value = "table")]
    format: Format,
    /// Write the result here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// An aligned text table.
    Table,
    /// RFC 4180 CSV.
    Csv,
    /// JSON lines.
    Json,
    /// Parquet (zstd).
    Parquet,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not name=value"))?;
    let name = name.trim().trim_start_matches('$');
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("{name:?} is not a parameter name"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

pub fn run(args: &QueryArgs, quiet: bool) -> Result<ExitCode> {
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        (None, None) => bail!("give SQL or --file"),
    };
    if matches!(args.format, Format::Parquet) && args.out.is_none() {
        bail!("--format parquet needs --out FILE");
    }
    let source = args.source.source()?;
    let runtime = query_runtime()?;
    let run = runtime.block_on(async {
        let s = args
            .cluster
            .session(source, &args.topology, args.topology.lazy())
            .await?;
        let mut df = s.ctx.sql(&sql).await?;
        let values = bind_params(&sql, &args.params);
        if !values.is_empty() {
            df = df.with_param_values(values)?;
        }
        let schema = Arc::new(df.schema().as_arrow().clone());
        let out: Box<dyn Write + Send> = match &args.out {
            Some(path) => Box::new(BufWriter::new(File::create(path).with_context(|| format!("cannot create {}", path.display()))?)),
            None => Box::new(BufWriter::new(std::io::stdout())),
        };
        let format = match args.format {
            Format::Table => OutputFormat::Table,
            Format::Csv => OutputFormat::Csv,
            Format::Json => OutputFormat::Json,
            Format::Parquet => OutputFormat::Parquet,
        };
        let mut writer = ResultWriter::new(format, &schema, out)?;
        let mut stream = df.execute_stream().await?;
        while let Some(batch) = stream.next().await {
            writer.write(batch?)?;
        }
        writer.finish()?;
        let quarantined = s.quarantined.load(Ordering::Relaxed);
        if quarantined > 0 && !quiet {
            eprintln!("note: {quarantined} records could not be decoded and are not in the result (acrlens ingest --quarantine FILE lists them)");
        }
        Ok(ExitCode::SUCCESS)
    });
    run.map_err(|e| args.cluster.explain(e))
}
