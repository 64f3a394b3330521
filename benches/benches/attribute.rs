//! Attribution and the Parquet store's writer, per batch: events/s of the decision table over
//! decoded batches (caller facts as of each event's time, registry configuration, verdict and
//! reason), and events/s of writing attributed batches into a store (partition, sort by time,
//! zstd, statistics, commit). Generated events against the generated topology on the real
//! service-tag file. Run with `cargo bench -p acrlens-bench --bench attribute`; under
//! `cargo test` each case runs once on a small input.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use acrlens_attrib::Attributor;
use acrlens_bench::callers::AzurePrefixes;
use acrlens_bench::generate::{GenSpec, lines_of};
use acrlens_bench::input_megabytes;
use acrlens_bench::topology::write_generated_topology;
use acrlens_engine::store::{Plan, Store, StoreOptions};
use acrlens_events::{DecodeOptions, Decoder, InputSource};
use acrlens_netmap::{ServiceTagSnapshot, Topology};
use arrow_array::RecordBatch;
use criterion::{Criterion, Throughput};

/// Decoded batches of generated events, and the topology they were generated against.
fn input(dir: &Path) -> (Vec<RecordBatch>, Topology) {
    let tags_file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ServiceTags_Public.json");
    let tags = ServiceTagSnapshot::load(&tags_file, None)
        .expect("../shared/data/ServiceTags_Public.json beside the checkout");
    write_generated_topology(dir, 4, &tags_file).expect("topology");
    let topology = Topology::load(&dir.join("acrlens.toml")).expect("generated topology loads");
    let spec = GenSpec {
        events: (input_megabytes(64) << 20) as u64 / 900,
        azure: AzurePrefixes::from_snapshot(&tags),
        ..GenSpec::default()
    };
    let bytes: Arc<[u8]> = lines_of(&spec, input_megabytes(64) << 20).into();
    let source = InputSource::Memory {
        name: "bench/PT1H.json".into(),
        bytes,
    };
    let batches = Decoder::new(vec![source], DecodeOptions::default())
        .collect_all()
        .batches;
    (batches, topology)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (batches, topology) = input(dir.path());
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let attributed: Vec<RecordBatch> = batches
        .iter()
        .map(|b| Attributor::new(&topology).attribute(b).expect("attributes"))
        .collect();

    let mut group = c.benchmark_group("per_batch");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(rows as u64));
    group.bench_function("attribute_events", |b| {
        b.iter(|| {
            for batch in &batches {
                black_box(
                    Attributor::new(&topology)
                        .attribute(batch)
                        .expect("attributes"),
                );
            }
        })
    });
    group.bench_function("store_write_events", |b| {
        b.iter(|| {
            let store_dir = tempfile::tempdir_in(dir.path()).expect("tempdir");
            let store = Store::open(store_dir.path()).expect("store");
            let mut run = store
                .begin(&Plan::default(), StoreOptions::default())
                .expect("run");
            for batch in &attributed {
                run.write(batch).expect("write");
            }
            black_box(run.commit().expect("commit"));
        })
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
