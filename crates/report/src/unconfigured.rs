//! The periods judged without a known configuration: the days with such events, per registry,
//! joined into runs of consecutive days, so a gap in the configuration history reads as one
//! period with its first and last event.

use std::collections::BTreeMap;

use acrlens_values::format_timestamp_micros;

use crate::model::UnconfiguredPeriod;

/// One day's events: how many, first and last time (µs).
type Day = (u64, i64, i64);

/// Per registry (NULL last) and day (days since 1970).
#[derive(Default)]
pub(crate) struct Unconfigured {
    days: BTreeMap<(bool, String), BTreeMap<i64, Day>>,
}

impl Unconfigured {
    /// Counts `events` of `registry` on `day`, between `first` and `last`.
    pub fn add(
        &mut self,
        registry: Option<String>,
        day: i64,
        events: u64,
        (first, last): (i64, i64),
    ) {
        let key = (registry.is_none(), registry.unwrap_or_default());
        let slot = self
            .days
            .entry(key)
            .or_default()
            .entry(day)
            .or_insert((0, first, last));
        slot.0 += events;
        slot.1 = slot.1.min(first);
        slot.2 = slot.2.max(last);
    }

    /// The runs of consecutive days, per registry, in registry then time order.
    pub fn periods(self) -> Vec<UnconfiguredPeriod> {
        let mut out = Vec::new();
        for ((none, registry), days) in self.days {
            let mut runs: Vec<(i64, u64, i64, i64)> = Vec::new();
            for (day, (events, first, last)) in days {
                match runs.last_mut() {
                    Some(run) if run.0 + 1 == day => {
                        *run = (day, run.1 + events, run.2.min(first), run.3.max(last));
                    }
                    _ => runs.push((day, events, first, last)),
                }
            }
            out.extend(
                runs.into_iter()
                    .map(|(_, events, first, last)| UnconfiguredPeriod {
                        registry: (!none).then(|| registry.clone()),
                        from: format_timestamp_micros(first),
                        to: format_timestamp_micros(last),
                        events,
                    }),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;

    #[test]
    fn consecutive_days_are_one_period_and_a_gap_starts_another() {
        let mut u = Unconfigured::default();
        let r = || Some("contoso.azurecr.io".to_owned());
        u.add(r(), 10, 2, (10 * DAY + 5, 10 * DAY + 9));
        u.add(r(), 11, 3, (11 * DAY, 11 * DAY + 1));
        u.add(r(), 11, 1, (11 * DAY + 7, 11 * DAY + 8));
        u.add(r(), 13, 4, (13 * DAY, 13 * DAY));
        u.add(None, 10, 1, (10 * DAY, 10 * DAY));
        let periods = u.periods();
        let summary: Vec<(Option<&str>, u64)> = periods
            .iter()
            .map(|p| (p.registry.as_deref(), p.events))
            .collect();
        assert_eq!(
            summary,
            [
                (Some("contoso.azurecr.io"), 6),
                (Some("contoso.azurecr.io"), 4),
                (None, 1)
            ]
        );
        assert_eq!(periods[0].from, format_timestamp_micros(10 * DAY + 5));
        assert_eq!(periods[0].to, format_timestamp_micros(11 * DAY + 8));
    }
}
