//! Ballista's log lines on stderr, so a scheduler or executor says what went wrong.

use log::{Level, Log, Metadata, Record};

struct Stderr(Level);

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.0
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "{} {}: {}",
                record.level().as_str().to_lowercase(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Logs at `level` and above to stderr (once per process; a second call changes nothing).
pub fn init(level: Level) {
    // The logger lives as long as the process (as `log` requires): one small value.
    if log::set_logger(Box::leak(Box::new(Stderr(level)))).is_ok() {
        log::set_max_level(level.to_level_filter());
    }
}
