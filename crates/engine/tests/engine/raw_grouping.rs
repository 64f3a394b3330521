//! Groupings over the raw exports, whose text columns are plain strings, are done by numbers
//! and give DataFusion's own answers; the whole-grouping operator, which runs its input again
//! when the rows hardly group, is kept off a scan of raw exports, which would decode them
//! twice.

#![allow(clippy::unwrap_used)]

use crate::common::{assert_groupings_agree, explained, numbered_and_plain, sample_exports, table};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groupings_over_raw_exports_by_numbers_agree_with_datafusion() {
    let (numbered, plain) = numbered_and_plain(sample_exports).await;
    let queries = [
        // Text and a date; NULL repositories (logins); several inputs, days and categories.
        "SELECT CAST(time AS DATE) AS day, repository, access_path, count(*), sum(size_bytes) FROM events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        "SELECT registry, caller_ip, count(*), min(time), max(time) FROM events GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT repository, count(repository), min(identity), max(user_agent) FROM events GROUP BY repository ORDER BY 1 DESC NULLS FIRST",
        "SELECT status, tag, count(*), count(digest) FROM events GROUP BY status, tag ORDER BY 1, 2",
        "SELECT source, registry, count(*) FROM events GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT correlation_id, repository, count(*), min(time) FROM events GROUP BY 1, 2 ORDER BY 1, 2",
    ];
    assert_groupings_agree(&numbered, &plain, &queries, 2, table).await;
    let plan = explained(&numbered, queries[0]).await;
    assert!(
        plan.contains("NumberedAggregateExec") && !plan.contains("MergedAggregateExec"),
        "{plan}"
    );
}
