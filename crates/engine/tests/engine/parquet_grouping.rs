//! Groupings over Parquet files of every layout a writer may choose — text as dictionaries or
//! plain, dictionaries that overflow to plain pages, small pages and row groups, NULL keys,
//! files split into ranges — give DataFusion's own answers when acrlens reads the keys as
//! Parquet dictionaries.

#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use crate::common::{assert_groupings_agree, table};
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

/// Rows of a repository (a few hundred names, some NULL), a path (short texts), a day and a
/// size, drawn from `seed`.
fn rows(seed: u64, count: usize) -> RecordBatch {
    let mut state = seed;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let mut repository = Vec::with_capacity(count);
    let mut path = Vec::with_capacity(count);
    let mut day = Vec::with_capacity(count);
    let mut size = Vec::with_capacity(count);
    for _ in 0..count {
        let r = next(400);
        repository.push((r != 0).then(|| format!("team{}/service-{r}-with-a-long-name", r % 7)));
        path.push(["denied", "ip_rule", "private_endpoint", "trusted_service"][next(4) as usize]);
        day.push(20_395 + next(3) as i32);
        size.push(next(1_000_000) as i64);
    }
    RecordBatch::try_from_iter([
        (
            "repository",
            Arc::new(StringArray::from(repository)) as ArrayRef,
        ),
        ("access_path", Arc::new(StringArray::from(path))),
        ("day", Arc::new(Date32Array::from(day))),
        ("size_bytes", Arc::new(Int64Array::from(size))),
    ])
    .unwrap()
}

fn write(path: &Path, batch: &RecordBatch, properties: WriterProperties) {
    let mut writer = ArrowWriter::try_new(
        File::create(path).unwrap(),
        batch.schema(),
        Some(properties),
    )
    .unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groupings_over_parquet_of_every_layout_agree_with_datafusion() {
    let dir = tempfile::tempdir().unwrap();
    let layouts = [
        WriterProperties::builder().build(),
        // Text written plain, never as a dictionary.
        WriterProperties::builder()
            .set_dictionary_enabled(false)
            .build(),
        // Dictionaries too small for a row group's texts: later pages fall back to plain.
        WriterProperties::builder()
            .set_dictionary_page_size_limit(512)
            .set_data_page_row_count_limit(100)
            .set_write_batch_size(50)
            .build(),
        // Small row groups and pages.
        WriterProperties::builder()
            .set_max_row_group_row_count(Some(1_000))
            .set_data_page_row_count_limit(64)
            .set_write_batch_size(32)
            .build(),
    ];
    for (i, layout) in layouts.into_iter().enumerate() {
        write(
            &dir.path().join(format!("part-{i}.parquet")),
            &rows(i as u64, 6_000),
            layout,
        );
    }
    let path = dir.path().to_str().unwrap();
    let numbered = SessionContext::new_with_state(acrlens_engine::session_state());
    let plain = SessionContext::new();
    for ctx in [&numbered, &plain] {
        ctx.register_parquet("t", path, ParquetReadOptions::default())
            .await
            .unwrap();
    }
    let queries = [
        "SELECT day, repository, access_path, count(*), sum(size_bytes) FROM t GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        "SELECT repository, count(*), max(size_bytes) FROM t GROUP BY 1 ORDER BY 1 DESC NULLS FIRST",
        "SELECT access_path, repository, min(day) FROM t GROUP BY 1, 2 ORDER BY 2, 1",
        // A key read by an aggregate too: read as views, not as a dictionary.
        "SELECT repository, max(repository), count(*) FROM t GROUP BY 1 ORDER BY 1",
    ];
    assert_groupings_agree(&numbered, &plain, &queries, 100, table).await;
}
