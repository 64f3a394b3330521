//! Reads a registry's requests from the session's `events` table, the registry and window bound
//! as parameters (never spliced into the SQL), and feeds them to the replayer batch by batch.

use std::collections::HashMap;

use acrlens_attrib::col as at;
use acrlens_events::col as ev;
use arrow_array::{Array, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::WhatIfError;
use crate::replayer::{Replayer, Row};

/// The columns read, in the order of the SELECT.
const COLUMNS: [&str; 6] = [
    ev::TIME,
    ev::CALLER_IP,
    ev::CALLER_IP_RAW,
    ev::STATUS,
    ev::IDENTITY,
    at::CALLER_KIND,
];

/// Streams the registry's requests in `[since, until)` through `replayer`.
pub async fn scan(
    ctx: &SessionContext,
    replayer: &mut Replayer<'_>,
    since: Option<i64>,
    until: Option<i64>,
) -> Result<(), WhatIfError> {
    let mut params = HashMap::new();
    let mut predicate = format!("({} = $registry", ev::REGISTRY);
    params.insert(
        "registry".to_owned(),
        ScalarValue::Utf8(Some(replayer.login_server().to_owned())),
    );
    if let Some(id) = replayer.resource_id() {
        predicate.push_str(&format!(
            " OR ({} IS NULL AND {} = $resource_id)",
            ev::REGISTRY,
            ev::RESOURCE_ID
        ));
        params.insert(
            "resource_id".to_owned(),
            ScalarValue::Utf8(Some(id.to_owned())),
        );
    }
    predicate.push(')');
    for (name, bound, op) in [("since", since, ">="), ("until", until, "<")] {
        if let Some(t) = bound {
            predicate.push_str(&format!(" AND {} {op} ${name}", ev::TIME));
            params.insert(
                name.to_owned(),
                ScalarValue::TimestampMicrosecond(Some(t), Some("UTC".into())),
            );
        }
    }
    let sql = format!(
        "SELECT {} FROM events WHERE {predicate}",
        COLUMNS.join(", ")
    );
    let mut stream = ctx
        .sql(&sql)
        .await?
        .with_param_values(params)?
        .execute_stream()
        .await?;
    while let Some(batch) = stream.next().await {
        read(&batch?, replayer)?;
        replayer.end_batch();
    }
    Ok(())
}

fn value(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

fn read(batch: &RecordBatch, replayer: &mut Replayer<'_>) -> Result<(), WhatIfError> {
    let times = typed::<TimestampMicrosecondArray>(batch, ev::TIME)?;
    let statuses = typed::<Int32Array>(batch, ev::STATUS)?;
    let ips = typed::<StringArray>(batch, ev::CALLER_IP)?;
    let raws = typed::<StringArray>(batch, ev::CALLER_IP_RAW)?;
    let identities = typed::<StringArray>(batch, ev::IDENTITY)?;
    let kinds = typed::<StringArray>(batch, at::CALLER_KIND)?;
    for i in 0..batch.num_rows() {
        if times.is_null(i) {
            continue;
        }
        replayer.push(&Row {
            time: times.value(i),
            caller_ip: value(ips, i),
            caller_raw: value(raws, i),
            status: statuses.is_valid(i).then(|| statuses.value(i)),
            identity: value(identities, i),
            caller_kind: value(kinds, i).unwrap_or("unknown"),
        });
    }
    Ok(())
}

/// A column of the type the schema declares; anything else is an error naming it.
fn typed<'b, A: Array + 'static>(batch: &'b RecordBatch, name: &str) -> Result<&'b A, WhatIfError> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| WhatIfError::Column(name.to_owned(), "missing".to_owned()))?;
    column
        .as_any()
        .downcast_ref::<A>()
        .ok_or_else(|| WhatIfError::Column(name.to_owned(), column.data_type().to_string()))
}
