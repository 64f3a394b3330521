//! The Parquet store: readable by an independent reader, killed runs leave every record exactly
//! once, appended blobs add only their new lines, and SQL over the store agrees with SQL over the
//! raw exports.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{
    analyzed, assert_groupings_agree, collect, explained, metric, numbered_and_plain, root,
    sample_exports, sample_inputs, sample_topology, table,
};
use acrlens_engine::store::{Store, StoreError, StoreOptions};
use acrlens_engine::{EventSource, IngestError, ingest, session};
use acrlens_events::{DecodeOptions, InputSource};
use acrlens_netmap::LazyTopology;
use arrow_array::{Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::DataType;
use datafusion::arrow::compute::cast;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

fn run(
    store: &Path,
    inputs: Vec<InputSource>,
    options: StoreOptions,
) -> Result<acrlens_engine::IngestOutcome, IngestError> {
    let store = Store::open(store).unwrap();
    ingest(
        inputs,
        DecodeOptions {
            chunk_bytes: 4096,
            ..DecodeOptions::default()
        },
        sample_topology().into(),
        Some((&store, options)),
        |_| Ok(()),
    )
}

fn part_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("events")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every row of the store, read with the parquet crate's own reader (no acrlens, no DataFusion).
fn read_back(dir: &Path) -> Vec<RecordBatch> {
    part_files(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .flat_map(|p| {
            ParquetRecordBatchReaderBuilder::try_new(fs::File::open(p).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .map(Result::unwrap)
        })
        .collect()
}

/// (source, line) of every row: a record's identity in the store.
fn record_ids(batches: &[RecordBatch]) -> Vec<(String, i64)> {
    let mut ids = Vec::new();
    for b in batches {
        // Held as a dictionary (one text per input); read as plain text.
        let sources = cast(b.column_by_name("source").unwrap(), &DataType::Utf8).unwrap();
        let sources = sources.as_any().downcast_ref::<StringArray>().unwrap();
        let lines = b
            .column_by_name("source_line")
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        ids.extend((0..b.num_rows()).map(|i| (sources.value(i).to_owned(), lines.value(i))));
    }
    ids
}

fn assert_exactly_once(batches: &[RecordBatch], expected: usize) {
    let ids = record_ids(batches);
    let unique: HashSet<_> = ids.iter().cloned().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (expected, expected),
        "every record exactly once"
    );
}

#[test]
fn an_independent_parquet_reader_reads_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = run(dir.path(), sample_inputs(), StoreOptions::default()).unwrap();
    let summary = outcome.run.unwrap();
    assert_eq!(
        (summary.read, summary.written, summary.quarantined),
        (289, 286, 3)
    );
    let batches = read_back(dir.path());
    assert_exactly_once(&batches, 286);
    let schema = batches[0].schema();
    assert!(
        schema.column_with_name("category").is_none(),
        "the category is in the folder name"
    );
    assert!(
        schema.column_with_name("access_path").is_some()
            && schema.column_with_name("service_tags").is_some()
    );
    for part in part_files(dir.path())
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
    {
        let text = part.display().to_string();
        assert!(
            text.contains("/category=ContainerRegistry") && text.contains("/date=2025-11-0"),
            "{text}"
        );
        let reader = SerializedFileReader::new(fs::File::open(part).unwrap()).unwrap();
        let meta = reader.metadata();
        // Statistics where they prune (the time, numbers), none for text.
        let group = meta.row_group(0);
        let statistics = |path: &str| {
            group
                .columns()
                .iter()
                .find(|c| c.column_path().string() == path)
                .map(|c| c.statistics().is_some())
        };
        assert_eq!(
            statistics("time"),
            Some(true),
            "time statistics for pruning"
        );
        assert_eq!(statistics("size_bytes"), Some(true));
        assert_eq!(statistics("repository"), Some(false));
        assert_eq!(statistics("access_reason"), Some(false));
        assert_eq!(statistics("service_tags.list.item"), Some(false));
        assert_eq!(
            format!("{:?}", meta.row_group(0).column(0).compression()),
            "ZSTD(ZstdLevel(1))"
        );
        let rows: Vec<RecordBatch> =
            ParquetRecordBatchReaderBuilder::try_new(fs::File::open(part).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let times: Vec<i64> = rows
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{text} is sorted by time"
        );
    }
    let quarantine = fs::read_dir(dir.path().join("quarantine")).unwrap().count();
    assert_eq!(quarantine, 1, "one quarantine file for the run");
    let runs = fs::read_to_string(dir.path().join("runs.jsonl")).unwrap();
    assert_eq!(runs.lines().count(), 1);
    assert!(runs.contains("\"written\":286"));
}

#[test]
fn a_second_run_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), sample_inputs(), StoreOptions::default()).unwrap();
    let again = run(dir.path(), sample_inputs(), StoreOptions::default())
        .unwrap()
        .run
        .unwrap();
    assert_eq!((again.written, again.unchanged, again.inputs), (0, 85, 0));
    assert_exactly_once(&read_back(dir.path()), 286);
}

#[test]
fn a_topology_that_cannot_be_loaded_fails_the_run_and_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let broken = || LazyTopology::from_file(Some(PathBuf::from("/nonexistent/acrlens.toml")));
    // With inputs to read, and with none (a scheduled run with nothing new): the load is
    // started ahead, and its failure still ends the run, saying why.
    for inputs in [sample_inputs(), Vec::new()] {
        let outcome = ingest(
            inputs,
            DecodeOptions::default(),
            broken(),
            Some((&store, StoreOptions::default())),
            |_| Ok(()),
        );
        let Err(IngestError::Topology(e)) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(
            e.to_string()
                .starts_with("loading the topology named by /nonexistent/acrlens.toml: "),
            "{e}"
        );
    }
    assert!(part_files(dir.path()).is_empty());
    // Nothing was committed: a run with the topology reads every input.
    let first = run(dir.path(), sample_inputs(), StoreOptions::default())
        .unwrap()
        .run
        .unwrap();
    assert_eq!((first.unchanged, first.inputs), (0, 85));
}

#[test]
fn a_run_killed_before_its_commit_is_redone_with_nothing_lost_or_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let crash = run(
        dir.path(),
        sample_inputs(),
        StoreOptions {
            fail_after_parts: Some(2),
            ..StoreOptions::default()
        },
    );
    assert!(
        matches!(crash, Err(IngestError::Store(StoreError::Simulated(2)))),
        "{crash:?}"
    );
    assert!(read_back(dir.path()).is_empty(), "nothing committed");
    assert!(
        part_files(dir.path())
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "tmp")),
        "the crash left temporaries"
    );
    run(dir.path(), sample_inputs(), StoreOptions::default()).unwrap();
    assert!(
        part_files(dir.path())
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "parquet")),
        "temporaries removed"
    );
    assert_exactly_once(&read_back(dir.path()), 286);
}

#[test]
fn a_run_killed_during_its_commit_is_rolled_forward() {
    let dir = tempfile::tempdir().unwrap();
    let crash = run(
        dir.path(),
        sample_inputs(),
        StoreOptions {
            fail_before_manifest: true,
            ..StoreOptions::default()
        },
    );
    assert!(
        matches!(crash, Err(IngestError::Store(StoreError::Simulated(_)))),
        "{crash:?}"
    );
    assert!(dir.path().join("journal.json").exists());
    let again = run(dir.path(), sample_inputs(), StoreOptions::default())
        .unwrap()
        .run
        .unwrap();
    assert!(!dir.path().join("journal.json").exists());
    assert_eq!(
        again.written, 0,
        "the rolled-forward manifest knows every input"
    );
    assert_exactly_once(&read_back(dir.path()), 286);
    assert_eq!(
        fs::read_to_string(dir.path().join("runs.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );
}

#[test]
fn an_appended_blob_adds_only_its_new_lines() {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let blob = logs.path().join("PT1H.json");
    let line = |i: usize| {
        format!(
            r#"{{"time":"2025-11-03T10:{i:02}:00Z","operationName":"Pull","resultDescription":"200","callerIpAddress":"10.0.2.4","correlationId":"c{i}","properties":{{"loginServer":"contoso.azurecr.io","repository":"prod/web"}}}}"#
        ) + "\n"
    };
    let first: String = (1..=3).map(line).collect();
    let fourth = line(4);
    fs::write(&blob, format!("{first}{}", &fourth[..50])).unwrap();
    let inputs = || vec![InputSource::File(blob.clone())];
    let one = run(dir.path(), inputs(), StoreOptions::default())
        .unwrap()
        .run
        .unwrap();
    assert_eq!(
        (one.written, one.quarantined),
        (3, 1),
        "the line being written is quarantined, not lost"
    );
    fs::write(&blob, format!("{first}{fourth}{}{}", line(5), line(6))).unwrap();
    let two = run(dir.path(), inputs(), StoreOptions::default())
        .unwrap()
        .run
        .unwrap();
    assert_eq!((two.resumed, two.written, two.quarantined), (1, 3, 0));
    let batches = read_back(dir.path());
    assert_exactly_once(&batches, 6);
    let mut lines: Vec<i64> = record_ids(&batches).into_iter().map(|(_, l)| l).collect();
    lines.sort();
    assert_eq!(lines, [1, 2, 3, 4, 5, 6]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_over_the_store_agrees_with_sql_over_the_exports() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), sample_inputs(), StoreOptions::default()).unwrap();
    let sql = std::fs::read_to_string(root().join("queries/pulls_by_access_path.sql")).unwrap();
    let raw = session(sample_exports(), sample_topology()).await.unwrap();
    let stored = session(
        EventSource::Store(dir.path().to_path_buf()),
        sample_topology(),
    )
    .await
    .unwrap();
    let (a, b) = (
        collect(&raw.ctx, &sql).await,
        collect(&stored.ctx, &sql).await,
    );
    assert_eq!(table(&a), table(&b));
    let n = stored
        .ctx
        .sql("SELECT count(*) FROM login_events")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(
        n[0].column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0),
        78
    );
}

/// The rows of a result, sorted, as text.
fn sorted_lines(batches: &[RecordBatch]) -> Vec<String> {
    let mut lines: Vec<String> = table(batches).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// A store of the sample exports in `dir`, and [`numbered_and_plain`] sessions over it.
async fn store_sessions(
    dir: &Path,
) -> (
    datafusion::prelude::SessionContext,
    datafusion::prelude::SessionContext,
) {
    run(dir, sample_inputs(), StoreOptions::default()).unwrap();
    numbered_and_plain(|| EventSource::Store(dir.to_path_buf())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouping_by_numbers_agrees_with_datafusions_grouping() {
    let dir = tempfile::tempdir().unwrap();
    let (numbered, plain) = store_sessions(dir.path()).await;
    let queries = [
        // Text and a date; NULL repositories (logins); several files, days and categories.
        // (No sum of fractions: its last digits depend on the order of the rows.)
        "SELECT CAST(time AS DATE) AS day, repository, access_path, count(*), sum(size_bytes) FROM events GROUP BY 1, 2, 3",
        "SELECT registry, caller_ip, count(*), min(time), max(time), min(duration_ms), max(duration_ms) FROM events GROUP BY 1, 2",
        "SELECT repository, count(repository), sum(size_bytes), min(identity), max(user_agent) FROM events GROUP BY repository",
        "SELECT status, tag, count(*), count(digest) FROM events GROUP BY status, tag",
        "SELECT artifact_type, media_type, count(*) FROM events GROUP BY 1, 2",
        "SELECT repository, count(*) FROM events WHERE access_path <> 'trusted_service' GROUP BY 1",
        "SELECT access_path, count(DISTINCT caller_ip), count(*) FROM events GROUP BY 1",
        "SELECT source_line, registry, count(*) FROM events GROUP BY 1, 2",
        // An average (a state of two values) of integers: exact in any order.
        "SELECT registry, access_path, avg(size_bytes), count(size_bytes), max(tag) FROM events GROUP BY 1, 2",
    ];
    assert_groupings_agree(&numbered, &plain, &queries, 1, sorted_lines).await;
    // The whole of the first query's grouping is done by numbers (its result is one
    // partition); the distinct count is left to DataFusion.
    assert!(
        explained(&numbered, queries[0])
            .await
            .contains("MergedAggregateExec")
    );
    assert!(
        explained(&numbered, queries[8])
            .await
            .contains("MergedAggregateExec")
    );
    assert!(
        !explained(&numbered, queries[6])
            .await
            .contains("NumberedAggregateExec")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grouping_by_numbers_sorted_by_its_keys_gives_datafusions_order() {
    let dir = tempfile::tempdir().unwrap();
    let (numbered, plain) = store_sessions(dir.path()).await;
    // Orders by keys alone, in every direction and place of NULLs (the repositories of logins
    // are NULL), after a filter on the groups, and by an aggregate (DataFusion sorts that).
    let queries = [
        "SELECT CAST(time AS DATE) AS day, repository, access_path, count(*), sum(size_bytes) FROM events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        "SELECT CAST(time AS DATE) AS day, repository, access_path, count(*) FROM events GROUP BY 1, 2, 3 ORDER BY 2 DESC NULLS FIRST, 1 DESC, 3",
        "SELECT repository, status, count(*) FROM events GROUP BY 1, 2 ORDER BY repository NULLS FIRST, status DESC NULLS LAST",
        "SELECT repository, tag, min(time) FROM events GROUP BY 1, 2 ORDER BY 2 NULLS LAST, 1 DESC NULLS LAST",
        "SELECT repository, count(*) AS n FROM events GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 DESC",
        "SELECT registry, repository, count(*) AS n FROM events GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 5",
    ];
    assert_groupings_agree(&numbered, &plain, &queries, 2, table).await;
    // Sorted by the grouping itself, with no sort of DataFusion's above it (the sort below is
    // in the plan it runs when the rows hardly group); by an aggregate, sorted by DataFusion.
    let plan = |sql: &'static str| {
        let numbered = &numbered;
        async move {
            let plan = explained(numbered, sql).await;
            let above = plan.split("MergedAggregateExec").next().unwrap().to_owned();
            (plan, above)
        }
    };
    let (first, above) = plan(queries[0]).await;
    assert!(
        first.contains("MergedAggregateExec: order=[") && !above.contains("SortExec"),
        "{first}"
    );
    // Its text keys read as the files' dictionaries.
    assert!(
        first.contains("dictionaries=[repository, access_path]"),
        "{first}"
    );
    let (last, above) = plan(queries[5]).await;
    assert!(
        last.contains("MergedAggregateExec") && above.contains("SortExec"),
        "{last}"
    );
    // Sorted by one key of two: the groups of each access path together, in order.
    let sql = "SELECT access_path, repository, count(*) FROM events GROUP BY 1, 2 ORDER BY 1";
    let (want, got) = (collect(&plain, sql).await, collect(&numbered, sql).await);
    assert_eq!(sorted_lines(&got), sorted_lines(&want));
    let paths: Vec<String> = got
        .iter()
        .flat_map(|b| {
            let column = cast(b.column(0), &DataType::Utf8).unwrap();
            let column = column
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone();
            (0..column.len()).map(move |i| column.value(i).to_owned())
        })
        .collect();
    assert!(
        paths.is_sorted() && paths.first() != paths.last(),
        "{paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grouping_by_numbers_that_hardly_groups_passes_its_rows_on_as_states() {
    let dir = tempfile::tempdir().unwrap();
    let (numbered, plain) = store_sessions(dir.path()).await;
    // A probe of 50 rows in batches of 16: the correlation ids, new on nearly every row, stop
    // the grouping after the fourth batch; the groups so far are given, then each row as its own.
    for ctx in [&numbered, &plain] {
        for set in [
            "SET datafusion.execution.batch_size = 16",
            "SET datafusion.execution.skip_partial_aggregation_probe_rows_threshold = 50",
        ] {
            ctx.sql(set).await.unwrap();
        }
    }
    let grouping = "SELECT correlation_id, repository, count(*), sum(size_bytes), min(time), max(caller_ip) FROM events GROUP BY 1, 2";
    // Whole, it finds the rows hardly grouped and runs the two stages instead, sorted or not.
    let sorted = format!("{grouping} ORDER BY 1, 2");
    for sql in [grouping, &sorted] {
        let (want, got) = (collect(&plain, sql).await, collect(&numbered, sql).await);
        assert_eq!(sorted_lines(&got), sorted_lines(&want), "{sql}");
        if sql == sorted {
            assert_eq!(table(&got), table(&want));
        }
        let analyzed = analyzed(&numbered, sql).await;
        // One partition or both, as the row groups fall to them.
        let tripped = metric(
            &analyzed,
            "MergedAggregateExec",
            "hardly_grouped_partitions",
        );
        assert!(tripped.is_some_and(|n| n >= 1), "{analyzed}");
    }
    // Below a union, whose partitions nothing merges, the first stage is done on its own.
    let sql = &format!("{grouping} UNION ALL {grouping}");
    let (want, got) = (collect(&plain, sql).await, collect(&numbered, sql).await);
    assert_eq!(sorted_lines(&got), sorted_lines(&want));
    let analyzed = analyzed(&numbered, sql).await;
    let skipped = metric(
        &analyzed,
        "NumberedAggregateExec",
        "skipped_aggregation_rows",
    );
    // The groups of one of the two.
    let rows = want.iter().map(RecordBatch::num_rows).sum::<usize>() / 2;
    assert!(
        skipped.is_some_and(|n| n > rows / 2),
        "{rows} groups, skipped {skipped:?}:\n{analyzed}"
    );
}
