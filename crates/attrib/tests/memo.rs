//! Decisions remembered across batches change nothing: attributing the sample exports with one
//! memo, in batches cut anywhere, building only some columns, gives exactly the columns a full
//! attribution of each batch on its own gives.

#![allow(clippy::unwrap_used)]

mod common;

use acrlens_attrib::{Attributor, VerdictMemo, attributed_schema, col};
use acrlens_events::ColumnSet;
use acrlens_netmap::{Topology, TopologyParts};
use arrow_array::{Array, RecordBatch, StringArray};
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
                .attribute_columns(&slice, columns(names), memo)
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

    let projections: [&[&str]; 6] = [
        &[col::ACCESS_PATH],
        &[col::ACCESS_PATH, col::ACCESS_REASON],
        &[col::CALLER_KIND, col::ACCESS_PATH],
        &[col::PRIVATE_ENDPOINT, col::CONFIG_VERSION, col::ACCESS_PATH],
        &[col::IP_SCOPE, col::SERVICE_TAG, col::ACCESS_REASON],
        &[col::VNET, col::SUBNET, col::TAGS_VERSION, col::ACCESS_PATH],
    ];
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
    }
}

#[test]
fn a_memo_used_with_another_topology_starts_afresh() {
    let sample = sample_topology();
    let empty = Topology::compile(TopologyParts::default());
    let events = sample_events();
    let names = [col::ACCESS_PATH, col::ACCESS_REASON];
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
    let names = [col::ACCESS_PATH, col::ACCESS_REASON];
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
