//! The report's SQL layer: predicates whose every value is a bound parameter (never spliced
//! into the text), queries run with them, intermediate tables kept in memory, and a row reader
//! that reads a result column by name and type — a column the query does not have, or of
//! another type than the reader asks for, is an error, not a silent 0 or "".

use std::collections::HashMap;
use std::sync::Arc;

use acrlens_values::format_timestamp_micros;
use arrow_array::{
    Array, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use datafusion::arrow::compute::cast;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

/// A SQL predicate with its bound parameters.
#[derive(Default, Clone)]
pub(crate) struct Filter {
    pub parts: Vec<String>,
    pub params: HashMap<String, ScalarValue>,
}

impl Filter {
    /// Binds a value; the returned placeholder goes into the SQL text.
    pub fn bind(&mut self, value: ScalarValue) -> String {
        let name = format!("p{}", self.params.len());
        self.params.insert(name.clone(), value);
        format!("${name}")
    }

    /// Binds a text value.
    pub fn text(&mut self, value: &str) -> String {
        self.bind(ScalarValue::Utf8(Some(value.to_owned())))
    }

    /// `column` equals one of `values` (no constraint when empty).
    pub fn any_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let alternatives: Vec<String> = values
            .iter()
            .map(|v| format!("{column} = {}", self.text(v)))
            .collect();
        self.parts.push(format!("({})", alternatives.join(" OR ")));
    }

    /// Adds a predicate (its values already bound).
    pub fn push(&mut self, predicate: impl Into<String>) {
        self.parts.push(predicate.into());
    }

    /// The predicate's text.
    pub fn sql(&self) -> String {
        if self.parts.is_empty() {
            "TRUE".to_owned()
        } else {
            self.parts.join(" AND ")
        }
    }
}

/// The window every section of the report is limited to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// Inclusive start (µs).
    pub since: Option<i64>,
    /// Exclusive end (µs).
    pub until: Option<i64>,
}

impl Window {
    /// The events of the window, as a predicate.
    pub(crate) fn filter(self) -> Filter {
        let mut f = Filter::default();
        let at = |t: i64| ScalarValue::TimestampMicrosecond(Some(t), Some("UTC".into()));
        if let Some(since) = self.since {
            let p = f.bind(at(since));
            f.push(format!("time >= {p}"));
        }
        if let Some(until) = self.until {
            let p = f.bind(at(until));
            f.push(format!("time < {p}"));
        }
        f
    }
}

async fn frame(
    ctx: &SessionContext,
    sql: &str,
    params: &HashMap<String, ScalarValue>,
) -> Result<DataFrame> {
    let df = ctx.sql(sql).await?;
    if params.is_empty() {
        Ok(df)
    } else {
        df.with_param_values(params.clone())
    }
}

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

fn trace(ctx: &SessionContext, statement: impl FnOnce() -> Traced) {
    if let Some(trace) = ctx.state().config().get_extension::<SqlTrace>()
        && let Ok(mut statements) = trace.0.lock()
    {
        statements.push(statement());
    }
}

/// `sql` with its `$name` parameters written in as SQL literals.
fn inline(sql: &str, params: &HashMap<String, ScalarValue>) -> String {
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

/// Runs `sql` with `params` bound.
pub(crate) async fn query(
    ctx: &SessionContext,
    sql: &str,
    params: &HashMap<String, ScalarValue>,
) -> Result<Vec<RecordBatch>> {
    trace(ctx, || Traced::Query(inline(sql, params)));
    frame(ctx, sql, params).await?.collect().await
}

/// Removes a kept table.
pub(crate) fn drop_table(ctx: &SessionContext, name: &str) -> Result<()> {
    trace(ctx, || Traced::Statement(format!("DROP TABLE {name}")));
    ctx.deregister_table(name)?;
    Ok(())
}

/// Runs `sql` and keeps its result as table `name`.
pub(crate) async fn keep(
    ctx: &SessionContext,
    name: &str,
    sql: &str,
    params: &HashMap<String, ScalarValue>,
) -> Result<()> {
    trace(ctx, || {
        Traced::Statement(format!("CREATE TABLE {name} AS {}", inline(sql, params)))
    });
    let df = frame(ctx, sql, params).await?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    Ok(())
}

/// Registers text rows as the in-memory table `name`, replacing any table of that name.
pub(crate) fn register(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    trace(ctx, || {
        Traced::Statement(values_table(name, &schema, &batches))
    });
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    Ok(())
}

/// A result batch's columns by name: text columns (times formatted as RFC 3339) and integer
/// columns (times as µs), each converted once per batch.
pub(crate) struct Rows {
    types: HashMap<String, DataType>,
    text: HashMap<String, StringArray>,
    ints: HashMap<String, Int64Array>,
    flags: HashMap<String, BooleanArray>,
}

impl Rows {
    fn of(batch: &RecordBatch) -> Result<Rows> {
        let mut rows = Rows {
            types: HashMap::new(),
            text: HashMap::new(),
            ints: HashMap::new(),
            flags: HashMap::new(),
        };
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            let name = field.name().clone();
            let ty = field.data_type();
            rows.types.insert(name.clone(), ty.clone());
            if let DataType::Timestamp(..) = ty {
                let micros: TimestampMicrosecondArray =
                    as_type(column, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
                let formatted = micros
                    .iter()
                    .map(|v| v.map(format_timestamp_micros))
                    .collect();
                rows.text.insert(name.clone(), formatted);
                rows.ints.insert(name, as_type(&micros, &DataType::Int64)?);
                continue;
            }
            if is_text(ty) {
                rows.text
                    .insert(name.clone(), as_type(column, &DataType::Utf8)?);
            }
            if let Some(flags) = column.as_any().downcast_ref::<BooleanArray>() {
                rows.flags.insert(name.clone(), flags.clone());
            }
            if ty.is_integer() {
                rows.ints.insert(name, as_type(column, &DataType::Int64)?);
            }
        }
        Ok(rows)
    }

    fn missing(&self, column: &str, wanted: &str) -> DataFusionError {
        DataFusionError::Execution(match self.types.get(column) {
            Some(ty) => format!("report query: column {column} is {ty}, not {wanted}"),
            None => format!("report query: no column {column}"),
        })
    }

    /// A text column's value (NULL is `None`).
    pub fn text(&self, column: &str, row: usize) -> Result<Option<String>> {
        let c = self
            .text
            .get(column)
            .ok_or_else(|| self.missing(column, "text"))?;
        Ok(c.is_valid(row).then(|| c.value(row).to_owned()))
    }

    /// A boolean column's value (NULL is `None`).
    pub fn flag(&self, column: &str, row: usize) -> Result<Option<bool>> {
        let b = self
            .flags
            .get(column)
            .ok_or_else(|| self.missing(column, "a boolean"))?;
        Ok(b.is_valid(row).then(|| b.value(row)))
    }

    /// An integer column's value (NULL is `None`).
    pub fn int(&self, column: &str, row: usize) -> Result<Option<i64>> {
        let n = self
            .ints
            .get(column)
            .ok_or_else(|| self.missing(column, "an integer"))?;
        Ok(n.is_valid(row).then(|| n.value(row)))
    }
}

/// `CREATE TABLE name (…) AS VALUES …` of text rows.
fn values_table(name: &str, schema: &SchemaRef, batches: &[RecordBatch]) -> String {
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

fn is_text(ty: &DataType) -> bool {
    match ty {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

fn as_type<T: Clone + 'static>(column: &dyn Array, ty: &DataType) -> Result<T> {
    let cast = cast(column, ty)?;
    cast.as_any()
        .downcast_ref::<T>()
        .cloned()
        .ok_or_else(|| DataFusionError::Internal(format!("cast to {ty} gave another array")))
}

/// Reads every row of `batches` with `read`.
pub(crate) fn each<T>(
    batches: &[RecordBatch],
    mut read: impl FnMut(&Rows, usize) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for batch in batches {
        let rows = Rows::of(batch)?;
        for i in 0..batch.num_rows() {
            out.push(read(&rows, i)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn rows(sql: &str) -> Vec<RecordBatch> {
        SessionContext::new()
            .sql(sql)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_column_read_by_the_wrong_name_or_type_is_an_error() {
        let batches = rows("SELECT 'contoso' AS registry, CAST(3 AS BIGINT) AS n").await;
        let read = each(&batches, |r, i| {
            Ok((r.text("registry", i)?, r.int("n", i)?))
        })
        .unwrap();
        assert_eq!(read, [(Some("contoso".to_owned()), Some(3))]);
        let typo = each(&batches, |r, i| r.text("registy", i)).unwrap_err();
        assert!(typo.to_string().contains("no column registy"), "{typo}");
        let mistyped = each(&batches, |r, i| r.int("registry", i)).unwrap_err();
        assert!(
            mistyped
                .to_string()
                .contains("column registry is Utf8, not an integer"),
            "{mistyped}"
        );
    }
}
