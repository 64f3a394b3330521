//! Where the report counts requests: the rollup views of its window (see [`crate::views`]), or,
//! for a rule scoped to repositories (which no rollup keeps), the events themselves. A query
//! names its table, counts and times through [`Counted`], so it is written once for both.

use acrlens_engine::EVENTS;
use acrlens_engine::rollup::{Bucket, Rollup};
use datafusion::error::{DataFusionError, Result};

use crate::sql::{Filter, Window};
use crate::views::view_name;

/// The events of a window, or the rollup view of that window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counted {
    window: Window,
    rollup: Option<Rollup>,
}

impl Counted {
    /// The events of `window`.
    pub fn events(window: Window) -> Counted {
        Counted {
            window,
            rollup: None,
        }
    }

    /// The view of `rollup` over `window`.
    pub fn rollup(window: Window, rollup: Rollup) -> Counted {
        Counted {
            window,
            rollup: Some(rollup),
        }
    }

    /// The window counted.
    pub fn window(&self) -> Window {
        self.window
    }

    /// The table to read, named `events` so that predicates may qualify its columns alike; for
    /// the events, the window's predicates are added to `filter` (a view holds its window).
    pub fn from(&self, filter: &mut Filter) -> String {
        match self.rollup {
            None => {
                self.window.restrict(filter);
                EVENTS.to_owned()
            }
            Some(rollup) => format!("{} AS {EVENTS}", view_name(rollup)),
        }
    }

    /// The number of requests of a group.
    pub fn requests(&self) -> &'static str {
        if self.rollup.is_some() {
            "sum(requests)"
        } else {
            "count(*)"
        }
    }

    /// The first request's time of a group.
    pub fn first(&self) -> &'static str {
        if self.rollup.is_some() {
            "min(first)"
        } else {
            "min(time)"
        }
    }

    /// The last request's time of a group.
    pub fn last(&self) -> &'static str {
        if self.rollup.is_some() {
            "max(last)"
        } else {
            "max(time)"
        }
    }

    /// The start of a request's hour.
    pub fn hour(&self) -> Result<&'static str> {
        match self.rollup {
            None => Ok("date_trunc('hour', time)"),
            Some(r) if r.bucket == Bucket::Hour => Ok(r.bucket.name()),
            Some(r) => Err(DataFusionError::Internal(format!(
                "the {} rollup has no hours",
                r.name
            ))),
        }
    }

    /// The time bucket of a row: a day of events, or a rollup's own bucket.
    pub fn bucket(&self) -> &'static str {
        match self.rollup {
            None => "date_trunc('day', time)",
            Some(r) => r.bucket.name(),
        }
    }
}
