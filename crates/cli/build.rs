//! Links `acrlens` on Linux as a fixed-address executable rather than a position-independent
//! one (PIE), unless `ACRLENS_PIE` is set.
//!
//! A PIE is moved to a random address at every start, and the loader then rewrites every
//! pointer in its read-only data: 285,000 relocations over 4.9 MiB of pages (DataFusion's and
//! Arrow's tables of functions), each page copied before it is written. That took 3.5 ms of
//! every run on the benchmark machine — 6% of a query over the store, more than half of
//! `SELECT 1` —, while a fixed-address executable's pages are read from the page cache as they
//! are used. The cost: the program's own code and data are not at a random address (its
//! libraries, heap and stacks still are). Build with `ACRLENS_PIE=1` to keep PIE.

fn main() {
    println!("cargo:rerun-if-env-changed=ACRLENS_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var_os("ACRLENS_PIE").is_none() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
