//! The report's SQL, pinned: every statement `build_report` runs for the sample policy over the
//! sample exports (parameters written in as literals, its temporary tables as `CREATE TABLE` /
//! `DROP TABLE`) is replayed from `crates/report/tests/report.slt` with the sqllogictest runner,
//! and each answer must be the one pinned there. A change to the report's SQL must rewrite the
//! file (`ACRLENS_SLT_COMPLETE=1 cargo test -p acrlens-engine --test engine report_sql`), so the change
//! of what it answers shows in review.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::common::{Db, root, sample_session};
use acrlens_report::{Policy, SqlTrace, Traced, Window, build_report};
use sqllogictest::{AsyncDB, DBOutput, Runner};

fn slt() -> PathBuf {
    root().join("crates/report/tests/report.slt")
}

/// The statements the sample report runs.
async fn traced() -> Vec<Traced> {
    let ctx = sample_session().await;
    let trace = Arc::new(SqlTrace::default());
    ctx.state_ref()
        .write()
        .config_mut()
        .set_extension(trace.clone());
    let policy = Policy::load(&root().join("sample-logs/policy.toml")).unwrap();
    build_report(&ctx, &policy, Window::default(), 0)
        .await
        .unwrap();
    trace.statements()
}

/// Writes the slt file from the statements' current answers.
async fn complete(statements: &[Traced]) {
    let mut db = Db {
        ctx: sample_session().await,
        params: HashMap::new(),
    };
    let mut text = String::from(
        "# Every statement of the sample report (sample-logs/policy.toml over sample-logs/), in order.\n\
         # Regenerate with ACRLENS_SLT_COMPLETE=1 cargo test -p acrlens-engine --test engine report_sql; review the diff.\n",
    );
    for statement in statements {
        match statement {
            Traced::Statement(sql) => {
                db.run(sql).await.unwrap();
                text.push_str(&format!("\nstatement ok\n{sql}\n"));
            }
            Traced::Query(sql) => {
                let DBOutput::Rows { types, mut rows } = db.run(sql).await.unwrap() else {
                    panic!("no rows from {sql}")
                };
                rows.sort();
                let types: String = types
                    .iter()
                    .map(sqllogictest::ColumnType::to_char)
                    .collect();
                text.push_str(&format!("\nquery {types} rowsort\n{sql}\n----\n"));
                for row in rows {
                    text.push_str(&row.join(" "));
                    text.push('\n');
                }
            }
        }
    }
    std::fs::write(slt(), text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_sql_answers_as_pinned() {
    let statements = traced().await;
    assert!(
        statements.len() > 10,
        "the sample report runs the overview, the caller tables and six rules: {statements:?}"
    );
    if std::env::var_os("ACRLENS_SLT_COMPLETE").is_some() {
        complete(&statements).await;
        return;
    }
    let pinned = std::fs::read_to_string(slt()).unwrap();
    for statement in &statements {
        let (Traced::Query(sql) | Traced::Statement(sql)) = statement;
        assert!(
            pinned.contains(&format!("\n{sql}\n")),
            "the report's SQL changed since {} was written: run with ACRLENS_SLT_COMPLETE=1\n{sql}",
            slt().display()
        );
    }
    let mut runner = Runner::new(|| async {
        Ok(Db {
            ctx: sample_session().await,
            params: HashMap::new(),
        })
    });
    runner
        .run_file_async(slt())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", slt().display()));
}
