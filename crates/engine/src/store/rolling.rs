//! The run's rollups made on a thread of their own, batch after batch, while the run goes on.
//!
//! Made in the run's own step, each batch's rollups held the merge of decoded units until they
//! were done, and the rollup of callers (most of the work) left one core idle while it ran: the
//! units in flight were decoded and waiting for the merge, so nothing else was there to run.
//! On their own thread they overlap with the merge, the part files and the decoding of the next
//! units. A batch handed over shares its columns with the part writer's (no copy); at most
//! [`QUEUED`] wait, so a slower thread holds the run back rather than holding its batches.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use arrow_array::RecordBatch;

use super::StoreError;
use super::partials::Partials;

/// Batches handed over and not yet rolled up, at most.
const QUEUED: usize = 2;

/// What the thread hands back: the rollups, and why it stopped early if it did.
type Outcome = (Partials, Result<(), StoreError>);

/// The run's rollups: being made on their thread, then held.
pub(super) struct Rolling {
    /// The thread, and where batches are handed to it, until it is joined.
    running: Option<(SyncSender<RecordBatch>, JoinHandle<Outcome>)>,
    /// The rollups, once the thread is joined.
    done: Option<Partials>,
    /// Whether the thread stopped on an error (said once, by the call that joined it).
    failed: bool,
}

impl Rolling {
    /// Starts the thread making `partials`.
    pub(super) fn start(partials: Partials) -> Result<Self, StoreError> {
        let (sender, batches) = mpsc::sync_channel(QUEUED);
        let handle = thread::Builder::new()
            .name("acrlens-rollups".into())
            .spawn(move || roll(partials, batches))
            .map_err(|e| StoreError::Io("the rollups' thread".into(), e))?;
        Ok(Rolling {
            running: Some((sender, handle)),
            done: None,
            failed: false,
        })
    }

    /// Adds a batch: handed to the thread, or rolled up here once the thread is joined.
    pub(super) fn add(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        if let Some((sender, _)) = &self.running {
            if sender.send(batch.clone()).is_ok() {
                return Ok(());
            }
            // Refused: the thread stopped on an error, which joining it gives.
            self.finish()?;
        }
        match &mut self.done {
            Some(partials) if !self.failed => partials.add(batch),
            _ => Err(stopped()),
        }
    }

    /// Waits for every batch handed over to be rolled up and makes the groups still held rows
    /// (again for batches added since).
    pub(super) fn finish(&mut self) -> Result<(), StoreError> {
        if let Some((sender, handle)) = self.running.take() {
            drop(sender);
            let (partials, outcome) = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            self.done = Some(partials);
            self.failed = outcome.is_err();
            return outcome;
        }
        match &mut self.done {
            Some(partials) if !self.failed => partials.finish(),
            _ => Err(stopped()),
        }
    }

    /// The rollups, once [`Rolling::finish`] has joined the thread (even one that failed: its
    /// temporary files are still to be removed).
    pub(super) fn partials(&self) -> Option<&Partials> {
        self.done.as_ref()
    }
}

/// The error of every step after the one that said the thread's own.
fn stopped() -> StoreError {
    StoreError::Corrupt("rollups".into(), "their thread stopped on an error".into())
}

/// The thread: every batch rolled up, then what is held made rows.
fn roll(mut partials: Partials, batches: Receiver<RecordBatch>) -> Outcome {
    let outcome = batches
        .iter()
        .try_for_each(|batch| partials.add(&batch))
        .and_then(|()| partials.finish());
    (partials, outcome)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use acrlens_events::col;
    use acrlens_values::MICROS_PER_DAY;
    use arrow_array::{ArrayRef, Int64Array, StringArray, TimestampMicrosecondArray};

    use super::*;
    use crate::rollup::ROLLUPS;
    use crate::testing::attributed_batch;

    /// `n` events at `time`, from seven callers.
    fn events(n: usize, time: i64) -> RecordBatch {
        attributed_batch(n, |name| -> Option<ArrayRef> {
            match name {
                col::TIME => Some(Arc::new(
                    TimestampMicrosecondArray::from(vec![time; n]).with_timezone("UTC"),
                )),
                col::CALLER_IP => Some(Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("10.0.0.{}", i % 7)),
                ))),
                _ => None,
            }
        })
    }

    #[test]
    fn the_thread_rolls_up_what_the_run_itself_would_have() {
        let dir = tempfile::tempdir().unwrap();
        let batches = [events(50, 0), events(30, MICROS_PER_DAY), events(20, 5)];
        // Four groups held at most: both write some out to files as they go.
        let mut direct = Partials::new(dir.path(), "direct", Some(4)).unwrap();
        let mut rolling =
            Rolling::start(Partials::new(dir.path(), "rolling", Some(4)).unwrap()).unwrap();
        for batch in &batches {
            direct.add(batch).unwrap();
            rolling.add(batch).unwrap();
        }
        direct.finish().unwrap();
        rolling.finish().unwrap();
        let threaded = rolling.partials().unwrap();
        let mut compared = 0;
        for place in 0..ROLLUPS.len() {
            for day in ["1970-01-01", "1970-01-02"] {
                assert_eq!(threaded.rows(place, day), direct.rows(place, day));
                assert_eq!(
                    threaded.files(place, day).len(),
                    direct.files(place, day).len()
                );
                compared += direct.rows(place, day).len() + direct.files(place, day).len();
            }
        }
        assert!(compared > 0);
        assert_eq!(threaded.temporaries().count(), direct.temporaries().count());
    }

    #[test]
    fn a_batch_the_rollups_refuse_fails_the_run_from_then_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut rolling = Rolling::start(Partials::new(dir.path(), "run", None).unwrap()).unwrap();
        // No column the rollups read: refused on the thread, after it was handed over.
        let refused =
            RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from(vec![1])) as ArrayRef)])
                .unwrap();
        rolling.add(&refused).unwrap();
        let error = rolling.finish().unwrap_err();
        assert!(
            error.to_string().contains("the rollups need a time column"),
            "{error}"
        );
        // Nothing later is taken as if the rollups were whole.
        assert!(rolling.finish().is_err());
        assert!(rolling.add(&events(3, 0)).is_err());
        // What the thread wrote is still known, to be removed.
        assert!(rolling.partials().is_some());
    }
}
