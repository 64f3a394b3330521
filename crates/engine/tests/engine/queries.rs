//! Every canned query of `queries/`, pinned as a sqllogictest file (`queries/tests/NAME.slt`)
//! against `sample-logs/`. `ACRLENS_SLT_COMPLETE=1` rewrites the files from the queries' current
//! results (review the diff); otherwise the files are run with the sqllogictest runner, and a
//! query whose SQL changed without its file being rewritten fails.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use crate::common::{Db, root, rows, sample_session, statement};
use acrlens_engine::bind_params;
use sqllogictest::{AsyncDB, DBOutput, Runner};

fn query_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("queries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

fn slt_path(query: &Path) -> PathBuf {
    root()
        .join("queries/tests")
        .join(query.file_stem().unwrap())
        .with_extension("slt")
}

/// Writes the slt file of a query from its current result.
async fn complete(query: &Path, sql: &str) {
    let params = bind_params(sql, &[]);
    let mut db = Db {
        ctx: sample_session().await,
        params,
    };
    let DBOutput::Rows { types, rows } = db.run(&statement(sql)).await.unwrap() else {
        unreachable!()
    };
    let type_string: String = types
        .iter()
        .map(sqllogictest::ColumnType::to_char)
        .collect();
    let name = query.file_name().unwrap().to_string_lossy();
    let mut text = format!(
        "# queries/{name} against sample-logs/ (exports + topology).\n# Regenerate with ACRLENS_SLT_COMPLETE=1 cargo test -p acrlens-engine --test engine queries; review the diff.\n\nquery {type_string}\n{}\n----\n",
        statement(sql)
    );
    for row in rows {
        text.push_str(&row.join(" "));
        text.push('\n');
    }
    std::fs::write(slt_path(query), text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_queries_match_their_sqllogictest_files() {
    let queries = query_files();
    assert!(queries.len() >= 8, "{queries:?}");
    for query in queries {
        let sql = std::fs::read_to_string(&query).unwrap();
        assert!(
            sql.starts_with("-- "),
            "{} must open with a comment saying what it answers",
            query.display()
        );
        if std::env::var_os("ACRLENS_SLT_COMPLETE").is_some() {
            complete(&query, &sql).await;
            continue;
        }
        let slt = slt_path(&query);
        let pinned =
            std::fs::read_to_string(&slt).unwrap_or_else(|e| panic!("{}: {e}", slt.display()));
        assert!(
            pinned.contains(&format!("\n{}\n----\n", statement(&sql))),
            "{} changed since {} was written: run with ACRLENS_SLT_COMPLETE=1",
            query.display(),
            slt.display()
        );
        let params = bind_params(&sql, &[]);
        let mut runner = Runner::new(|| {
            let params = params.clone();
            async move {
                Ok(Db {
                    ctx: sample_session().await,
                    params,
                })
            }
        });
        runner
            .run_file_async(&slt)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", slt.display()));
    }
}

/// The raw-exports table builds only the columns a query reads: each column read alone (with the
/// two that order the rows) must equal the same column of a read of every column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_read_alone_equals_that_column_of_a_full_read() {
    let ctx = sample_session().await;
    let order = "ORDER BY source, source_line";
    let all = |sql: String| {
        let ctx = ctx.clone();
        async move { rows(&ctx.sql(&sql).await.unwrap().collect().await.unwrap()) }
    };
    let full = all(format!("SELECT * FROM events {order}")).await;
    assert!(full.len() > 50, "{} rows", full.len());
    let schema = acrlens_attrib::attributed_schema();
    for (i, field) in schema.fields().iter().enumerate() {
        // The names are this program's own column names, not user input.
        let alone = all(format!("SELECT \"{}\" FROM events {order}", field.name())).await;
        let expected: Vec<Vec<String>> = full.iter().map(|row| vec![row[i].clone()]).collect();
        assert_eq!(alone, expected, "column {}", field.name());
    }
    let counted = all("SELECT count(*) FROM events".to_owned()).await;
    assert_eq!(counted, vec![vec![full.len().to_string()]]);
}
