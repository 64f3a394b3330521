//! The record parsers alone, one core: the fast path (`scan_record`) against the strict decoder
//! (`RawRecord::from_json`), MB/s of resource-log lines.
//!
//! `cargo bench -p acrlens-bench --bench scan` parses generated lines (64 MiB;
//! `ACRLENS_BENCH_MB` changes it) and the sample exports with every quirk they hold (escapes,
//! non-ASCII, bad lines, repeated to the same size): the fast path reading every field, reading
//! the benchmark job's fields, and the strict decoder. Under `cargo test` each runs once on
//! 1 MiB.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use acrlens_bench::generate::lines_in_memory;
use acrlens_bench::input_megabytes;
use acrlens_events::{ColumnSet, FieldSet, RawRecord, col, event_schema, scan_record};
use criterion::{Criterion, Throughput};

/// The sample exports' lines, repeated to `size` bytes.
fn quirky_lines(size: usize) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-logs/exports");
    let mut files = Vec::new();
    let mut folders = vec![root];
    while let Some(dir) = folders.pop() {
        for entry in std::fs::read_dir(dir)
            .expect("sample-logs/exports")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(std::fs::read(&path).expect("a sample export"));
            }
        }
    }
    let once: Vec<u8> = files.concat();
    once.iter()
        .copied()
        .cycle()
        .take(size.max(once.len()))
        .collect()
}

/// A record parser: whether it read the line.
type Parser = dyn Fn(&[u8]) -> bool;

/// Parses every line with `parse`; returns how many it read.
fn parse_lines(bytes: &[u8], parse: &Parser) -> usize {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty() && parse(line))
        .count()
}

fn bench_scan(c: &mut Criterion) {
    let size = input_megabytes(64) << 20;
    let schema = event_schema();
    let job = ColumnSet::of(
        [
            col::TIME,
            col::REPOSITORY,
            col::SIZE_BYTES,
            col::CALLER_IP,
            col::REGISTRY,
            col::STATUS,
            col::USER_AGENT,
        ]
        .iter()
        .filter_map(|name| schema.index_of(name).ok()),
    );
    let job = FieldSet::for_columns(job);
    let mut group = c.benchmark_group("scan_1_thread");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (input, bytes) in [
        ("generated", lines_in_memory(size, 42)),
        ("quirky", quirky_lines(size)),
    ] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let fast_or_strict = |wanted: FieldSet| {
            move |line: &[u8]| {
                scan_record(line, wanted).is_some() || RawRecord::from_json(line).is_ok()
            }
        };
        let cases: [(&str, Box<Parser>); 3] = [
            ("fast_all_fields", Box::new(fast_or_strict(FieldSet::ALL))),
            ("fast_job_fields", Box::new(fast_or_strict(job))),
            (
                "strict",
                Box::new(|line: &[u8]| RawRecord::from_json(line).is_ok()),
            ),
        ];
        for (name, parse) in cases {
            group.bench_function(format!("{input}_{name}_MBps"), |b| {
                b.iter(|| black_box(parse_lines(&bytes, &*parse)))
            });
        }
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_scan(&mut criterion);
    criterion.final_summary();
}
