//! The engine's integration tests, one binary: each module links all of DataFusion, so one
//! binary instead of six saves the build five links of about 250 MB each.

mod common;
mod parquet_grouping;
mod queries;
mod raw_grouping;
mod report_sql;
mod store;
mod udf;
