//! The sample exports, as the attribution tests read them.

#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use acrlens_events::{DecodeOptions, Decoder, TimeWindow, discover};
use arrow_array::{Int32Array, RecordBatch};
use arrow_select::concat::concat_batches;

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The sample exports decoded, as one batch, then once more with every status 200: the
/// firewall's denials turned into answers the bypass must explain, where ACR Tasks and other
/// Azure callers part ways.
pub fn sample_events() -> RecordBatch {
    let inputs = discover(
        &[root().join("sample-logs/exports").display().to_string()],
        TimeWindow::default(),
    )
    .unwrap();
    let batches = Decoder::new(inputs, DecodeOptions::default())
        .collect_all()
        .batches;
    let logged = concat_batches(&batches[0].schema(), &batches).unwrap();
    let status = logged.schema().index_of("status").unwrap();
    let mut answered = logged.columns().to_vec();
    answered[status] = Arc::new(Int32Array::from(vec![200; logged.num_rows()]));
    let answered = RecordBatch::try_new(logged.schema(), answered).unwrap();
    concat_batches(&logged.schema(), &[logged, answered]).unwrap()
}
