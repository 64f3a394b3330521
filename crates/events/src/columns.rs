//! Which columns a scan reads. A query that reads four columns of forty should not pay for
//! building the other thirty-six: builders skip the columns outside the set, and the batch
//! carries a cheap placeholder in their place (the schema stays the same, so every stage after
//! the scan is unchanged; the query's projection drops the placeholders).

use std::cell::RefCell;
use std::sync::Arc;

use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{
    ArrayRef, ArrowPrimitiveType, DictionaryArray, Int32Array, ListArray, PrimitiveArray,
    StringArray, new_empty_array, new_null_array,
};
use arrow_buffer::{BooleanBuffer, Buffer, MutableBuffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field};

/// A set of column positions in a schema of at most 64 columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSet(u64);

impl Default for ColumnSet {
    fn default() -> Self {
        ColumnSet::ALL
    }
}

impl ColumnSet {
    /// Every column.
    pub const ALL: ColumnSet = ColumnSet(u64::MAX);

    /// The columns at `positions`.
    pub fn of(positions: impl IntoIterator<Item = usize>) -> Self {
        ColumnSet(
            positions
                .into_iter()
                .fold(0, |set, i| set | 1u64.checked_shl(i as u32).unwrap_or(0)),
        )
    }

    /// Whether the column at `position` is in the set. A position past the 64th always is: a
    /// column the set cannot name is built, never skipped.
    pub fn contains(self, position: usize) -> bool {
        1u64.checked_shl(position as u32)
            .is_none_or(|bit| self.0 & bit != 0)
    }

    /// Whether the set names no column.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The columns in either set.
    pub fn union(self, other: ColumnSet) -> Self {
        ColumnSet(self.0 | other.0)
    }

    /// The positions `offset..offset + len` of this set, renumbered from 0: the part of a
    /// wider schema's set that falls on the columns starting at `offset`.
    pub fn slice(self, offset: usize, len: usize) -> Self {
        ColumnSet::of((0..len).filter(|i| self.contains(offset + i)))
    }

    /// The same columns, numbered from `offset` on (the inverse of [`ColumnSet::slice`]).
    pub fn shifted(self, offset: usize, len: usize) -> Self {
        ColumnSet::of((0..len).filter(|&i| self.contains(i)).map(|i| i + offset))
    }
}

/// Appends a value to a builder that exists only when its column is read.
pub fn put<B: Extend<Option<T>>, T>(builder: &mut Option<B>, value: Option<T>) {
    if let Some(b) = builder {
        b.extend([value]);
    }
}

/// The stand-in for a column that was not built: all null, or, where the schema allows no
/// null, all empty strings or empty lists.
///
/// A scan that reads four columns carries thirty placeholders in every batch; they are views
/// of one block of zeros per thread (offsets, values, keys and validity all zero), so they cost
/// no memory of their own and nothing to clear. A block of zeros asked of the allocator for
/// every batch was not free either: it hands back reused memory zeroed by giving its pages back
/// to the kernel, which then faults them in again for the next batch's builders.
pub fn placeholder(field: &Field, rows: usize) -> ArrayRef {
    match field.data_type() {
        DataType::Utf8 if field.is_nullable() => Arc::new(StringArray::new(
            zero_offsets(rows),
            Buffer::from(Vec::<u8>::new()),
            Some(no_values(rows)),
        )),
        DataType::Int64 if field.is_nullable() => null_numbers::<Int64Type>(rows),
        DataType::Int32 if field.is_nullable() => null_numbers::<Int32Type>(rows),
        DataType::Float64 if field.is_nullable() => null_numbers::<Float64Type>(rows),
        _ if field.is_nullable() => new_null_array(field.data_type(), rows),
        DataType::Utf8 => Arc::new(StringArray::new(
            zero_offsets(rows),
            Buffer::from(Vec::<u8>::new()),
            None,
        )),
        DataType::List(item) => Arc::new(ListArray::new(
            item.clone(),
            zero_offsets(rows),
            new_empty_array(item.data_type()),
            None,
        )),
        DataType::Dictionary(_, _) => repeated_text("", rows),
        // Not reached by the schemas built here (their other non-null columns are always
        // built); the batch's validation would reject the nulls rather than hide them.
        other => new_null_array(other, rows),
    }
}

/// `rows` nulls of a number type, over the thread's zeros.
fn null_numbers<T: ArrowPrimitiveType>(rows: usize) -> ArrayRef {
    let values = ScalarBuffer::new(zeros(rows * size_of::<T::Native>()), 0, rows);
    Arc::new(PrimitiveArray::<T>::new(values, Some(no_values(rows))))
}

/// The offsets of `rows` empty values, over the thread's zeros.
fn zero_offsets(rows: usize) -> OffsetBuffer<i32> {
    OffsetBuffer::new(ScalarBuffer::new(zeros((rows + 1) * 4), 0, rows + 1))
}

/// A validity bitmap of `rows` nulls, over the thread's zeros.
fn no_values(rows: usize) -> NullBuffer {
    NullBuffer::new(BooleanBuffer::new(zeros(rows.div_ceil(8)), 0, rows))
}

/// At least `len` zero bytes, shared: one block per thread, replaced by a larger one when a
/// batch needs more (the arrays over the old one keep it alive as long as they live). Each
/// block is Arrow's own allocation, aligned for any number type, and the first is made on the
/// thread's first call, even for no bytes: the numbers and offsets of an empty batch are views
/// of it too, and a view of no allocation at all is not aligned for them.
fn zeros(len: usize) -> Buffer {
    fn block(len: usize) -> Buffer {
        MutableBuffer::from_len_zeroed(len.max(1 << 16)).into()
    }
    thread_local! {
        static ZEROS: RefCell<Buffer> = RefCell::new(block(0));
    }
    ZEROS.with(|zeros| {
        let mut zeros = zeros.borrow_mut();
        if zeros.len() < len {
            *zeros = block(len.next_power_of_two());
        }
        zeros.slice_with_length(0, len)
    })
}

/// `value` in each of `rows` rows, held once: a dictionary of one text, and keys that are all
/// the first, over the thread's zeros. What every row of an input shares (its `source`) then
/// costs nothing per row.
pub fn repeated_text(value: &str, rows: usize) -> ArrayRef {
    let keys = Int32Array::new(ScalarBuffer::new(zeros(rows * 4), 0, rows), None);
    let values = Arc::new(StringArray::from(vec![value]));
    Arc::new(
        DictionaryArray::<Int32Type>::try_new(keys, values)
            .expect("key 0 is in a dictionary of one value"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    #[test]
    fn sets_name_their_positions_and_keep_what_they_cannot_name() {
        let set = ColumnSet::of([0, 3, 63]);
        assert!(set.contains(0) && set.contains(3) && set.contains(63));
        assert!(!set.contains(1) && !set.contains(62));
        assert!(
            ColumnSet::of([]).contains(64),
            "past the 64th: always built"
        );
        assert!((0..70).all(|i| ColumnSet::ALL.contains(i)));
        assert_eq!(set.union(ColumnSet::of([1])), ColumnSet::of([0, 1, 3, 63]));
    }

    #[test]
    fn a_slice_renumbers_and_a_shift_undoes_it() {
        let wide = ColumnSet::of([1, 22, 25, 38]);
        let tail = wide.slice(22, 17);
        assert_eq!(tail, ColumnSet::of([0, 3, 16]));
        assert_eq!(tail.shifted(22, 17), ColumnSet::of([22, 25, 38]));
        assert_eq!(wide.slice(0, 22), ColumnSet::of([1]));
    }

    #[test]
    fn placeholders_are_valid_for_their_fields() {
        let nullable = Field::new("a", DataType::Int64, true);
        let text = Field::new("b", DataType::Utf8, false);
        let item = Arc::new(Field::new("item", DataType::Utf8, true));
        let list = Field::new("c", DataType::List(item), false);
        let a = placeholder(&nullable, 3);
        assert_eq!((a.len(), a.null_count()), (3, 3));
        let b = placeholder(&text, 3);
        let b = b.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!((b.len(), b.null_count(), b.value(2)), (3, 0, ""));
        let c = placeholder(&list, 3);
        let c = c.as_any().downcast_ref::<ListArray>().unwrap();
        assert_eq!((c.len(), c.null_count(), c.value(1).len()), (3, 0, 0));
        let source = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let d = placeholder(&Field::new("d", source, false), 3);
        let d = d
            .as_any()
            .downcast_ref::<DictionaryArray<Int32Type>>()
            .unwrap();
        let texts: Vec<_> = d
            .downcast_dict::<StringArray>()
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!((d.null_count(), texts), (0, vec![Some(""); 3]));
    }

    #[test]
    fn shared_null_placeholders_equal_arrows_own_and_outlive_a_larger_batch() {
        let types = [
            DataType::Utf8,
            DataType::Int64,
            DataType::Int32,
            DataType::Float64,
        ];
        // Small, then past the first block (replacing it), then small again.
        for rows in [0, 1, 9, 70_000, 5] {
            for t in &types {
                let field = Field::new("x", t.clone(), true);
                let got = placeholder(&field, rows);
                assert_eq!(
                    got.as_ref(),
                    new_null_array(t, rows).as_ref(),
                    "{t} × {rows}"
                );
                assert_eq!((got.len(), got.null_count()), (rows, rows));
                got.to_data().validate_full().unwrap();
            }
        }
        let early = placeholder(&Field::new("x", DataType::Utf8, true), 3);
        let _larger = placeholder(&Field::new("x", DataType::Int64, true), 1 << 20);
        assert_eq!(early.null_count(), 3);
        early.to_data().validate_full().unwrap();
    }

    #[test]
    fn an_empty_batch_on_a_fresh_thread_gets_valid_placeholders() {
        // The first placeholders a thread makes are for no rows (a unit whose every record
        // was quarantined): their numbers, offsets and keys must still be aligned views.
        let item = Arc::new(Field::new("item", DataType::Utf8, true));
        let source = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let fields = [
            Field::new("a", source, false),
            Field::new("b", DataType::Int64, true),
            Field::new("c", DataType::Utf8, false),
            Field::new("d", DataType::List(item), false),
            Field::new("e", DataType::Float64, true),
        ];
        for field in fields {
            let made = std::thread::spawn(move || {
                let empty = placeholder(&field, 0);
                let one = placeholder(&field, 1);
                (empty, one)
            })
            .join()
            .expect("no panic on a fresh thread");
            assert_eq!((made.0.len(), made.1.len()), (0, 1));
            made.0.to_data().validate_full().unwrap();
            made.1.to_data().validate_full().unwrap();
        }
        let text = std::thread::spawn(|| repeated_text("PT1H.json", 0))
            .join()
            .expect("no panic on a fresh thread");
        assert_eq!(text.len(), 0);
    }

    #[test]
    fn shared_placeholders_without_nulls_equal_arrows_own_and_outlive_a_larger_batch() {
        let item = Arc::new(Field::new("item", DataType::Utf8, true));
        let source = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let early = placeholder(&Field::new("x", source.clone(), false), 3);
        for rows in [0, 1, 9, 70_000, 5] {
            let own: [(DataType, ArrayRef); 3] = [
                (DataType::Utf8, Arc::new(StringArray::from(vec![""; rows]))),
                (
                    DataType::List(item.clone()),
                    Arc::new(ListArray::new(
                        item.clone(),
                        OffsetBuffer::new_zeroed(rows),
                        new_empty_array(&DataType::Utf8),
                        None,
                    )),
                ),
                (
                    source.clone(),
                    Arc::new(
                        DictionaryArray::<Int32Type>::try_new(
                            Int32Array::from(vec![0; rows]),
                            Arc::new(StringArray::from(vec![""])),
                        )
                        .unwrap(),
                    ),
                ),
            ];
            for (t, want) in own {
                let got = placeholder(&Field::new("x", t.clone(), false), rows);
                assert_eq!(got.as_ref(), want.as_ref(), "{t} × {rows}");
                assert_eq!((got.len(), got.null_count()), (rows, 0));
                got.to_data().validate_full().unwrap();
            }
        }
        early.to_data().validate_full().unwrap();
        assert_eq!(early.len(), 3);
        // Offsets and keys are views of one block, not memory of their own.
        let first_buffer = |t: &DataType| {
            placeholder(&Field::new("x", t.clone(), false), 9)
                .to_data()
                .buffers()[0]
                .as_ptr()
        };
        let text = first_buffer(&DataType::Utf8);
        assert_eq!(first_buffer(&DataType::List(item)), text);
        assert_eq!(first_buffer(&source), text);
        assert_eq!(
            repeated_text("PT1H.json", 9).to_data().buffers()[0].as_ptr(),
            text
        );
    }

    #[test]
    fn a_repeated_text_is_held_once_and_read_in_every_row() {
        let a = repeated_text("PT1H.json", 4);
        let a = a
            .as_any()
            .downcast_ref::<DictionaryArray<Int32Type>>()
            .unwrap();
        assert_eq!(a.values().len(), 1);
        let texts: Vec<_> = a
            .downcast_dict::<StringArray>()
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(texts, vec![Some("PT1H.json"); 4]);
        assert_eq!(repeated_text("x", 0).len(), 0);
    }
}
