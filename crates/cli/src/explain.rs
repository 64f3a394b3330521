//! `acrlens explain`: every fact about one address and the verdict a request from it would get.

use std::borrow::Cow;
use std::io::Write;
use std::process::ExitCode;

use acrlens_attrib::{Attributor, attribution_fields};
use acrlens_events::{
    EventBatchBuilder, FieldName, Loose, NullSpelling, RawRecord, RecordContext, TimeWindow,
    format_timestamp_micros,
};
use anyhow::{Result, bail};
use arrow_array::{Array, Int64Array, ListArray, RecordBatch, StringArray};
use clap::{Args, ValueEnum};
use sonic_rs::{JsonValueTrait, Value, json};

use crate::timearg::parse_time_arg;
use crate::topology::TopologyArgs;

#[derive(Args)]
pub struct ExplainArgs {
    /// The caller address, as a log would hold it (a port is fine).
    ip: String,
    /// The registry's login server (or resource id) whose rules apply.
    #[arg(long)]
    registry: Option<String>,
    /// When the request happened (default: now); picks the service tags and configuration in force.
    #[arg(long, value_parser = parse_time_arg)]
    at: Option<i64>,
    /// The HTTP status of the request.
    #[arg(long, default_value_t = 200)]
    status: u16,
    /// The request's user agent (sharpens the caller-kind guess).
    #[arg(long)]
    user_agent: Option<String>,
    #[command(flatten)]
    topology: TopologyArgs,
    /// Output format.
    #[arg(long, default_value = "text")]
    format: ExplainFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExplainFormat {
    /// One fact per line.
    Text,
    /// One JSON object keyed by the attribution column names.
    Json,
}

/// The request as a one-row canonical batch, so `explain` shows exactly what `ingest` computes.
fn request_batch(args: &ExplainArgs, at: i64) -> Result<RecordBatch> {
    let time = format_timestamp_micros(at);
    let status = args.status.to_string();
    let mut record = RawRecord::default();
    let mut set = |field, value: Option<&str>| {
        if let Some(v) = value {
            record.offer(field, Loose::Str(Cow::Owned(v.to_owned())));
        }
    };
    set(FieldName::Time, Some(&time));
    set(FieldName::CallerIp, Some(&args.ip));
    set(FieldName::LoginServer, args.registry.as_deref());
    set(FieldName::ResultDescription, Some(&status));
    set(FieldName::UserAgent, args.user_agent.as_deref());
    let ctx = RecordContext {
        nulls: NullSpelling::Nil,
        category_hint: None,
        window: TimeWindow::default(),
    };
    let mut builder = EventBatchBuilder::new("explain".into(), 1);
    if let acrlens_events::Outcome::Rejected(why) = builder.push(&record, 1, &ctx) {
        bail!("cannot explain this request: {why}");
    }
    Ok(builder.finish().batch)
}

/// The attribution columns of row 0 as (name, JSON value).
fn attribution_values(batch: &RecordBatch) -> Vec<(String, Value)> {
    attribution_fields()
        .iter()
        .filter_map(|field| {
            let column = batch.column_by_name(field.name())?;
            let value = if column.is_null(0) {
                Value::new_null()
            } else if let Some(text) = column.as_any().downcast_ref::<StringArray>() {
                json!(text.value(0))
            } else if let Some(number) = column.as_any().downcast_ref::<Int64Array>() {
                json!(number.value(0))
            } else if let Some(list) = column.as_any().downcast_ref::<ListArray>() {
                let items = list.value(0);
                let items = items
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .map(|a| a.iter().flatten().map(|s| json!(s)).collect::<Vec<_>>())
                    .unwrap_or_default();
                Value::from(items)
            } else {
                Value::new_null()
            };
            Some((field.name().clone(), value))
        })
        .collect()
}

pub fn run(args: &ExplainArgs) -> Result<ExitCode> {
    let topology = args.topology.load()?;
    let at = args
        .at
        .unwrap_or_else(|| parse_time_arg("0m").unwrap_or_default());
    let batch = Attributor::new(&topology).attribute(&request_batch(args, at)?)?;
    let values = attribution_values(&batch);
    let mut out = std::io::stdout().lock();
    match args.format {
        ExplainFormat::Json => {
            // Written by hand to keep the columns' order.
            let fields: Vec<String> = values
                .iter()
                .map(|(name, value)| {
                    Ok(format!(
                        "{}:{}",
                        sonic_rs::to_string(name)?,
                        sonic_rs::to_string(value)?
                    ))
                })
                .collect::<Result<_>>()?;
            writeln!(out, "{{{}}}", fields.join(","))?;
        }
        ExplainFormat::Text => {
            writeln!(
                out,
                "{} at {}{}",
                args.ip,
                format_timestamp_micros(at),
                args.registry
                    .as_deref()
                    .map(|r| format!(" to {r}"))
                    .unwrap_or_default()
            )?;
            for (name, value) in &values {
                let shown = match value.as_str() {
                    Some(s) => s.to_owned(),
                    None if value.is_null() => "-".to_owned(),
                    None => sonic_rs::to_string(value)?,
                };
                writeln!(out, "  {name:<16} {shown}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
