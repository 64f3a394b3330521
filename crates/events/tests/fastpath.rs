//! The fast path against the strict decoder on random records — every spelling of every key,
//! unknown and nested keys, duplicates, escapes, non-ASCII text, odd numbers, cut lines: where
//! the fast path reads a record, it reads the wanted fields exactly as the strict decoder does
//! and the rows built from both are identical; plain records it always reads.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use acrlens_events::{
    ColumnSet, EventBatchBuilder, FieldName, FieldSet, KeyRole, NullSpelling, RawRecord,
    RecordContext, TimeWindow, event_schema, scan_record,
};
use proptest::prelude::*;

/// Every key spelling the exports use, and some they do not.
const KEYS: [&str; 30] = [
    "time",
    "TimeGenerated",
    "category",
    "Type",
    "operationName",
    "OperationName",
    "loginServer",
    "resourceId",
    "_ResourceId",
    "location",
    "Region",
    "repository",
    "tag",
    "Tag",
    "digest",
    "mediaType",
    "artifactType",
    "size",
    "Size",
    "durationMs",
    "resultType",
    "resultDescription",
    "identity",
    "userAgent",
    "correlationId",
    "jwtId",
    "callerIpAddress",
    "level",
    "RegionStamp",
    "tenantId",
];

/// A JSON value as text, and whether the fast path must read it (plain: no escape, ASCII,
/// a number it converts).
fn value() -> impl Strategy<Value = (String, bool)> {
    let leaf = prop_oneof![
        "[ -~&&[^\"\\\\]]{0,12}".prop_map(|s| (format!("\"{s}\""), true)),
        Just(("\"2025-11-03T10:15:02.1234567Z\"".to_owned(), true)),
        Just(("\"<nil>\"".to_owned(), true)),
        Just(("\"10.0.2.4:51234\"".to_owned(), true)),
        Just(("\"a\\\"b\\\\c\\u00e9\\/\\b\\f\\n\\r\"".to_owned(), true)),
        Just(("\"caf\u{e9}\"".to_owned(), true)),
        Just(("\"tab\\there\"".to_owned(), true)),
        Just(("\"\\ud83d\\ude00\"".to_owned(), false)),
        Just(("\"lone \\ud800 half\"".to_owned(), false)),
        Just(("\"bad \\q escape\"".to_owned(), false)),
        Just(("\"\u{1}\"".to_owned(), false)),
        any::<i32>().prop_map(|n| (n.to_string(), true)),
        Just(("-0".to_owned(), false)),
        Just(("38.212784".to_owned(), false)), // read by the fast path only where not wanted
        Just(("1e5".to_owned(), false)),
        Just(("123456789012345678901".to_owned(), false)),
        Just(("true".to_owned(), true)),
        Just(("false".to_owned(), true)),
        Just(("null".to_owned(), true)),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| {
                let plain = items.iter().all(|(_, p)| *p);
                let texts: Vec<String> = items.into_iter().map(|(t, _)| t).collect();
                (format!("[{}]", texts.join(",")), plain)
            }),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..4).prop_map(|members| {
                let plain = members.iter().all(|(_, (_, p))| *p);
                let texts: Vec<String> = members
                    .into_iter()
                    .map(|(k, (v, _))| format!("\"{k}\":{v}"))
                    .collect();
                (format!("{{{}}}", texts.join(",")), plain)
            }),
        ]
    })
}

/// A record: members at the top level and in `properties`, in random order, keys repeated,
/// spaced out or compact.
fn record() -> impl Strategy<Value = (String, bool)> {
    let members = || {
        prop::collection::vec(
            (prop::sample::select(KEYS.to_vec()), value(), " {0,2}"),
            0..12,
        )
    };
    (
        members(),
        members(),
        any::<bool>(),
        0usize..4,
        any::<bool>(),
    )
        .prop_map(|(top, nested, with_properties, properties_at, compact)| {
            let render = |ms: &Vec<(&str, (String, bool), String)>| -> (Vec<String>, bool) {
                let plain = ms.iter().all(|(_, (_, p), _)| *p);
                let texts = ms
                    .iter()
                    .map(|(k, (v, _), pad)| {
                        // Half the records as the exporters write them: nothing between tokens.
                        let pad = if compact { "" } else { pad.as_str() };
                        format!("{pad}\"{k}\":{pad}{v}")
                    })
                    .collect();
                (texts, plain)
            };
            let (mut texts, mut plain) = render(&top);
            if with_properties {
                let (inner, inner_plain) = render(&nested);
                let at = properties_at.min(texts.len());
                texts.insert(at, format!("\"properties\":{{{}}}", inner.join(",")));
                plain &= inner_plain;
            }
            (format!("{{{}}}", texts.join(",")), plain)
        })
}

/// A random subset of the event schema's columns.
fn columns() -> impl Strategy<Value = ColumnSet> {
    let n = event_schema().fields().len();
    prop::collection::vec(any::<bool>(), n).prop_map(|keep| {
        ColumnSet::of(keep.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i))
    })
}

fn all_fields() -> Vec<FieldName> {
    KEYS.iter()
        .filter_map(|k| match FieldName::from_key(k) {
            Some(KeyRole::Field(f)) => Some(f),
            _ => None,
        })
        .collect()
}

/// The rows both records make, built with `columns`.
fn rows(fast: &RawRecord<'_>, strict: &RawRecord<'_>, columns: ColumnSet) {
    let ctx = RecordContext {
        nulls: NullSpelling::Nil,
        category_hint: None,
        window: TimeWindow::default(),
    };
    let mut a = EventBatchBuilder::with_columns(Arc::from("x"), 1, columns);
    let mut b = EventBatchBuilder::with_columns(Arc::from("x"), 1, columns);
    assert_eq!(a.push(fast, 1, &ctx), b.push(strict, 1, &ctx));
    assert_eq!(a.finish(), b.finish());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_fast_path_reads_what_the_strict_decoder_reads(
        (text, plain) in record(),
        columns in columns(),
        cut in any::<prop::sample::Index>(),
        cut_it in any::<bool>(),
    ) {
        // Cut at any byte, even inside a character, as a truncated append blob may be.
        let bytes = text.as_bytes();
        let bytes = if cut_it { &bytes[..cut.index(bytes.len() + 1)] } else { bytes };
        let wanted = FieldSet::for_columns(columns);
        let strict = RawRecord::from_json(bytes);
        match scan_record(bytes, wanted) {
            Some(fast) => {
                let strict = strict.expect("the fast path read a record the strict decoder rejects");
                for f in all_fields() {
                    if wanted.contains(f) {
                        prop_assert_eq!(fast.get(f), strict.get(f), "{:?} in {}", f, text);
                    }
                }
                rows(&fast, &strict, columns);
            }
            None => prop_assert!(
                !plain || cut_it,
                "a plain record went to the strict decoder: {}", text
            ),
        }
    }
}
