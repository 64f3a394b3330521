//! Random bytes, truncated lines and wrong types thrown at every decoder: no panic, and the
//! counts reconcile.

#![allow(clippy::unwrap_used)]

use acrlens_events::{DecodeOptions, InputFormat, decode_bytes};
use proptest::prelude::*;

const FORMATS: [InputFormat; 6] = InputFormat::ALL;

const GOOD: &str = r#"{"time":"2025-11-03T10:15:02.1234567Z","operationName":"Pull","resultDescription":"200","durationMs":"38.2","callerIpAddress":"10.0.2.4:5000","correlationId":"c-1","properties":{"loginServer":"a.azurecr.io","repository":"app","size":12}}"#;

/// Small chunks and a small record limit, so the framing's edges are exercised too.
fn tight(format: InputFormat) -> DecodeOptions {
    DecodeOptions {
        format,
        chunk_bytes: 97,
        max_record_bytes: 700,
        parallelism: 2,
        ..DecodeOptions::default()
    }
}

fn assert_reconciles(input: &[u8]) {
    for format in FORMATS {
        for options in [
            tight(format),
            DecodeOptions {
                format,
                ..DecodeOptions::default()
            },
        ] {
            let out = decode_bytes("fuzz", input, options);
            assert_eq!(out.stats.len(), 1, "one input, one summary ({format})");
            let s = &out.stats[0];
            assert!(s.reconciles(), "{format}: {s:?}");
            assert_eq!(s.accepted as usize, out.rows(), "{format}");
            assert_eq!(s.quarantined as usize, out.quarantined.len(), "{format}");
            assert_eq!(s.bytes as usize, input.len(), "{format}: every byte read");
        }
    }
}

/// Values of every JSON type, for any field.
fn json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        Just("\"<nil>\"".to_owned()),
        Just("\"None\"".to_owned()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        any::<bool>().prop_map(|b| b.to_string()),
        "[ -~]{0,12}".prop_map(|s| format!("{:?}", s)),
        Just("{\"x\":[1,{\"y\":2}]}".to_owned()),
        Just("[1,2,\"3\"]".to_owned()),
        Just("\"2025-11-03T10:15:02Z\"".to_owned()),
        Just("\"1.2.3.4:80\"".to_owned()),
    ]
}

const KEYS: [&str; 12] = [
    "time",
    "TimeGenerated",
    "operationName",
    "resultDescription",
    "durationMs",
    "size",
    "Size",
    "callerIpAddress",
    "correlationId",
    "properties",
    "Type",
    "unknownField",
];

fn json_record() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(KEYS.to_vec()), json_value()), 0..8).prop_map(
        |pairs| {
            let body: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(","))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        assert_reconciles(&bytes);
    }

    #[test]
    fn records_with_wrong_types_are_kept_or_quarantined(records in prop::collection::vec(json_record(), 0..12)) {
        let lines = records.join("\n");
        assert_reconciles(lines.as_bytes());
        let array = format!("[{}]", records.join(","));
        assert_reconciles(array.as_bytes());
        let envelope = format!("{{\"records\":[{}]}}", records.join(",\n"));
        assert_reconciles(envelope.as_bytes());
    }

    #[test]
    fn cutting_an_export_anywhere_loses_nothing(cut in 0usize..2000, copies in 1usize..5) {
        let text = format!("{GOOD}\n").repeat(copies);
        let bytes = &text.as_bytes()[..cut.min(text.len())];
        assert_reconciles(bytes);
        let whole_lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        // A final line without its newline still counts when it is a whole record.
        let tail = bytes.rsplit(|&b| b == b'\n').next().unwrap_or_default();
        let complete_tail = u64::from(tail == GOOD.as_bytes());
        let out = decode_bytes("cut", bytes, DecodeOptions { dedup: false, ..tight(InputFormat::Auto) });
        prop_assert_eq!(out.stats[0].accepted, whole_lines + complete_tail);
        prop_assert_eq!(out.stats[0].quarantined, u64::from(!tail.is_empty() && complete_tail == 0));
    }

    #[test]
    fn csv_of_any_text_reconciles(rows in prop::collection::vec(prop::collection::vec("[ -~\n\"]{0,10}", 0..6), 0..10)) {
        let mut text = String::from("TimeGenerated [UTC],OperationName,CallerIpAddress\n");
        for row in rows {
            text.push_str(&row.join(","));
            text.push('\n');
        }
        assert_reconciles(text.as_bytes());
    }
}
