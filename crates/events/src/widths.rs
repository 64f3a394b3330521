//! Room for a batch's text columns, from what the same columns held in the last batch this
//! thread built.
//!
//! A text builder given too little room grows by doubling, and each growth copies what it holds
//! into new memory that the kernel first clears: a resource ID of ~135 bytes a row, in a builder
//! given 16, was copied four times over, and the reason sentence (~240 bytes, given 120) once.
//! The records of an export are alike from one batch to the next, so the room a row took in the
//! last batch is what it needs in the next. Room a batch does not fill costs nothing: memory not
//! written is never faulted in, and a finished column gives back what it did not use.

use std::cell::RefCell;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef};

thread_local! {
    /// Bytes a row, by column name, from the last batch of each column built on this thread.
    static WIDTHS: RefCell<Vec<(&'static str, usize)>> = const { RefCell::new(Vec::new()) };
}

/// A builder for `rows` values of the text column `name`, with room for as many bytes a row as
/// the last batch of `name` built on this thread held, and an eighth more; `first` a row before
/// there was one.
pub fn text_builder(name: &'static str, rows: usize, first: usize) -> StringBuilder {
    let width = WIDTHS
        .with_borrow(|widths| widths.iter().find(|(n, _)| *n == name).map(|(_, w)| *w))
        .unwrap_or(first);
    StringBuilder::with_capacity(rows, rows.saturating_mul(width))
}

/// The column `builder` built for `name` (made by [`text_builder`]), holding only the memory its
/// values use; what a row took is remembered for the next batch of `name` on this thread.
pub fn finish_text(name: &'static str, mut builder: StringBuilder) -> ArrayRef {
    let mut array = builder.finish();
    array.shrink_to_fit();
    let rows = array.len();
    if rows > 0 {
        let per_row = array.value_data().len().div_ceil(rows);
        let width = per_row + per_row / 8;
        WIDTHS.with_borrow_mut(|widths| match widths.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = width,
            None => widths.push((name, width)),
        });
    }
    Arc::new(array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_gets_the_room_its_last_batch_took_on_this_thread() {
        const NAME: &str = "widths_test_column";
        let mut first = text_builder(NAME, 10, 4);
        assert!(first.values_capacity() < 800);
        for _ in 0..10 {
            first.append_value("x".repeat(80));
        }
        let array = finish_text(NAME, first);
        assert_eq!(array.len(), 10);
        // 80 bytes a row, and an eighth more: 90 a row for the next batch of that column.
        assert!(text_builder(NAME, 100, 4).values_capacity() >= 9000);
        // Another thread has not learnt it.
        let other = std::thread::scope(|s| s.spawn(|| text_builder(NAME, 100, 4)).join());
        assert!(other.unwrap().values_capacity() < 9000);
    }
}
