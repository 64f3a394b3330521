//! The IP functions on the sample topology, including a value that is not an address.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use acrlens_engine::{EventSource, session};
use acrlens_events::{DecodeOptions, InputSource};
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::common::sample_topology;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_functions_answer_from_the_index() {
    let log = br#"{"time":"2025-11-03T10:00:00Z","callerIpAddress":"20.42.66.17"}
{"time":"2025-11-03T10:00:01Z","callerIpAddress":"4.156.10.20"}
{"time":"2025-11-03T10:00:02Z","callerIpAddress":"20.42.66.17"}
{"time":"2025-11-03T10:00:03Z","callerIpAddress":"not-an-ip"}
"#;
    let sources = vec![InputSource::Memory {
        name: "PT1H.json".into(),
        bytes: Arc::from(&log[..]),
    }];
    let s = session(
        EventSource::Logs {
            sources,
            options: DecodeOptions::default(),
        },
        sample_topology(),
    )
    .await
    .unwrap();
    let sql = "SELECT caller_ip_raw AS ip, service_tag(caller_ip_raw) AS tag, service_tags(caller_ip_raw) AS tags, \
               ip_scope(caller_ip_raw) AS scope, ip_in_cidr(caller_ip_raw, '20.42.0.0/16') AS in_20_42, \
               access_path_at(caller_ip_raw, 'contoso.azurecr.io', TIMESTAMP '2025-11-05T18:00:00Z') AS path_then \
               FROM events ORDER BY time";
    let batches = s.ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let table = pretty_format_batches(&batches).unwrap().to_string();
    insta::assert_snapshot!("ip_functions_on_the_sample_topology", table);
}
