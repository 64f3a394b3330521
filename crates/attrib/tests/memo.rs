//! Decisions remembered across batches change nothing: attributing the sample exports with one
//! memo, in batches cut anywhere, building only some columns, gives exactly the columns a full
//! attribution of each batch on its own gives.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use acrlens_attrib::{AccessPath, Attributor, VerdictMemo, attributed_schema, col, decode_columns};
use acrlens_events::{ColumnSet, DecodeOptions, Decoder, InputSource, TimeWindow, discover};
use acrlens_netmap::{Topology, TopologyParts};
use arrow_array::{Array, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_select::concat::concat_batches;
use common::{root, sample_events};

fn sample_topology() -> Topology {
    Topology::load(&root().join("sample-logs/topology/acrlens.toml")).unwrap()
}

fn columns(names: &[&str]) -> ColumnSet {
    let schema = attributed_schema();
    ColumnSet::of(names.iter().map(|n| schema.index_of(n).unwrap()))
}

/// `events` attributed in slices of `rows`, one memo for all of them, building `names`.
fn in_slices(
    topology: &Topology,
    events: &RecordBatch,
    rows: usize,
    names: &[&str],
    memo: &mut VerdictMemo,
) -> RecordBatch {
    let attributor = Attributor::new(topology);
    let parts: Vec<RecordBatch> = (0..events.num_rows())
        .step_by(rows)
        .map(|start| {
            let slice = events.slice(start, rows.min(events.num_rows() - start));
            attributor
                .attribute_columns(&slice, None, columns(names), memo)
                .unwrap()
        })
        .collect();
    concat_batches(&attributed_schema(), &parts).unwrap()
}

fn assert_same_columns(got: &RecordBatch, want: &RecordBatch, names: &[&str], case: &str) {
    for name in names {
        assert_eq!(
            got.column_by_name(name).unwrap().as_ref(),
            want.column_by_name(name).unwrap().as_ref(),
            "{case}: column {name}"
        );
    }
}

#[test]
fn a_memo_across_batches_and_projections_changes_no_value() {
    let topology = sample_topology();
    let events = sample_events();
    let full = Attributor::new(&topology).attribute(&events).unwrap();

    // Requests whose path depends on the caller kind: ACR Tasks let in by nothing since the
    // Tasks change, other Azure callers let in by the bypass. A batch that does not read the
    // kind must still work it out for them.
    let kinds = full.column_by_name(col::CALLER_KIND).unwrap();
    let kinds = kinds.as_any().downcast_ref::<StringArray>().unwrap();
    let paths = full.column_by_name(col::ACCESS_PATH).unwrap();
    let paths = paths.as_any().downcast_ref::<StringArray>().unwrap();
    assert!(
        (0..full.num_rows())
            .any(|i| kinds.value(i) == "acr_tasks" && paths.value(i) == "unexplained"),
        "a Task the firewall let in only under the old rules"
    );
    assert!(
        (0..full.num_rows())
            .any(|i| kinds.value(i) != "acr_tasks" && paths.value(i) == "trusted_service"),
        "an Azure caller let in by the bypass"
    );

    let projections: [&[&str]; 8] = [
        &[col::ACCESS_PATH],
        &[col::CALLER_KIND],
        &[
            col::NAMED_RANGE,
            col::SERVICE_TAGS,
            col::AZURE_SERVICE,
            col::AZURE_REGION,
            col::COUNTRY,
            col::ASN,
            col::AS_ORG,
            col::CALLER_KIND,
        ],
        &[col::ACCESS_PATH, col::ACCESS_REASON],
        &[col::CALLER_KIND, col::ACCESS_PATH],
        &[col::PRIVATE_ENDPOINT, col::CONFIG_VERSION, col::ACCESS_PATH],
        &[col::IP_SCOPE, col::SERVICE_TAG, col::ACCESS_REASON],
        &[col::VNET, col::SUBNET, col::TAGS_VERSION, col::ACCESS_PATH],
    ];
    // One memo for every projection too: decisions made for a projection that shows nothing of
    // the caller are found again by one that shows its facts or kind.
    let mut shared = VerdictMemo::new();
    for names in projections {
        let mut memo = VerdictMemo::new();
        for rows in [7, 1000, events.num_rows()] {
            // The memo is shared by every slice and every pass: later passes are all hits.
            let got = in_slices(&topology, &events, rows, names, &mut memo);
            assert_same_columns(
                &got,
                &full,
                names,
                &format!("{names:?} in slices of {rows}"),
            );
        }
        let got = in_slices(&topology, &events, 1000, names, &mut shared);
        assert_same_columns(&got, &full, names, &format!("{names:?} after the others"));
    }
}

#[test]
fn the_decoders_addresses_and_partial_columns_attribute_as_the_full_columns_do() {
    // Decoded for attribution, a scan that reads only attribution columns gets the callers as
    // numbers, no caller text, the resource ID only where the login server is missing and the
    // raw caller only where it is no address: the columns it reads must not change.
    let topology = Arc::new(sample_topology());
    let exports = discover(
        &[root().join("sample-logs/exports").display().to_string()],
        TimeWindow::default(),
    )
    .unwrap();
    // The sample records all name their login server: the same records once more without it,
    // so the registry comes from the resource ID (and with other correlation ids, or they would
    // be dropped as duplicates).
    let mut without_login_server = String::new();
    for source in &exports {
        for line in std::fs::read_to_string(source.name()).unwrap().lines() {
            let line = match line.split_once("\"loginServer\":\"") {
                Some((head, tail)) => format!("{head}{}", tail.split_once("\",").unwrap().1),
                None => line.to_owned(),
            };
            without_login_server
                .push_str(&line.replace("\"correlationId\":\"", "\"correlationId\":\"x"));
            without_login_server.push('\n');
        }
    }
    assert!(!without_login_server.contains("loginServer"));
    let inputs = || {
        let mut all = exports.clone();
        all.push(InputSource::Memory {
            name: "without-login-server.json".into(),
            bytes: Arc::from(without_login_server.as_bytes()),
        });
        all
    };
    let plain = Decoder::new(inputs(), DecodeOptions::default())
        .collect_all()
        .batches;
    let plain = concat_batches(&plain[0].schema(), &plain).unwrap();
    let full = Attributor::new(&topology).attribute(&plain).unwrap();
    let projections: [&[&str]; 3] = [
        &[col::ACCESS_PATH, col::ACCESS_REASON],
        &[col::CALLER_KIND, col::IP_SCOPE, col::ACCESS_PATH],
        &[col::PRIVATE_ENDPOINT, col::CONFIG_VERSION, col::SERVICE_TAG],
    ];
    for names in projections {
        let wanted = columns(names);
        let options = DecodeOptions {
            columns: decode_columns(wanted),
            attribution: true,
            ..DecodeOptions::default()
        };
        let (memo, topology) = (Mutex::new(VerdictMemo::new()), topology.clone());
        let got = Decoder::new(inputs(), options)
            .with_transform(Arc::new(move |batch, callers| {
                let callers = callers.expect("the decoder hands the addresses over");
                assert_eq!(callers.len(), batch.num_rows());
                let mut memo = memo.lock().unwrap();
                Ok(Attributor::new(&topology).attribute_columns(
                    &batch,
                    Some(callers),
                    wanted,
                    &mut memo,
                )?)
            }))
            .collect_all();
        assert!(got.failures.is_empty(), "{:?}", got.failures);
        let got = concat_batches(&attributed_schema(), &got.batches).unwrap();
        assert_eq!(got.num_rows(), full.num_rows());
        assert!(
            (0..plain.num_rows()).any(|i| plain.column_by_name("registry").unwrap().is_null(i)),
            "rows without a login server"
        );
        assert_same_columns(
            &got,
            &full,
            names,
            &format!("{names:?} decoded for attribution"),
        );
        // The caller text was not built: the addresses stood in for it.
        assert_eq!(
            got.column_by_name("caller_ip").unwrap().null_count(),
            got.num_rows()
        );
    }
}

#[test]
fn a_memo_used_with_another_topology_starts_afresh() {
    let sample = sample_topology();
    let empty = Topology::compile(TopologyParts::default());
    let events = sample_events();
    // The facts and kinds a memo keeps for its callers belong to its topology as well.
    let names = [
        col::ACCESS_PATH,
        col::ACCESS_REASON,
        col::SERVICE_TAG,
        col::VNET,
        col::CALLER_KIND,
    ];
    let mut memo = VerdictMemo::new();
    in_slices(&sample, &events, 100, &names, &mut memo);
    let got = in_slices(&empty, &events, 100, &names, &mut memo);
    let want = Attributor::new(&empty).attribute(&events).unwrap();
    assert_same_columns(&got, &want, &names, "after the sample topology");
    // And a memo filled without reasons does not hand out empty ones.
    let mut memo = VerdictMemo::new();
    in_slices(&sample, &events, 100, &[col::ACCESS_PATH], &mut memo);
    let got = in_slices(&sample, &events, 100, &names, &mut memo);
    let want = Attributor::new(&sample).attribute(&events).unwrap();
    assert_same_columns(&got, &want, &names, "after a memo without reasons");
}

#[test]
fn a_memo_outliving_its_topology_serves_the_next_one_afresh() {
    // A topology compiled after another is dropped may take its address; the memo must tell
    // them apart all the same.
    let events = sample_events();
    let names = [col::ACCESS_PATH, col::ACCESS_REASON, col::SERVICE_TAG];
    let mut memo = VerdictMemo::new();
    {
        let sample = sample_topology();
        in_slices(&sample, &events, 100, &names, &mut memo);
    }
    let empty = Topology::compile(TopologyParts::default());
    let got = in_slices(&empty, &events, 100, &names, &mut memo);
    let want = Attributor::new(&empty).attribute(&events).unwrap();
    assert_same_columns(&got, &want, &names, "after the sample topology was dropped");
}

#[test]
fn callers_known_under_one_topology_are_looked_up_again_under_the_next() {
    // The sample topology without its VNets and named ranges: the same service-tag snapshots,
    // so each caller's memo key is the same under both, and only its facts tell them apart.
    let dir = tempfile::tempdir().unwrap();
    let topology_dir = root().join("sample-logs/topology");
    let config = std::fs::read_to_string(topology_dir.join("acrlens.toml")).unwrap();
    let kept: String = config
        .split("\n\n")
        .filter(|section| !section.contains("[[vnets]]") && !section.contains("[[ranges]]"))
        .map(|section| {
            section.replace(
                "path = \"",
                &format!("path = \"{}/", topology_dir.display()),
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let toml = dir.path().join("acrlens.toml");
    std::fs::write(&toml, kept).unwrap();
    let bare = Topology::load(&toml).unwrap();
    let sample = sample_topology();
    let events = sample_events();
    let names = [col::VNET, col::NAMED_RANGE, col::IP_SCOPE, col::CALLER_KIND];
    let want = Attributor::new(&bare).attribute(&events).unwrap();
    let before = Attributor::new(&sample).attribute(&events).unwrap();
    assert_ne!(
        want.column_by_name(col::VNET).unwrap().as_ref(),
        before.column_by_name(col::VNET).unwrap().as_ref(),
        "the two topologies show different facts"
    );
    let mut memo = VerdictMemo::new();
    in_slices(&sample, &events, 100, &names, &mut memo);
    let got = in_slices(&bare, &events, 100, &names, &mut memo);
    assert_same_columns(&got, &want, &names, "after the sample topology");
}

#[test]
fn requests_sharing_a_decision_across_statuses_each_get_their_own_sentence() {
    // The memo decides a caller once for every status but 403 and none: the sentence of an
    // `unexplained` verdict names the status, and each request must read its own there. The
    // sample events (each logged, and once more answered 200) again answered 404 and with no
    // status, against each request decided alone.
    let topology = sample_topology();
    let events = sample_events();
    let status = events.schema().index_of("status").unwrap();
    let mut batches = vec![events.clone()];
    for other in [Some(404), None] {
        let mut columns = events.columns().to_vec();
        columns[status] = Arc::new(Int32Array::from(vec![other; events.num_rows()]));
        batches.push(RecordBatch::try_new(events.schema(), columns).unwrap());
    }
    let events = concat_batches(&events.schema(), &batches).unwrap();
    let attributor = Attributor::new(&topology);
    let got = attributor.attribute(&events).unwrap();
    let text = |batch: &RecordBatch, name: &str, row: usize| {
        let column = batch.column_by_name(name).unwrap();
        let column = column.as_any().downcast_ref::<StringArray>().unwrap();
        column.is_valid(row).then(|| column.value(row).to_owned())
    };
    let statuses = events.column(status).as_any().downcast_ref::<Int32Array>();
    let statuses = statuses.unwrap();
    let times = events.column_by_name("time").unwrap();
    let times = times.as_any().downcast_ref::<TimestampMicrosecondArray>();
    let mut unexplained = Vec::new();
    for row in 0..events.num_rows() {
        let one = attributor.attribute_one(
            text(&events, "caller_ip", row).and_then(|ip| ip.parse().ok()),
            text(&events, "caller_ip_raw", row).as_deref(),
            text(&events, "registry", row)
                .or_else(|| text(&events, "resource_id", row))
                .as_deref(),
            times.unwrap().value(row),
            statuses.is_valid(row).then(|| statuses.value(row)),
            text(&events, "user_agent", row).as_deref(),
            text(&events, "identity", row).as_deref(),
        );
        let reason = text(&got, col::ACCESS_REASON, row).unwrap();
        assert_eq!(reason, one.verdict.reason, "row {row}");
        if one.verdict.path == AccessPath::Unexplained {
            unexplained.push(reason);
        }
    }
    // The sentences that name a status: 200, 404 and no status among them.
    for named in [
        "unexplained: 200 from",
        "unexplained: 404 from",
        "unexplained: a request from",
    ] {
        assert!(
            unexplained.iter().any(|r| r.starts_with(named)),
            "{named}: {unexplained:?}"
        );
    }
}
