//! The four input shapes, and telling them apart from a file's first bytes.

use std::fmt;
use std::str::FromStr;

use crate::value::NullSpelling;

/// An input shape: how one export file holds its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// Decide per file from its first bytes.
    Auto,
    /// Resource-log JSON lines (`PT1H.json` of a Storage diagnostic setting), camelCase with
    /// `properties{…}`.
    ResourceLog,
    /// `{"records":[…]}` envelopes (Event Hubs, blobs written before 2018-11), one or many.
    Records,
    /// Log Analytics workspace data-export JSON lines (`PT05M.json`), PascalCase columns.
    LogAnalytics,
    /// `az monitor log-analytics query -o json` output: one array of flat objects whose values
    /// are all strings, `"None"` for null.
    AzJson,
    /// The portal's "Export to CSV" of a Log Analytics query.
    Csv,
}

/// How records are delimited in an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// One JSON object per line.
    Lines,
    /// JSON objects that are elements of arrays `depth` containers deep.
    Elements { depth: u32 },
    /// CSV rows under a header row.
    Csv,
}

impl InputFormat {
    /// Every concrete format, for help texts.
    pub const ALL: [InputFormat; 6] = [
        InputFormat::Auto,
        InputFormat::ResourceLog,
        InputFormat::Records,
        InputFormat::LogAnalytics,
        InputFormat::AzJson,
        InputFormat::Csv,
    ];

    /// The name used on the command line and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::ResourceLog => "resource-log",
            InputFormat::Records => "records",
            InputFormat::LogAnalytics => "log-analytics",
            InputFormat::AzJson => "az-json",
            InputFormat::Csv => "csv",
        }
    }

    /// Detects the shape from the first bytes of an input (after decompression). An empty input
    /// is taken as resource-log lines: it holds no record either way.
    pub fn detect(prefix: &[u8]) -> InputFormat {
        let body = skip_ws(prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix));
        match body.first() {
            None => InputFormat::ResourceLog,
            Some(b'[') => InputFormat::AzJson,
            Some(b'{') if skip_ws(&body[1..]).starts_with(b"\"records\"") => InputFormat::Records,
            Some(b'{') => {
                let first_line = body.split(|&b| b == b'\n').next().unwrap_or(body);
                if memchr::memmem::find(first_line, b"\"TimeGenerated\"").is_some() {
                    InputFormat::LogAnalytics
                } else {
                    InputFormat::ResourceLog
                }
            }
            Some(_) => InputFormat::Csv,
        }
    }

    pub(crate) fn framing(self) -> Framing {
        match self {
            InputFormat::Auto | InputFormat::ResourceLog | InputFormat::LogAnalytics => {
                Framing::Lines
            }
            InputFormat::Records => Framing::Elements { depth: 2 },
            InputFormat::AzJson => Framing::Elements { depth: 1 },
            InputFormat::Csv => Framing::Csv,
        }
    }

    pub(crate) fn nulls(self) -> NullSpelling {
        if self == InputFormat::AzJson {
            NullSpelling::NilOrNone
        } else {
            NullSpelling::Nil
        }
    }
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        InputFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = InputFormat::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown input format {s:?} (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_by_first_bytes() {
        use InputFormat::*;
        assert_eq!(InputFormat::detect(b"{\"time\":\"x\"}\n{"), ResourceLog);
        assert_eq!(
            InputFormat::detect(b"\xEF\xBB\xBF  { \"records\": ["),
            Records
        );
        assert_eq!(
            InputFormat::detect(b"{\"TimeGenerated\":\"x\"}"),
            LogAnalytics
        );
        assert_eq!(InputFormat::detect(b"\n[\n  {"), AzJson);
        assert_eq!(
            InputFormat::detect(b"TimeGenerated [UTC],OperationName"),
            Csv
        );
        assert_eq!(InputFormat::detect(b""), ResourceLog);
        assert_eq!("az-json".parse::<InputFormat>(), Ok(AzJson));
        assert!("xml".parse::<InputFormat>().is_err());
    }
}
