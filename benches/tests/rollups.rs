//! The report read from the store's rollups equals the report computed from its events, for
//! windows that take whole weeks, whole days and cut days; and the rollup files hold every
//! committed event exactly once after several runs.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use acrlens_bench::callers::AzurePrefixes;
use acrlens_bench::generate::{GenSpec, write_storage_layout};
use acrlens_bench::topology::write_generated_topology;
use acrlens_engine::rollup::{ROLLUPS, TABLES};
use acrlens_engine::store::{Store, StoreOptions};
use acrlens_engine::{EventSource, ingest, session};
use acrlens_events::{DecodeOptions, InputSource};
use acrlens_netmap::Topology;
use acrlens_report::{Policy, Window, build_report, render};
use acrlens_values::parse_timestamp_micros;
use arrow_array::RecordBatch;

fn shared_tags() -> PathBuf {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ServiceTags_Public.json");
    assert!(
        path.exists(),
        "{} is missing: ../shared/data must sit beside the checkout",
        path.display()
    );
    path
}

/// 20 days of generated events (from Monday 2025-11-03), an empty store and the topology.
fn generated(dir: &Path) -> (Arc<Topology>, Vec<PathBuf>, Store) {
    let spec = GenSpec {
        events: 40_000,
        registries: 3,
        days: 20,
        seed: 5,
        azure: AzurePrefixes::builtin(),
        ..GenSpec::default()
    };
    let (files, _) = write_storage_layout(&spec, &dir.join("logs"), None).unwrap();
    write_generated_topology(&dir.join("topo"), spec.registries, &shared_tags()).unwrap();
    let topology = Arc::new(Topology::load(&dir.join("topo/acrlens.toml")).unwrap());
    let store = Store::open(&dir.join("store")).unwrap();
    (topology, files, store)
}

/// The generated events ingested in two runs: every third hour first, then the rest, so the
/// second run's rollups of every day are merged into the first's.
fn store(dir: &Path) -> (Arc<Topology>, Vec<PathBuf>) {
    let (topology, files, store) = generated(dir);
    let (first, second): (Vec<_>, Vec<_>) = files
        .iter()
        .enumerate()
        .partition(|(hour, _)| hour % 3 == 0);
    // The first run holds a few hundred groups per rollup, so it writes its rollup rows out
    // many times a day, as a long run does; the second holds them all.
    let held = [Some(300), None];
    for (run, held_rollup_groups) in [first, second].into_iter().zip(held) {
        let run: Vec<PathBuf> = run.into_iter().map(|(_, f)| f.clone()).collect();
        ingest_into(&store, &topology, &run, held_rollup_groups);
    }
    (topology, files)
}

/// Ingests `files` into `store`, each rollup holding up to `held_rollup_groups` groups.
fn ingest_into(
    store: &Store,
    topology: &Arc<Topology>,
    files: &[PathBuf],
    held_rollup_groups: Option<usize>,
) {
    {
        let sources = files.iter().cloned().map(InputSource::File).collect();
        let options = StoreOptions {
            held_rollup_groups,
            ..StoreOptions::default()
        };
        ingest(
            sources,
            DecodeOptions::default(),
            topology.clone().into(),
            Some((store, options)),
            |_| Ok(()),
        )
        .unwrap();
    }
}

async fn report_json(dir: &Path, topology: &Arc<Topology>, window: Window) -> String {
    let s = session(EventSource::Store(dir.join("store")), topology.clone())
        .await
        .unwrap();
    let policy =
        Policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-logs/policy.toml"))
            .unwrap();
    render::json(&build_report(&s.ctx, &policy, window, 0).await.unwrap())
}

/// Marks the store's rollups as absent, as in a store written before they existed.
fn forget_rollups(dir: &Path) {
    let path = dir.join("store/manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace(
        &format!("\"rollups\":{}", acrlens_engine::rollup::ROLLUP_VERSION),
        "\"rollups\":0",
    );
    assert!(text.contains("\"rollups\":0"), "{text}");
    std::fs::write(path, text).unwrap();
}

fn window(since: Option<&str>, until: Option<&str>) -> Window {
    Window {
        since: since.and_then(parse_timestamp_micros),
        until: until.and_then(parse_timestamp_micros),
    }
}

#[tokio::test]
async fn reports_from_rollups_equal_reports_from_events() {
    let dir = tempfile::tempdir().unwrap();
    let (topology, _) = store(dir.path());
    let windows = [
        window(None, None),
        // Whole weeks, whole days and a cut day on each side.
        window(Some("2025-11-04T06:30:00Z"), Some("2025-11-20T13:00:00Z")),
        // Whole days only, no whole week.
        window(Some("2025-11-05T00:00:00Z"), Some("2025-11-08T00:00:00Z")),
        // Within one day.
        window(Some("2025-11-12T01:00:00Z"), Some("2025-11-12T02:00:00Z")),
        window(Some("2025-11-10T00:00:00Z"), None),
        window(None, Some("2025-11-17T12:00:00Z")),
        // Nothing in it.
        window(Some("2026-01-01T00:00:00Z"), None),
    ];
    let mut from_rollups = Vec::new();
    for w in windows {
        from_rollups.push(report_json(dir.path(), &topology, w).await);
    }
    forget_rollups(dir.path());
    for (w, expected) in windows.into_iter().zip(&from_rollups) {
        let from_events = report_json(dir.path(), &topology, w).await;
        assert_eq!(&from_events, expected, "window {w:?}");
    }
    // The reports are not empty ones.
    assert!(from_rollups[0].contains("\"trusted_service\""));
    assert!(from_rollups[1].contains("2025-11-04T06:30:00"));
}

async fn rows(ctx: &datafusion::prelude::SessionContext, sql: &str) -> Vec<String> {
    let batches: Vec<RecordBatch> = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let text = arrow_cast::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn every_rollup_table_holds_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let (topology, files) = store(dir.path());
    assert_every_event_once(dir.path(), &topology).await;
    // A store written before rollups existed: its next run, with nothing new to read, makes
    // them from the part files.
    forget_rollups(dir.path());
    std::fs::remove_dir_all(dir.path().join("store/rollups")).unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    ingest_into(&store, &topology, &files, None);
    assert!(dir.path().join("store/rollups/callers_by_week").is_dir());
    assert_every_event_once(dir.path(), &topology).await;
}

/// One run into a new store holds every group in memory to its end: each day's rollups are the
/// rows it held, written without a merge.
#[tokio::test]
async fn a_first_run_writes_the_rollup_rows_it_held() {
    let dir = tempfile::tempdir().unwrap();
    let (topology, files, store) = generated(dir.path());
    ingest_into(&store, &topology, &files, None);
    let days = std::fs::read_dir(dir.path().join("store/rollups/callers_by_day"))
        .unwrap()
        .count();
    assert_eq!(days, 20);
    assert_every_event_once(dir.path(), &topology).await;
}

async fn assert_every_event_once(dir: &Path, topology: &Arc<Topology>) {
    let s = session(EventSource::Store(dir.join("store")), topology.clone())
        .await
        .unwrap();
    for rollup in ROLLUPS {
        let expected = rollups_totals(
            &s.ctx,
            &format!("({})", rollup.over("events", "TRUE")),
            rollup,
        )
        .await;
        assert!(expected.len() > 10, "{}", rollup.name);
        for table in TABLES.iter().filter(|t| t.rollup == rollup) {
            assert!(s.ctx.table_exist(table.name).unwrap(), "{}", table.name);
            let stored = rollups_totals(&s.ctx, table.name, rollup).await;
            assert_eq!(stored, expected, "{}", table.name);
        }
    }
}

/// A rollup's rows in `from` merged over all time.
async fn rollups_totals(
    ctx: &datafusion::prelude::SessionContext,
    from: &str,
    rollup: acrlens_engine::rollup::Rollup,
) -> Vec<String> {
    rows(ctx, &rollup.merged(&format!("{from} AS r"), "0", "TRUE")).await
}
