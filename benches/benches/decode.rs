//! Decoding throughput: MB/s and records/s of resource-log JSON lines into canonical Arrow
//! batches, on one core and on all cores.
//!
//! `cargo bench -p acrlens-bench --bench decode` decodes a generated 128 MiB export
//! (`ACRLENS_BENCH_MB` changes the size); under `cargo test` each case runs once on 1 MiB.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use acrlens_bench::generate::lines_in_memory;
use acrlens_bench::input_megabytes;
use acrlens_events::{DecodeOptions, Decoder, InputSource};
use criterion::{Criterion, Throughput};

fn decode_all(bytes: &Arc<[u8]>, threads: usize) -> usize {
    let source = InputSource::Memory {
        name: "bench/PT1H.json".into(),
        bytes: bytes.clone(),
    };
    let options = DecodeOptions {
        parallelism: threads,
        ..DecodeOptions::default()
    };
    let out = Decoder::new(vec![source], options).collect_all();
    assert!(out.stats[0].reconciles());
    out.rows()
}

fn bench_decode(c: &mut Criterion) {
    let bytes: Arc<[u8]> = lines_in_memory(input_megabytes(128) << 20, 42).into();
    let records = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group("decode_resource_log");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    for threads in [1, cores] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{threads}_threads_MBps"), |b| {
            b.iter(|| black_box(decode_all(&bytes, threads)))
        });
        group.throughput(Throughput::Elements(records));
        group.bench_function(format!("{threads}_threads_records"), |b| {
            b.iter(|| black_box(decode_all(&bytes, threads)))
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_decode(&mut criterion);
    criterion.final_summary();
}
