//! Reading a query's answer: a result column by name and type — a column the query does not
//! have, or of another type than the reader asks for, is an error, not a silent 0 or "".

use std::collections::HashMap;

use acrlens_engine::as_text;
use acrlens_values::format_timestamp_micros;
use arrow_array::{Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, TimeUnit};
use datafusion::arrow::compute::cast;
use datafusion::error::{DataFusionError, Result};

/// A result batch's columns by name: text columns (times formatted as RFC 3339) and integer
/// columns (times as µs), each converted once per batch.
pub(crate) struct Rows {
    types: HashMap<String, DataType>,
    text: HashMap<String, StringArray>,
    ints: HashMap<String, Int64Array>,
}

impl Rows {
    fn of(batch: &RecordBatch) -> Result<Rows> {
        let mut rows = Rows {
            types: HashMap::new(),
            text: HashMap::new(),
            ints: HashMap::new(),
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
            if let Some(text) = as_text(column.as_ref())? {
                rows.text.insert(name.clone(), text);
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

    /// An integer column's value (NULL is `None`).
    pub fn int(&self, column: &str, row: usize) -> Result<Option<i64>> {
        let n = self
            .ints
            .get(column)
            .ok_or_else(|| self.missing(column, "an integer"))?;
        Ok(n.is_valid(row).then(|| n.value(row)))
    }
}

pub(crate) fn as_type<T: Clone + 'static>(column: &dyn Array, ty: &DataType) -> Result<T> {
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
    use datafusion::prelude::SessionContext;

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
