//! The report's SQL layer: predicates whose every value is a bound parameter (never spliced
//! into the text), queries run with them, and intermediate tables kept in memory. Answers are
//! read with the typed reader of `rows`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::trace::{Traced, inline, trace, values_table};

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

    /// `column` from `from` (inclusive) to `to` (exclusive), both times in µs and `None` for
    /// unbounded, as a predicate whose bounds are bound here.
    pub fn within(&mut self, column: &str, from: Option<i64>, to: Option<i64>) -> String {
        let at = |t: i64| ScalarValue::TimestampMicrosecond(Some(t), Some("UTC".into()));
        let mut parts = Vec::new();
        if let Some(from) = from {
            parts.push(format!("{column} >= {}", self.bind(at(from))));
        }
        if let Some(to) = to {
            parts.push(format!("{column} < {}", self.bind(at(to))));
        }
        if parts.is_empty() {
            "TRUE".to_owned()
        } else {
            format!("({})", parts.join(" AND "))
        }
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
    /// Restricts `f` to the events of the window.
    pub(crate) fn restrict(self, f: &mut Filter) {
        if self.since.is_some() || self.until.is_some() {
            let within = f.within("time", self.since, self.until);
            f.push(within);
        }
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

/// Removes a view.
pub(crate) fn drop_view(ctx: &SessionContext, name: &str) -> Result<()> {
    trace(ctx, || Traced::Statement(format!("DROP VIEW {name}")));
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
    create(ctx, Made::Table, name, sql, params).await
}

/// Registers the query `sql` (with `params` bound) as the view `name`.
pub(crate) async fn view(
    ctx: &SessionContext,
    name: &str,
    sql: &str,
    params: &HashMap<String, ScalarValue>,
) -> Result<()> {
    create(ctx, Made::View, name, sql, params).await
}

/// What [`create`] makes of a query.
#[derive(Clone, Copy)]
enum Made {
    /// Its rows, kept in memory.
    Table,
    /// The query itself, run wherever it is read.
    View,
}

async fn create(
    ctx: &SessionContext,
    made: Made,
    name: &str,
    sql: &str,
    params: &HashMap<String, ScalarValue>,
) -> Result<()> {
    let kind = match made {
        Made::Table => "TABLE",
        Made::View => "VIEW",
    };
    trace(ctx, || {
        Traced::Statement(format!("CREATE {kind} {name} AS {}", inline(sql, params)))
    });
    let df = frame(ctx, sql, params).await?;
    let table: Arc<dyn TableProvider> = match made {
        Made::Table => {
            let schema = Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await?;
            Arc::new(MemTable::try_new(schema, vec![batches])?)
        }
        Made::View => df.into_view(),
    };
    ctx.deregister_table(name)?;
    ctx.register_table(name, table)?;
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
