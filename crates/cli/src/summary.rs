//! The run summary: per-input counts that reconcile, totals, rows per category, and the first
//! quarantined records.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use arrow_array::RecordBatch;
use clap::ValueEnum;
use serde::Serialize;

use acrlens_engine::store::count_values;
use acrlens_events::{Quarantined, SourceStats, col};

use crate::inputs::ListingView;

/// How many quarantined records the summary shows.
const SHOWN_QUARANTINED: usize = 5;

/// How to print the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table.
    Table,
    /// One JSON object.
    Json,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub sources: Vec<SourceStats>,
    /// How each blob input was listed and read.
    pub listings: Vec<ListingView>,
    categories: BTreeMap<String, u64>,
    access_paths: BTreeMap<String, u64>,
    first_quarantined: Vec<Quarantined>,
}

#[derive(Serialize)]
struct SourceView<'a> {
    source: &'a str,
    format: &'a str,
    bytes: u64,
    read: u64,
    accepted: u64,
    duplicates: u64,
    out_of_window: u64,
    quarantined: u64,
    reconciles: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    interrupted: bool,
}

impl<'a> From<&'a SourceStats> for SourceView<'a> {
    fn from(s: &'a SourceStats) -> Self {
        SourceView {
            source: &s.source,
            format: s.format.name(),
            bytes: s.bytes,
            read: s.read,
            accepted: s.accepted,
            duplicates: s.duplicates,
            out_of_window: s.out_of_window,
            quarantined: s.quarantined,
            reconciles: s.reconciles(),
            error: s.error.as_deref(),
            interrupted: s.interrupted,
        }
    }
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    sources: Vec<SourceView<'a>>,
    totals: SourceView<'a>,
    categories: &'a BTreeMap<String, u64>,
    access_paths: &'a BTreeMap<String, u64>,
    quarantined_sample: &'a [Quarantined],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    listings: &'a [ListingView],
}

impl Summary {
    /// Counts a batch's rows per category and per access path.
    pub fn count_batch(&mut self, batch: &RecordBatch) {
        count_values(batch, col::CATEGORY, &mut self.categories);
        count_values(
            batch,
            acrlens_attrib::col::ACCESS_PATH,
            &mut self.access_paths,
        );
    }

    /// Keeps the first few quarantined records to show.
    pub fn count_quarantined(&mut self, q: &Quarantined) {
        if self.first_quarantined.len() < SHOWN_QUARANTINED {
            self.first_quarantined.push(q.clone());
        }
    }

    /// Prints the summary.
    pub fn print(
        &self,
        format: OutputFormat,
        quarantine: Option<&Path>,
        all_sources: bool,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let totals = SourceStats::total("total", &self.sources);
        match format {
            OutputFormat::Json => {
                let view = JsonSummary {
                    sources: self.sources.iter().map(SourceView::from).collect(),
                    totals: SourceView {
                        format: "",
                        ..SourceView::from(&totals)
                    },
                    categories: &self.categories,
                    access_paths: &self.access_paths,
                    quarantined_sample: &self.first_quarantined,
                    listings: &self.listings,
                };
                let text = sonic_rs::to_string(&view).map_err(io::Error::other)?;
                writeln!(out, "{text}")
            }
            OutputFormat::Table => self.print_table(&totals, quarantine, all_sources, out),
        }
    }

    fn print_table(
        &self,
        totals: &SourceStats,
        quarantine: Option<&Path>,
        all_sources: bool,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let header = [
            "read",
            "accepted",
            "duplicate",
            "out-of-window",
            "quarantined",
            "format",
            "source",
        ];
        let row = |s: &SourceStats, format: &str| -> [String; 7] {
            let mut source = s.source.to_string();
            if let Some(e) = &s.error {
                source.push_str(&format!("  [stopped early: {e}]"));
            }
            [
                s.read.to_string(),
                s.accepted.to_string(),
                s.duplicates.to_string(),
                s.out_of_window.to_string(),
                s.quarantined.to_string(),
                format.to_owned(),
                source,
            ]
        };
        let listed: Vec<&SourceStats> = self
            .sources
            .iter()
            .filter(|s| all_sources || s.quarantined > 0 || s.error.is_some() || !s.reconciles())
            .collect();
        let mut rows: Vec<[String; 7]> = listed.iter().map(|s| row(s, s.format.name())).collect();
        rows.push(row(totals, ""));
        let mut widths = header.map(str::len);
        for r in &rows {
            for (w, cell) in widths.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut text = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i < 5 {
                    text.push_str(&format!("{cell:>w$}  "));
                } else if i == 5 {
                    text.push_str(&format!("{cell:<w$}  "));
                } else {
                    text.push_str(cell);
                }
            }
            text
        };
        writeln!(out, "{}", line(&header.map(String::from)))?;
        let last = rows.len() - 1;
        for (i, r) in rows.iter().enumerate() {
            if i == last {
                writeln!(
                    out,
                    "{}",
                    "-".repeat(widths.iter().take(6).sum::<usize>() + 12 + 5)
                )?;
            }
            writeln!(out, "{}", line(r))?;
        }
        if listed.len() < self.sources.len() {
            writeln!(
                out,
                "({} inputs read cleanly are not listed; --all-sources lists every input)",
                self.sources.len() - listed.len()
            )?;
        }
        writeln!(out)?;
        let reconciled = self.sources.iter().all(SourceStats::reconciles);
        writeln!(
            out,
            "{} inputs, {} bytes; read = accepted + duplicate + out-of-window + quarantined: {}",
            self.sources.len(),
            totals.bytes,
            if reconciled { "yes" } else { "NO" }
        )?;
        for l in &self.listings {
            writeln!(
                out,
                "  {}: {} blobs, {} bytes listed in {}; {} list calls, {} reads",
                l.input, l.blobs, l.bytes, l.place, l.list_calls, l.read_calls
            )?;
        }
        for (category, rows) in &self.categories {
            writeln!(out, "  {category}: {rows} rows")?;
        }
        if !self.access_paths.is_empty() {
            writeln!(out, "\nby access path:")?;
            let order = acrlens_attrib::AccessPath::ALL.map(|p| p.name());
            for name in order {
                if let Some(rows) = self.access_paths.get(name) {
                    writeln!(out, "  {name:<17} {rows:>8}")?;
                }
            }
        }
        if totals.quarantined > 0 {
            writeln!(
                out,
                "\nquarantined records (first {}):",
                self.first_quarantined.len()
            )?;
            for q in &self.first_quarantined {
                writeln!(out, "  {}:{}: {}", q.source, q.line, q.reason)?;
            }
            match quarantine {
                Some(path) => writeln!(
                    out,
                    "all {} written to {}",
                    totals.quarantined,
                    path.display()
                )?,
                None => writeln!(
                    out,
                    "(use --quarantine FILE to keep all {} with their raw text)",
                    totals.quarantined
                )?,
            }
        }
        Ok(())
    }
}
