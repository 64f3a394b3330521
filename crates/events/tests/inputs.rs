//! Inputs as users hold them: folders in the Storage layout, globs, gzip, time windows,
//! truncated and oversized records, duplicates.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::io::Write;

use acrlens_events::{
    DecodeOptions, Decoder, Error, InputFormat, TimeWindow, TransformError, decode_bytes, discover,
    parse_timestamp_micros,
};
mod common;

use common::{source_lines, strings};
use flate2::Compression;
use flate2::write::GzEncoder;

fn record(time: &str, correlation: &str, ip: &str) -> String {
    format!(
        r#"{{"time":"{time}","operationName":"Pull","category":"ContainerRegistryRepositoryEvents","resultDescription":"200","callerIpAddress":"{ip}","correlationId":"{correlation}","properties":{{"loginServer":"Contoso.AzureCR.io","repository":"app/web","tag":"v1"}}}}"#
    )
}

fn t(s: &str) -> i64 {
    parse_timestamp_micros(s).unwrap()
}

#[test]
fn a_truncated_final_line_is_quarantined_with_its_line_number() {
    let text = format!(
        "{}\n{}\n{}",
        record("2025-11-03T10:00:00Z", "a", "1.2.3.4"),
        record("2025-11-03T10:00:01Z", "b", "1.2.3.4"),
        &record("2025-11-03T10:00:02Z", "c", "1.2.3.4")[..60]
    );
    let out = decode_bytes("PT1H.json", text.as_bytes(), DecodeOptions::default());
    assert_eq!(out.rows(), 2);
    assert_eq!(out.quarantined.len(), 1);
    let q = &out.quarantined[0];
    assert_eq!((q.source.as_str(), q.line), ("PT1H.json", 3));
    assert!(q.reason.starts_with("truncated final line"), "{}", q.reason);
    assert_eq!(q.raw.len(), 60);
}

#[test]
fn records_without_a_usable_time_are_quarantined_not_dropped() {
    let text = [
        r#"{"operationName":"Pull"}"#.to_owned(),
        r#"{"time":"yesterday"}"#.to_owned(),
        r#"{"time":12345}"#.to_owned(),
        r#"{"time":"<nil>"}"#.to_owned(),
        "[1,2,3]".to_owned(),
        "".to_owned(),
        record("2025-11-03T10:00:00Z", "a", "<nil>"),
    ]
    .join("\n");
    let out = decode_bytes("x.json", text.as_bytes(), DecodeOptions::default());
    let reasons: Vec<(u64, &str)> = out
        .quarantined
        .iter()
        .map(|q| (q.line, q.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (1, "record has no time"),
            (2, "unparseable time \"yesterday\""),
            (3, "time is not a timestamp string"),
            (4, "record has no time"),
            (5, "not a JSON object"),
        ]
    );
    assert_eq!(
        out.rows(),
        1,
        "a missing caller IP is no reason to drop a record"
    );
    assert_eq!(strings(&out, "caller_ip"), [None]);
    assert_eq!(strings(&out, "caller_ip_raw"), [None]);
    assert_eq!(out.stats[0].read, 6, "the blank line is not a record");
}

#[test]
fn an_oversized_line_is_quarantined_without_being_held() {
    let huge = format!(
        r#"{{"time":"2025-11-03T10:00:00Z","x":"{}"}}"#,
        "y".repeat(5000)
    );
    let text = format!(
        "{}\n{huge}\n{}\n",
        record("2025-11-03T10:00:00Z", "a", "1.1.1.1"),
        record("2025-11-03T10:00:01Z", "b", "1.1.1.1")
    );
    let options = DecodeOptions {
        max_record_bytes: 1000,
        chunk_bytes: 256,
        ..DecodeOptions::default()
    };
    let out = decode_bytes("big.json", text.as_bytes(), options);
    assert_eq!(out.rows(), 2);
    assert_eq!(out.quarantined.len(), 1);
    assert_eq!(out.quarantined[0].line, 2);
    assert!(out.quarantined[0].reason.contains("longer than 1000 bytes"));
    assert!(out.quarantined[0].raw.len() <= 4096);
    assert_eq!(source_lines(&out), [1, 3]);
}

#[test]
fn duplicates_are_counted_and_dropped() {
    let a = record("2025-11-03T10:00:00Z", "same", "1.2.3.4");
    let text = format!(
        "{a}\n{a}\n{}\n",
        record("2025-11-03T10:00:00Z", "same", "1.2.3.5")
    );
    let out = decode_bytes("dup.json", text.as_bytes(), DecodeOptions::default());
    assert_eq!((out.rows(), out.stats[0].duplicates), (2, 1));
    let kept = decode_bytes(
        "dup.json",
        text.as_bytes(),
        DecodeOptions {
            dedup: false,
            ..DecodeOptions::default()
        },
    );
    assert_eq!((kept.rows(), kept.stats[0].duplicates), (3, 0));
}

#[test]
fn values_are_normalized() {
    let text = record("2025-11-03T10:00:00Z", "a", "[2001:DB8::1]:443");
    let out = decode_bytes("n.json", text.as_bytes(), DecodeOptions::default());
    assert_eq!(
        strings(&out, "registry"),
        [Some("contoso.azurecr.io".to_owned())]
    );
    assert_eq!(strings(&out, "caller_ip"), [Some("2001:db8::1".to_owned())]);
    assert_eq!(
        strings(&out, "caller_ip_raw"),
        [Some("[2001:DB8::1]:443".to_owned())]
    );
    assert_eq!(
        strings(&out, "category"),
        [Some("ContainerRegistryRepositoryEvents".to_owned())]
    );
}

#[test]
fn folders_globs_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let hour = |d: u32, h: u32| {
        dir.path().join(format!("insights-logs-containerregistryloginevents/resourceId=/X/y=2025/m=11/d={d:02}/h={h:02}/m=00"))
    };
    for (d, h) in [(1, 0), (3, 10), (9, 23)] {
        fs::create_dir_all(hour(d, h)).unwrap();
        let text = format!(
            "{}\n",
            record(
                &format!("2025-11-{d:02}T{h:02}:30:00Z"),
                &format!("c{d}"),
                "1.2.3.4"
            )
        );
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        fs::write(hour(d, h).join("PT1H.json.gz"), gz.finish().unwrap()).unwrap();
        fs::write(hour(d, h).join("notes.txt"), "not a log").unwrap();
    }
    let root = dir.path().display().to_string();

    let all = discover(std::slice::from_ref(&root), TimeWindow::default()).unwrap();
    assert_eq!(all.len(), 3, "notes.txt is skipped in a walk");
    let out = Decoder::new(all, DecodeOptions::default()).collect_all();
    assert_eq!(out.rows(), 3);
    assert_eq!(
        strings(&out, "category"),
        vec![Some("ContainerRegistryRepositoryEvents".to_owned()); 3],
        "a record's own category wins over the folder's"
    );

    // --since 2025-11-05 prunes day 1 and day 3 is kept only for the 48 h margin... then its
    // record is outside the window and counted, not kept.
    let window = TimeWindow {
        since: Some(t("2025-11-05T00:00:00Z")),
        until: None,
    };
    let pruned = discover(std::slice::from_ref(&root), window).unwrap();
    assert_eq!(pruned.len(), 2, "{pruned:?}");
    let out = Decoder::new(
        pruned,
        DecodeOptions {
            window,
            ..DecodeOptions::default()
        },
    )
    .collect_all();
    assert_eq!(out.rows(), 1);
    assert_eq!(out.stats.iter().map(|s| s.out_of_window).sum::<u64>(), 1);

    let glob = format!("{root}/**/d=0[19]/**/*.gz");
    assert_eq!(discover(&[glob], TimeWindow::default()).unwrap().len(), 2);
    let named = hour(1, 0).join("notes.txt").display().to_string();
    assert_eq!(
        discover(&[named], TimeWindow::default()).unwrap().len(),
        1,
        "a named file is always read"
    );
}

#[test]
fn a_missing_input_is_an_error_not_an_empty_run() {
    let err = discover(&["/no/such/export".to_owned()], TimeWindow::default()).unwrap_err();
    assert!(matches!(err, Error::NoSuchInput(_)));
    assert!(discover(&["/no/such/*.json".to_owned()], TimeWindow::default()).is_err());
}

#[test]
fn a_corrupt_gzip_keeps_what_was_read_and_says_why_it_stopped() {
    let text = (0..2000)
        .map(|i| record("2025-11-03T10:00:00Z", &format!("c{i}"), "1.2.3.4") + "\n")
        .collect::<String>();
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let mut bytes = gz.finish().unwrap();
    bytes.truncate(bytes.len() * 2 / 3);
    let out = decode_bytes(
        "cut.json.gz",
        &bytes,
        DecodeOptions {
            chunk_bytes: 4096,
            ..DecodeOptions::default()
        },
    );
    let s = &out.stats[0];
    assert!(
        s.error
            .as_deref()
            .is_some_and(|e| e.starts_with("read error")),
        "{s:?}"
    );
    assert!(s.accepted > 100 && s.accepted < 2000, "{s:?}");
    assert!(s.reconciles());
}

#[test]
fn az_output_none_is_null_but_a_resource_log_none_is_text() {
    let az = br#"[{"TimeGenerated":"2025-11-03T10:00:00Z","OperationName":"Pull","Tag":"None","Size":"None","DurationMs":"1.5"}]"#;
    let out = decode_bytes("az.json", az, DecodeOptions::default());
    assert_eq!(out.stats[0].format, InputFormat::AzJson);
    assert_eq!(strings(&out, "tag"), [None]);
    let lines = br#"{"time":"2025-11-03T10:00:00Z","properties":{"tag":"None"}}"#;
    let out = decode_bytes("PT1H.json", lines, DecodeOptions::default());
    assert_eq!(strings(&out, "tag"), [Some("None".to_owned())]);
}

#[test]
fn csv_quoted_newlines_survive() {
    let text = "TimeGenerated [UTC],UserAgent,CallerIpAddress\n\"11/3/2025, 10:00:00.000 AM\",\"evil\nagent, \"\"quoted\"\"\",1.2.3.4\n\"11/3/2025, 10:00:01.000 AM\",short\n";
    let out = decode_bytes("x.csv", text.as_bytes(), DecodeOptions::default());
    assert_eq!(
        strings(&out, "user_agent"),
        [Some("evil\nagent, \"quoted\"".to_owned())]
    );
    assert_eq!(out.quarantined.len(), 1);
    assert_eq!(out.quarantined[0].line, 4);
    assert!(
        out.quarantined[0].reason.contains("2 fields"),
        "{}",
        out.quarantined[0].reason
    );
}

#[test]
fn a_batch_transform_runs_on_every_batch_and_its_failure_stops_the_run() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let text = (0..50)
        .map(|i| record("2025-11-03T10:00:00Z", &format!("c{i}"), "1.2.3.4") + "\n")
        .collect::<String>();
    let source = || {
        vec![acrlens_events::InputSource::Memory {
            name: "t.json".into(),
            bytes: Arc::from(text.as_bytes()),
        }]
    };
    let options = DecodeOptions {
        chunk_bytes: 1024,
        ..DecodeOptions::default()
    };
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    // For attribution, the transform also gets each row's caller address.
    let attributing = DecodeOptions {
        attribution: true,
        ..options
    };
    let out = Decoder::new(source(), attributing)
        .with_transform(Arc::new(move |batch, callers| {
            let callers = callers.expect("addresses for attribution");
            assert_eq!(callers.len(), batch.num_rows());
            counter.fetch_add(callers.iter().flatten().count(), Ordering::Relaxed);
            Ok(batch)
        }))
        .collect_all();
    assert_eq!((out.rows(), seen.load(Ordering::Relaxed)), (50, 50));
    let failed = Decoder::new(source(), options)
        .with_transform(Arc::new(|_, _| Err("no".into())))
        .collect_all();
    assert_eq!(failed.rows(), 0);
    assert!(
        failed
            .failures
            .iter()
            .all(|f| matches!(f, TransformError::Failed(e) if e.to_string() == "no"))
            && !failed.failures.is_empty()
    );
    // A transform that panics fails the run with the message instead of aborting it.
    let panicked = Decoder::new(source(), options)
        .with_transform(Arc::new(|_, _| panic!("attribution bug")))
        .collect_all();
    assert_eq!(panicked.rows(), 0);
    assert!(!panicked.failures.is_empty());
    assert!(
        panicked
            .failures
            .iter()
            .all(|f| matches!(f, TransformError::Panicked(m) if m == "attribution bug"))
    );
}

#[test]
fn an_append_blob_resumes_after_its_last_whole_line() {
    use acrlens_events::{InputSource, Resume};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("PT1H.json");
    let line = |i: usize| record("2025-11-03T10:00:00Z", &format!("c{i}"), "1.2.3.4") + "\n";
    let whole: String = (1..=3).map(line).collect();
    let fourth = line(4);
    fs::write(&path, format!("{whole}{}", &fourth[..40])).unwrap();
    let first = Decoder::new(
        vec![InputSource::File(path.clone())],
        DecodeOptions::default(),
    )
    .collect_all();
    assert_eq!(
        (first.rows(), first.quarantined.len()),
        (3, 1),
        "the cut line is quarantined for now"
    );
    let resume = first.stats[0].resume.unwrap();
    assert_eq!(
        resume,
        Resume {
            offset: whole.len() as u64,
            line: 4
        }
    );

    fs::write(&path, format!("{whole}{fourth}{}", line(5))).unwrap();
    let again = InputSource::Resume {
        path: path.clone(),
        offset: resume.offset,
        line: resume.line,
    };
    let second = Decoder::new(vec![again], DecodeOptions::default()).collect_all();
    assert_eq!(second.rows(), 2, "only the new lines");
    assert_eq!(source_lines(&second), [4, 5]);
    assert_eq!(
        second.stats[0].resume.unwrap(),
        Resume {
            offset: (whole.len() + fourth.len() * 2) as u64,
            line: 6
        }
    );

    let gz = decode_bytes(
        "x.json.gz",
        &{
            let mut e = GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(whole.as_bytes()).unwrap();
            e.finish().unwrap()
        },
        DecodeOptions::default(),
    );
    assert_eq!(
        gz.stats[0].resume, None,
        "a gzip stream cannot be resumed by offset"
    );
}
