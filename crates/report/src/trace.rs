//! Tracing the report's SQL for the tests that pin it: when a session carries an [`SqlTrace`],
//! every statement the report runs is recorded as SQL a sqllogictest runner can replay. Only
//! the trace writes values into SQL text; the report itself always binds them as parameters.

use std::collections::HashMap;

use acrlens_values::format_timestamp_micros;
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::{DataType, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;

use crate::rows::as_type;

/// Every statement the report runs, when the session carries one (as a `SessionConfig`
/// extension): the SQL with its parameters written in as literals, and the temporary tables it
/// keeps as `CREATE TABLE` / `DROP TABLE`, so a sqllogictest file can replay the report's SQL
/// and pin what each statement answers.
#[derive(Debug, Default)]
pub struct SqlTrace(std::sync::Mutex<Vec<Traced>>);

/// One statement of a [`SqlTrace`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Traced {
    /// A query, with the rows it answered kept by the replay.
    Query(String),
    /// A statement whose effect (a table) later queries read.
    Statement(String),
}

impl SqlTrace {
    /// The statements traced so far, in order.
    pub fn statements(&self) -> Vec<Traced> {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

pub(crate) fn trace(ctx: &SessionContext, statement: impl FnOnce() -> Traced) {
    // Read through the shared state: `ctx.state()` would clone it for every statement.
    let trace = ctx.state_ref().read().config().get_extension::<SqlTrace>();
    if let Some(trace) = trace
        && let Ok(mut statements) = trace.0.lock()
    {
        statements.push(statement());
    }
}

/// `sql` with its `$name` parameters written in as SQL literals.
pub(crate) fn inline(sql: &str, params: &HashMap<String, ScalarValue>) -> String {
    let mut names: Vec<&String> = params.keys().collect();
    // `$p10` before `$p1`.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = sql.to_owned();
    for name in names {
        out = out.replace(&format!("${name}"), &literal(&params[name]));
    }
    out
}

/// A value as a SQL literal.
fn literal(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Utf8(Some(text)) => quoted(text),
        ScalarValue::TimestampMicrosecond(Some(t), _) => format!(
            "arrow_cast({}, 'Timestamp(Microsecond, Some(\"UTC\"))')",
            quoted(&format_timestamp_micros(*t))
        ),
        other if other.is_null() => "NULL".to_owned(),
        other => other.to_string(),
    }
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `CREATE TABLE name (…) AS VALUES …` of text rows.
pub(crate) fn values_table(name: &str, schema: &SchemaRef, batches: &[RecordBatch]) -> String {
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{} VARCHAR", f.name()))
        .collect();
    let mut rows = Vec::new();
    for batch in batches {
        let texts: Vec<Option<StringArray>> = batch
            .columns()
            .iter()
            .map(|c| as_type::<StringArray>(c, &DataType::Utf8).ok())
            .collect();
        for i in 0..batch.num_rows() {
            let cells: Vec<String> = texts
                .iter()
                .map(|t| match t {
                    Some(t) if t.is_valid(i) => quoted(t.value(i)),
                    _ => "NULL".to_owned(),
                })
                .collect();
            rows.push(format!("({})", cells.join(", ")));
        }
    }
    format!(
        "CREATE TABLE {name} ({}) AS VALUES {}",
        columns.join(", "),
        rows.join(", ")
    )
}
