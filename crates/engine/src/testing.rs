//! Attributed batches for unit tests: the columns a test gives, every other one NULL where it
//! may be, or a constant (`x`, 7, empty lists).

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, new_null_array};
use arrow_schema::DataType;
use datafusion::arrow::compute::cast;

/// `n` rows of the attributed schema, with the columns `given` returns.
pub(crate) fn attributed_batch(n: usize, given: impl Fn(&str) -> Option<ArrayRef>) -> RecordBatch {
    let schema = acrlens_attrib::attributed_schema();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            if let Some(column) = given(field.name()) {
                return column;
            }
            match field.data_type() {
                _ if field.is_nullable() => new_null_array(field.data_type(), n),
                t if t.is_nested() => {
                    let mut lists = ListBuilder::new(StringBuilder::new());
                    (0..n).for_each(|_| lists.append(true));
                    Arc::new(lists.finish())
                }
                DataType::Int64 => Arc::new(Int64Array::from(vec![7; n])),
                // Text, plain or as a dictionary (`source`).
                t => {
                    let text = StringArray::from_iter_values(std::iter::repeat_n("x", n));
                    cast(&text, t).expect("text casts to any text layout")
                }
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).expect("a column of the attributed schema's type")
}
