//! Finding the inputs: files, directories (the Storage export layout), globs; and skipping whole
//! `y=/m=/d=/h=` folders that cannot hold a record inside `--since`/`--until`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use crate::builder::TimeWindow;
use crate::error::Error;
use crate::reader::Resume;
use crate::remote::{InputVersion, RemoteInput};
use crate::schema::category;
use acrlens_values::date_micros;

/// Blobs are filed by receipt time and may hold records this far outside their folder's hour.
pub const FILING_MARGIN_MICROS: i64 = 48 * 3_600_000_000;

/// One input to decode.
#[derive(Debug, Clone)]
pub enum InputSource {
    /// A file on disk (gzip is recognised by its magic bytes).
    File(PathBuf),
    /// The rest of a plain file that grew since it was last read (an append blob): from a byte
    /// offset after a whole line, numbering lines from `line`.
    Resume {
        /// The file.
        path: PathBuf,
        /// Where to start reading.
        offset: u64,
        /// The number of the line that starts there.
        line: u64,
    },
    /// Bytes in memory, under a name (tests, and blobs fetched by other means).
    Memory {
        /// The name shown as the records' `source`.
        name: String,
        /// The content.
        bytes: Arc<[u8]>,
    },
    /// An input fetched from elsewhere (a blob), from `start` on.
    Remote {
        /// The input.
        input: Arc<dyn RemoteInput>,
        /// Where to start reading: the beginning, or after the last whole line a run read.
        start: Resume,
    },
}

impl InputSource {
    /// The name recorded as each record's `source`.
    pub fn name(&self) -> String {
        match self {
            InputSource::File(p) | InputSource::Resume { path: p, .. } => p.display().to_string(),
            InputSource::Memory { name, .. } => name.clone(),
            InputSource::Remote { input, .. } => input.name().to_owned(),
        }
    }

    /// The version of the input as it is now (a file's size and modification time, a blob's
    /// listed size, time and ETag); `None` for inputs a store cannot track (memory, resumed).
    pub fn version(&self) -> io::Result<Option<InputVersion>> {
        match self {
            InputSource::File(path) => {
                let meta = fs::metadata(path)?;
                let modified_ns = meta
                    .modified()?
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                Ok(Some(InputVersion {
                    size: meta.len(),
                    modified_ns,
                    etag: None,
                }))
            }
            InputSource::Remote { input, .. } => Ok(Some(input.version().clone())),
            InputSource::Resume { .. } | InputSource::Memory { .. } => Ok(None),
        }
    }

    /// The same input read from `at` instead of its beginning, where that can be done with a
    /// seek or a range request (files and remote inputs).
    pub fn resumed_at(&self, at: Resume) -> Option<InputSource> {
        match self {
            InputSource::File(path) | InputSource::Resume { path, .. } => {
                Some(InputSource::Resume {
                    path: path.clone(),
                    offset: at.offset,
                    line: at.line,
                })
            }
            InputSource::Remote { input, .. } => Some(InputSource::Remote {
                input: input.clone(),
                start: at,
            }),
            InputSource::Memory { .. } => None,
        }
    }

    /// Where reading starts.
    pub(crate) fn start(&self) -> Resume {
        match self {
            InputSource::Resume { offset, line, .. } => Resume {
                offset: *offset,
                line: *line,
            },
            InputSource::Remote { start, .. } => *start,
            InputSource::File(_) | InputSource::Memory { .. } => Resume::START,
        }
    }

    /// The category implied by the path: workspace exports are filed under `am-<Table>/` and
    /// Storage exports under `insights-logs-<category>/`.
    pub fn category_hint(&self) -> Option<&'static str> {
        let name = self.name().to_ascii_lowercase();
        [category::LOGIN_EVENTS, category::REPOSITORY_EVENTS]
            .into_iter()
            .find(|c| name.contains(&c.to_ascii_lowercase()))
    }
}

/// Expands the inputs named on the command line: a file is taken as it is; a directory is walked
/// recursively in name order (which is time order in the export layouts), keeping log-like files
/// and skipping folders the time window excludes; anything else is a glob. A name that matches
/// nothing is an error, so a typo never looks like an empty export.
pub fn discover(inputs: &[String], window: TimeWindow) -> Result<Vec<InputSource>, Error> {
    let mut found = Vec::new();
    for input in inputs {
        let path = Path::new(input);
        if path.exists() {
            add_path(path, window, true, &mut found)?;
            continue;
        }
        if !input.contains(['*', '?', '[']) {
            return Err(Error::NoSuchInput(input.clone()));
        }
        let matches =
            glob::glob(input).map_err(|e| Error::BadGlob(input.clone(), e.to_string()))?;
        let mut any = false;
        for entry in matches {
            let entry = entry.map_err(|e| Error::Io(e.path().display().to_string(), e.into()))?;
            any = true;
            add_path(&entry, window, true, &mut found)?;
        }
        if !any {
            return Err(Error::NoSuchInput(input.clone()));
        }
    }
    Ok(found)
}

fn add_path(
    path: &Path,
    window: TimeWindow,
    named: bool,
    found: &mut Vec<InputSource>,
) -> Result<(), Error> {
    if !partition_may_overlap(path, window) {
        return Ok(());
    }
    let meta = fs::metadata(path).map_err(|e| Error::Io(path.display().to_string(), e))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = fs::read_dir(path)
            .map_err(|e| Error::Io(path.display().to_string(), e))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| Error::Io(path.display().to_string(), e))?;
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !hidden {
                add_path(&entry, window, false, found)?;
            }
        }
    } else if named || looks_like_log(&path.to_string_lossy()) {
        found.push(InputSource::File(path.to_path_buf()));
    }
    Ok(())
}

/// Puts inputs in the order of the hour their `y=/m=/d=/h=` folders name, those without such
/// folders first, keeping the given order among equals. An export holds one folder tree per
/// registry and category, so name order reads one registry's month before the next's; in time
/// order the de-duplication window and the store's open partitions follow the event rate instead
/// of growing with the number of registries.
pub fn in_time_order(sources: &mut [InputSource]) {
    sources.sort_by_cached_key(|s| partition_span(Path::new(&s.name())).map(|(start, _)| start));
}

/// Whether a walk of a folder or container picks up a file or blob of this name: JSON, JSON
/// lines and CSV, optionally gzipped.
pub fn looks_like_log(path: &str) -> bool {
    let name = path.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".json", ".jsonl", ".ndjson", ".csv"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// The time span `[start, end)` a path's `y=/m=/d=/h=` folders stand for, if it has any. The
/// second `m=` (after `h=`) is the minute, and does not narrow the span further.
pub fn partition_span(path: &Path) -> Option<(i64, i64)> {
    let (mut year, mut month, mut day, mut hour) = (None, None, None, None);
    for part in path.components() {
        let part = part.as_os_str().to_string_lossy();
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        let Ok(n) = value.parse::<u32>() else {
            continue;
        };
        match key {
            "y" => year = Some(i64::from(n)),
            "m" if month.is_none() => month = Some(n),
            "d" => day = Some(n),
            "h" => hour = Some(i64::from(n)),
            _ => {}
        }
    }
    let year = year?;
    let start_of = |y: i64, m: u32, d: u32| date_micros(y, m, d);
    const HOUR: i64 = 3_600_000_000;
    Some(match (month, day, hour) {
        (None, _, _) => (start_of(year, 1, 1)?, start_of(year + 1, 1, 1)?),
        (Some(m), None, _) => {
            let next = if m == 12 {
                start_of(year + 1, 1, 1)
            } else {
                start_of(year, m + 1, 1)
            };
            (start_of(year, m, 1)?, next?)
        }
        (Some(m), Some(d), None) => {
            let s = start_of(year, m, d)?;
            (s, s + 24 * HOUR)
        }
        (Some(m), Some(d), Some(h)) if (0..24).contains(&h) => {
            let s = start_of(year, m, d)? + h * HOUR;
            (s, s + HOUR)
        }
        // Not an hour: not a partition of the export layout, so nothing to prune it by.
        (Some(_), Some(_), Some(_)) => return None,
    })
}

/// Whether a path's folders may hold records inside the window, given the filing margin.
pub fn partition_may_overlap(path: &Path, window: TimeWindow) -> bool {
    let Some((start, end)) = partition_span(path) else {
        return true;
    };
    window
        .since
        .is_none_or(|since| end + FILING_MARGIN_MICROS > since)
        && window
            .until
            .is_none_or(|until| start - FILING_MARGIN_MICROS < until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use acrlens_values::parse_timestamp_micros;

    fn t(s: &str) -> i64 {
        parse_timestamp_micros(s).unwrap()
    }

    #[test]
    fn inputs_are_read_hour_by_hour_across_registries() {
        let path = |registry: &str, d: u32, h: u32| {
            format!(
                "insights-logs-x/resourceId=/REGISTRIES/{registry}/y=2025/m=11/d={d:02}/h={h:02}/m=00/PT1H.json"
            )
        };
        let named = [
            path("A", 1, 0),
            path("A", 1, 1),
            path("A", 2, 0),
            "undated.json".to_owned(),
            path("B", 1, 0),
            path("B", 1, 1),
            path("B", 2, 0),
        ];
        let mut sources: Vec<InputSource> =
            named.iter().map(|n| InputSource::File(n.into())).collect();
        in_time_order(&mut sources);
        let order: Vec<String> = sources.iter().map(InputSource::name).collect();
        let expected = [3, 0, 4, 1, 5, 2, 6].map(|i| named[i].clone());
        assert_eq!(order, expected);
    }

    #[test]
    fn storage_layout_spans_read_month_then_minute() {
        let p = Path::new("x/resourceId=/SUB/y=2025/m=11/d=03/h=10/m=00/PT1H.json");
        assert_eq!(
            partition_span(p),
            Some((t("2025-11-03T10:00:00Z"), t("2025-11-03T11:00:00Z")))
        );
        let month = Path::new("x/y=2025/m=12");
        assert_eq!(
            partition_span(month),
            Some((t("2025-12-01"), t("2026-01-01")))
        );
        assert_eq!(partition_span(Path::new("plain/PT1H.json")), None);
    }

    #[test]
    fn folders_that_name_no_real_time_prune_nothing() {
        // Years, months, days and hours out of range: kept for their records to decide, never
        // pruned by a wrapped time.
        for p in [
            "x/y=4000000000/m=01/d=01/h=00/m=00/PT1H.json",
            "x/y=4000000000",
            "x/y=2025/m=13",
            "x/y=2025/m=11/d=31",
            "x/y=2025/m=11/d=03/h=99/m=00/PT1H.json",
            "x/y=2025/m=11/d=03/h=4294967295/m=00/PT1H.json",
        ] {
            assert_eq!(partition_span(Path::new(p)), None, "{p}");
            let window = TimeWindow {
                since: Some(t("2025-01-01T00:00:00Z")),
                until: Some(t("2025-02-01T00:00:00Z")),
            };
            assert!(partition_may_overlap(Path::new(p), window), "{p}");
        }
    }

    #[test]
    fn pruning_keeps_the_48_hour_filing_margin() {
        let p = Path::new("y=2025/m=11/d=03/h=10/m=00/PT1H.json");
        let since = |s: &str| TimeWindow {
            since: Some(t(s)),
            until: None,
        };
        let until = |s: &str| TimeWindow {
            since: None,
            until: Some(t(s)),
        };
        assert!(partition_may_overlap(p, since("2025-11-05T10:59:59Z")));
        assert!(!partition_may_overlap(p, since("2025-11-05T11:00:00Z")));
        assert!(partition_may_overlap(p, until("2025-11-01T10:00:01Z")));
        assert!(!partition_may_overlap(p, until("2025-11-01T10:00:00Z")));
    }
}
