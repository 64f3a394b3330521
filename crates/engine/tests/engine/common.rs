//! What the engine's tests share: the sample session (the bundled exports and topology), a
//! runner database over a DataFusion session for the sqllogictest files, and the comparison of
//! acrlens's groupings with DataFusion's.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use acrlens_engine::{EventSource, session};
use acrlens_events::{DecodeOptions, InputSource, discover};
use acrlens_netmap::Topology;
use arrow_array::RecordBatch;
use arrow_schema::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bundled topology.
pub fn sample_topology() -> Arc<Topology> {
    Arc::new(Topology::load(&root().join("sample-logs/topology/acrlens.toml")).unwrap())
}

/// The bundled exports' files.
pub fn sample_inputs() -> Vec<InputSource> {
    discover(
        &[root().join("sample-logs/exports").display().to_string()],
        Default::default(),
    )
    .unwrap()
}

/// The bundled exports, as raw logs.
pub fn sample_exports() -> EventSource {
    EventSource::Logs {
        sources: sample_inputs(),
        options: DecodeOptions::default(),
    }
}

pub async fn sample_session() -> SessionContext {
    session(sample_exports(), sample_topology())
        .await
        .unwrap()
        .ctx
}

/// Two sessions over `source` and the bundled topology: acrlens's, which groups by numbers, and
/// one with DataFusion's own grouping (the tables and functions without acrlens's physical
/// rule).
pub async fn numbered_and_plain(
    source: impl Fn() -> EventSource,
) -> (SessionContext, SessionContext) {
    let numbered = session(source(), sample_topology()).await.unwrap().ctx;
    let plain = SessionContext::new();
    acrlens_engine::register(&plain, source(), sample_topology().into())
        .await
        .unwrap();
    (numbered, plain)
}

/// The SQL of a query file without comments or blank lines (a blank line ends an slt record).
pub fn statement(sql: &str) -> String {
    sql.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub struct Db {
    pub ctx: SessionContext,
    pub params: HashMap<String, ScalarValue>,
}

fn column_type(t: &DataType) -> DefaultColumnType {
    match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt32
        | DataType::UInt64 => DefaultColumnType::Integer,
        DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) => {
            DefaultColumnType::FloatingPoint
        }
        _ => DefaultColumnType::Text,
    }
}

pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for i in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| match f.value(i).to_string() {
                        s if s.is_empty() => "(empty)".to_owned(),
                        s => s,
                    })
                    .collect(),
            );
        }
    }
    rows
}

#[async_trait::async_trait]
impl AsyncDB for Db {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        let mut df = self.ctx.sql(sql).await?;
        if !self.params.is_empty() {
            df = df.with_param_values(self.params.clone())?;
        }
        let types: Vec<DefaultColumnType> = df
            .schema()
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let batches = df.collect().await?;
        if types.is_empty() {
            // A statement (CREATE TABLE, DROP TABLE): it answers no columns.
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows {
            types,
            rows: rows(&batches),
        })
    }

    async fn shutdown(&mut self) {}
}

/// The result of `sql` in `ctx`.
pub async fn collect(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

/// Batches as the table DataFusion prints.
pub fn table(batches: &[RecordBatch]) -> String {
    datafusion::arrow::util::pretty::pretty_format_batches(batches)
        .unwrap()
        .to_string()
}

/// The plan of `sql` in `ctx`, as text.
pub async fn explained(ctx: &SessionContext, sql: &str) -> String {
    table(&collect(ctx, &format!("EXPLAIN {sql}")).await)
}

/// The plan of `sql` in `ctx` with what running it measured, as text.
pub async fn analyzed(ctx: &SessionContext, sql: &str) -> String {
    table(&collect(ctx, &format!("EXPLAIN ANALYZE {sql}")).await)
}

/// The count `name` of the first operator `operator` in an `EXPLAIN ANALYZE`'s text.
pub fn metric(analyzed: &str, operator: &str, name: &str) -> Option<usize> {
    analyzed
        .split(operator)
        .nth(1)
        .and_then(|after| after.split(&format!("{name}=")).nth(1))
        .and_then(|n| n.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok())
}

/// Runs each of `queries` in a session grouping by numbers (`numbered`) and in one with
/// DataFusion's grouping (`plain`), at batches of 8,192 rows and of 7 (numbers kept from batch
/// to batch, buffers met before), and asserts that the two results look the same through
/// `shown` and that each has more than `rows` rows.
pub async fn assert_groupings_agree<T: PartialEq + std::fmt::Debug>(
    numbered: &SessionContext,
    plain: &SessionContext,
    queries: &[&str],
    rows: usize,
    shown: impl Fn(&[RecordBatch]) -> T,
) {
    for batch_size in [8192, 7] {
        for ctx in [numbered, plain] {
            collect(
                ctx,
                &format!("SET datafusion.execution.batch_size = {batch_size}"),
            )
            .await;
        }
        for sql in queries {
            let (got, want) = (collect(numbered, sql).await, collect(plain, sql).await);
            assert_eq!(shown(&got), shown(&want), "{sql}");
            let count: usize = want.iter().map(RecordBatch::num_rows).sum();
            assert!(count > rows, "{sql}: {count} rows");
        }
    }
}
