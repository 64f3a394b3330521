//! Every export shape decodes to the same canonical rows for the same logical events.

#![allow(clippy::unwrap_used)]

mod common;

use acrlens_events::{DecodeOptions, Decoder, InputFormat, InputSource};
use common::{canonical_rows, repo_root, source_lines};

const SHAPES: [(&str, InputFormat); 5] = [
    ("resource-log.PT1H.json", InputFormat::ResourceLog),
    ("records-envelope.json", InputFormat::Records),
    ("log-analytics.PT05M.json", InputFormat::LogAnalytics),
    ("az-query-output.json", InputFormat::AzJson),
    ("portal-export.csv", InputFormat::Csv),
];

fn decode(file: &str, format: InputFormat) -> acrlens_events::Collected {
    let path = repo_root().join("sample-logs/shapes").join(file);
    let options = DecodeOptions {
        format,
        ..DecodeOptions::default()
    };
    Decoder::new(vec![InputSource::File(path)], options).collect_all()
}

#[test]
fn every_shape_decodes_to_identical_canonical_rows() {
    let reference = decode(SHAPES[0].0, InputFormat::Auto);
    assert_eq!(reference.rows(), 10);
    let expected = canonical_rows(&reference.batches);
    for (file, _) in &SHAPES[1..] {
        let got = decode(file, InputFormat::Auto);
        assert!(got.quarantined.is_empty(), "{file}: {:?}", got.quarantined);
        assert_eq!(
            canonical_rows(&got.batches),
            expected,
            "{file} differs from the resource-log shape"
        );
    }
    insta::assert_snapshot!("canonical_rows_of_every_shape", expected);
}

#[test]
fn detection_names_each_shape() {
    for (file, format) in SHAPES {
        let got = decode(file, InputFormat::Auto);
        assert_eq!(got.stats[0].format, format, "{file}");
        assert!(got.stats[0].reconciles());
    }
}

#[test]
fn a_forced_format_overrides_detection() {
    // Forcing CSV on JSON lines finds no usable header: every row is quarantined, none lost.
    let got = decode(SHAPES[0].0, InputFormat::Csv);
    assert_eq!(got.rows(), 0);
    assert_eq!(got.stats[0].format, InputFormat::Csv);
    assert!(got.stats[0].reconciles());
    assert_eq!(got.stats[0].read, got.stats[0].quarantined);
}

#[test]
fn source_lines_point_at_the_records() {
    let got = decode("records-envelope.json", InputFormat::Auto);
    assert_eq!(source_lines(&got), (2..=11).collect::<Vec<i64>>());
    let csv = decode("portal-export.csv", InputFormat::Auto);
    assert_eq!(source_lines(&csv)[0], 2, "the header is line 1");
}
