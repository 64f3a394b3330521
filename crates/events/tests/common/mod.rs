//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_cast::cast;
use arrow_cast::pretty::pretty_format_batches;
use arrow_schema::{DataType, Field, Schema, TimeUnit};

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// Batches without the lineage columns, pretty-printed (times as UTC wall-clock): what two
/// shapes must agree on.
pub fn canonical_rows(batches: &[RecordBatch]) -> String {
    let trimmed: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            let keep: Vec<usize> = (0..b.num_columns())
                .filter(|&i| {
                    !matches!(
                        b.schema().field(i).name().as_str(),
                        "source" | "source_line"
                    )
                })
                .collect();
            let b = b.project(&keep).expect("projection");
            let wall_clock = DataType::Timestamp(TimeUnit::Microsecond, None);
            let columns: Vec<ArrayRef> = b
                .columns()
                .iter()
                .map(|c| match c.data_type() {
                    DataType::Timestamp(..) => cast(c, &wall_clock).expect("cast"),
                    _ => c.clone(),
                })
                .collect();
            let fields: Vec<Field> = b
                .schema()
                .fields()
                .iter()
                .zip(&columns)
                .map(|(f, c)| Field::new(f.name(), c.data_type().clone(), f.is_nullable()))
                .collect();
            RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch")
        })
        .collect();
    pretty_format_batches(&trimmed)
        .expect("pretty print")
        .to_string()
}

/// The `source_line` of every row, in order.
pub fn source_lines(out: &acrlens_events::Collected) -> Vec<i64> {
    out.batches
        .iter()
        .flat_map(|b| {
            let column = b.column_by_name("source_line").expect("source_line column");
            let lines = column.as_any().downcast_ref::<Int64Array>().expect("Int64");
            lines.values().to_vec()
        })
        .collect()
}

/// A text column of every row, in order.
pub fn strings(out: &acrlens_events::Collected, name: &str) -> Vec<Option<String>> {
    out.batches
        .iter()
        .flat_map(|b| {
            let column = b.column_by_name(name).expect("column");
            let text = column.as_any().downcast_ref::<StringArray>().expect("Utf8");
            text.iter()
                .map(|v| v.map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect()
}
