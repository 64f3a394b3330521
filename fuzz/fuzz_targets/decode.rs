//! Any bytes, as an export file of any shape: the shape detector, then each decoder. The first
//! byte picks the shape (auto-detection below 128, a forced shape above) and the size of the
//! work units (64 B to 8 KiB), so records are cut across many units. Every record read is
//! accounted for.
#![no_main]

use acrlens_events::{DecodeOptions, InputFormat, decode_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let format = if pick < 128 {
        InputFormat::Auto
    } else {
        InputFormat::ALL[usize::from(pick) % InputFormat::ALL.len()]
    };
    let options = DecodeOptions {
        format,
        parallelism: 1,
        chunk_bytes: 64 << ((pick >> 4) & 7),
        ..DecodeOptions::default()
    };
    let collected = decode_bytes("fuzz.json", bytes, options);
    // The counts reconcile: read = accepted + duplicate + out-of-window + quarantined, every
    // accepted record is a row and every quarantined one is kept with its reason.
    let rows: u64 = collected.batches.iter().map(|b| b.num_rows() as u64).sum();
    let accepted: u64 = collected.stats.iter().map(|s| s.accepted).sum();
    let quarantined: u64 = collected.stats.iter().map(|s| s.quarantined).sum();
    assert!(collected.stats.iter().all(|s| s.reconciles()));
    assert_eq!(rows, accepted);
    assert_eq!(collected.quarantined.len() as u64, quarantined);
});
