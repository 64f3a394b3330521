//! Group keys as numbers: each key column's values are numbered (NULL is 0), and a group is
//! found by the numbers of its keys.
//!
//! Text comes as views. A view longer than 12 bytes points into a buffer, and the store's text
//! columns are Parquet dictionaries, so the batches of a column chunk point into the same
//! buffer, at the few places of its dictionary. While a batch's buffers are the ones the batch
//! before had, or are plainly a dictionary (far smaller than the texts the rows point at), a
//! place (buffer, offset, length) is numbered once, by its text, and each row costs a look-up
//! of a number instead of the hashing and comparing of its text. Buffers new to a batch are
//! held from then on and the places in others forgotten; plain pages, whose every value is
//! new, are looked up as texts. A text of up to 12 bytes lies in its view itself, which
//! numbers it. Plain strings say nothing of where rows repeat a text: each row is numbered by
//! its text.

use arrow_array::builder::StringViewBuilder;
use arrow_array::cast::AsArray;
use std::sync::Arc;

use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Int64Array, StringArray, StringViewArray, UInt32Array,
};
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use foldhash::fast::FixedState;
use hashbrown::HashMap;

use crate::interned::Interned;

type Map<K, V> = HashMap<K, V, FixedState>;

/// The number of NULL.
const NULL: u32 = 0;

/// The numbered values of one key column.
pub(super) enum KeyValues {
    /// Text, read as views, as the files' dictionaries or as plain strings, and the type to
    /// give it back as (views or plain strings).
    Text(TextValues, DataType),
    /// Integers, dates and times, as 64-bit integers, and the type to give them back as.
    Number(Map<i64, u32>, Vec<i64>, DataType),
}

impl KeyValues {
    /// Values of a column of `data_type`, or `None` for a type not numbered here.
    pub(super) fn of(data_type: &DataType) -> Option<KeyValues> {
        match data_type {
            DataType::Utf8View | DataType::Utf8 => {
                Some(KeyValues::Text(TextValues::default(), data_type.clone()))
            }
            t if fits_i64(t) => Some(KeyValues::Number(
                Map::default(),
                vec![0],
                data_type.clone(),
            )),
            _ => None,
        }
    }

    /// Appends the number of each value of `column` to `out`.
    pub(super) fn number(&mut self, column: &ArrayRef, out: &mut Vec<u32>) -> Result<()> {
        match self {
            KeyValues::Text(text, _) => {
                if let Some(views) = column.as_string_view_opt() {
                    text.number(views, out);
                } else if let Some(strings) = column.as_string_opt::<i32>() {
                    text.number_strings(strings, out);
                } else {
                    let keys = column.as_dictionary_opt::<Int32Type>().ok_or_else(|| {
                        DataFusionError::Internal(format!("a text key of {}", column.data_type()))
                    })?;
                    text.number_keys(keys, out)?;
                }
            }
            KeyValues::Number(known, values, _) => {
                let numbers = cast(column, &DataType::Int64)?;
                let numbers = numbers.as_primitive::<Int64Type>();
                // Runs of one value (a day, in rows sorted by time) are numbered once.
                let mut last = None;
                for (i, &v) in numbers.values().iter().enumerate() {
                    if numbers.is_null(i) {
                        out.push(NULL);
                        continue;
                    }
                    let n = match last {
                        Some((value, n)) if value == v => n,
                        _ => {
                            let n = number_of_value(known, values, v);
                            last = Some((v, n));
                            n
                        }
                    };
                    out.push(n);
                }
            }
        }
        Ok(())
    }

    /// The number here of each number of `other` (a column of the same key numbered on
    /// another partition), by that number; what is new here is numbered.
    pub(super) fn renumbered(&mut self, other: &KeyValues) -> Result<Vec<u32>> {
        let numbers: Vec<u32> = match (self, other) {
            (KeyValues::Text(here, _), KeyValues::Text(there, _)) => (0..there.texts.len())
                .map(|id| here.texts.id(there.texts.get(id)) as u32 + 1)
                .collect(),
            (KeyValues::Number(known, values, _), KeyValues::Number(_, theirs, _)) => theirs[1..]
                .iter()
                .map(|&v| number_of_value(known, values, v))
                .collect(),
            _ => return Err(DataFusionError::Internal("keys of two kinds".into())),
        };
        Ok([NULL].into_iter().chain(numbers).collect())
    }

    /// Each number's place in the order of the values (NULL first or last), by number.
    pub(super) fn ranks(&self, descending: bool, nulls_first: bool) -> Vec<u32> {
        let count = match self {
            KeyValues::Text(text, _) => text.texts.len(),
            KeyValues::Number(_, values, _) => values.len() - 1,
        } as u32;
        let mut numbers: Vec<u32> = (1..=count).collect();
        match self {
            // Byte order, as Arrow compares text.
            KeyValues::Text(text, _) => {
                numbers.sort_unstable_by(|&a, &b| text.text(a).cmp(&text.text(b)))
            }
            KeyValues::Number(_, values, _) => {
                numbers.sort_unstable_by_key(|&n| values[n as usize])
            }
        }
        if descending {
            numbers.reverse();
        }
        let first = u32::from(nulls_first);
        let mut ranks = vec![0; numbers.len() + 1];
        for (rank, &n) in (first..).zip(&numbers) {
            ranks[n as usize] = rank;
        }
        ranks[NULL as usize] = if nulls_first { 0 } else { count + 1 };
        ranks
    }

    /// The values of `numbers`, as a column of the key's type.
    pub(super) fn values(&self, numbers: impl Iterator<Item = u32>) -> Result<ArrayRef> {
        Ok(match self {
            KeyValues::Text(text, data_type) => {
                // Each text once, checked as UTF-8 once; a row is a copy of its text's view.
                let mut distinct = StringViewBuilder::new();
                let block = distinct.append_block(Buffer::from(text.texts.bytes()));
                for id in 0..text.texts.len() {
                    let span = text.texts.span(id);
                    distinct.try_append_view(block, span.start as u32, span.len() as u32)?;
                }
                let places: UInt32Array = numbers.map(|n| n.checked_sub(1)).collect();
                cast(&take(&distinct.finish(), &places, None)?, data_type)?
            }
            KeyValues::Number(_, values, data_type) => {
                let column: Int64Array = numbers
                    .map(|n| (n != NULL).then(|| values[n as usize]))
                    .collect();
                cast(&column, data_type)?
            }
        })
    }
}

/// The number of `value` among `known` ones (whose values are `values`, by number), given it if
/// it is new.
fn number_of_value(known: &mut Map<i64, u32>, values: &mut Vec<i64>, value: i64) -> u32 {
    let next = values.len() as u32;
    *known.entry(value).or_insert_with(|| {
        values.push(value);
        next
    })
}

/// Whether every value of the type is a 64-bit integer and comes back from one unchanged.
fn fits_i64(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
    )
}

/// The most bytes of a held buffer whose long texts are numbered through [`Slot`]s: a
/// dictionary of a few thousand texts takes tens of KiB; the table takes about as many bytes
/// as the buffer.
const MAX_SLOTTED: usize = 1 << 20;

/// The shortest text that does not lie in its view.
const LONG: usize = 13;

/// A long text's number, found by its offset in a held buffer: a buffer's table has a slot for
/// every [`LONG`] bytes, so texts laid end to end, as in a Parquet dictionary, each have a
/// slot of their own (and overlapping ones, which views may point at, go to the table of
/// places). A look-up is a load and a compare, where the table of places hashes.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    offset: u32,
    len: u32,
    /// 0 for a slot not taken.
    number: u32,
}

/// The numbered texts of one key column.
#[derive(Default)]
pub(super) struct TextValues {
    /// The buffers the places point into, held so that no other buffer can take their address.
    held: Vec<Buffer>,
    /// Each held buffer's slots, made when a long text in it is first numbered; empty for a
    /// buffer over [`MAX_SLOTTED`].
    slots: Vec<Option<Vec<Slot>>>,
    /// Numbers by place (address, offset, length) in the held buffers.
    places: Map<u128, u32>,
    /// Numbers of short texts by their view, which holds them whole.
    inline: Map<u128, u32>,
    texts: Interned,
    /// The dictionary the last batch of dictionary keys had, and the number of each of its
    /// values: the batches of a column chunk share it.
    dictionary: Option<(ArrayRef, Vec<u32>)>,
}

/// The number of `text` among `texts`: its place plus one (0 is NULL).
fn number_of(texts: &mut Interned, text: &str) -> u32 {
    texts.id(text.as_bytes()) as u32 + 1
}

/// The number `key` has in `known`, given the number of `text` the first time.
fn remembered<'a>(
    known: &mut Map<u128, u32>,
    key: u128,
    texts: &mut Interned,
    text: impl FnOnce() -> &'a str,
) -> u32 {
    *known.entry(key).or_insert_with(|| number_of(texts, text()))
}

impl TextValues {
    fn number(&mut self, column: &StringViewArray, out: &mut Vec<u32>) {
        let buffers = column.data_buffers();
        // Places are remembered in buffers a batch before had too, or in buffers smaller than
        // half the texts the batch's rows point at (a dictionary's: the rows repeat its
        // texts). Plain pages, whose every row has a place of its own, are looked up by text.
        let positions: Option<Vec<usize>> = buffers
            .iter()
            .map(|b| self.held.iter().position(|h| h.as_ptr() == b.as_ptr()))
            .collect();
        let (repeated, at) = match positions {
            Some(at) if !buffers.is_empty() => (true, at),
            _ => {
                self.places.clear();
                self.held = buffers.to_vec();
                self.slots = vec![None; buffers.len()];
                (false, (0..buffers.len()).collect())
            }
        };
        let by_place = repeated || {
            let long: u64 = column
                .views()
                .iter()
                .map(|&v| u64::from(v as u32))
                .filter(|&len| len as usize >= LONG)
                .sum();
            let held: u64 = buffers.iter().map(|b| b.len() as u64).sum();
            held > 0 && held * 2 < long
        };
        for (i, &view) in column.views().iter().enumerate() {
            if column.is_null(i) {
                out.push(NULL);
                continue;
            }
            let len = view as u32;
            if (len as usize) < LONG {
                // The bytes past the text are zeros as Arrow writes them; masked all the same.
                let whole = view & (u128::MAX >> (96 - 8 * len));
                out.push(remembered(&mut self.inline, whole, &mut self.texts, || {
                    column.value(i)
                }));
                continue;
            }
            if !by_place {
                out.push(number_of(&mut self.texts, column.value(i)));
                continue;
            }
            let h = at[(view >> 64) as u32 as usize];
            let offset = (view >> 96) as u32;
            let buffer = self.held[h].len();
            let slots = self.slots[h].get_or_insert_with(|| {
                let slots = if buffer <= MAX_SLOTTED {
                    buffer / LONG + 1
                } else {
                    0
                };
                vec![Slot::default(); slots]
            });
            let slot = offset as usize / LONG;
            match slots.get(slot).copied() {
                Some(s) if s.number != 0 && s.offset == offset && s.len == len => {
                    out.push(s.number);
                    continue;
                }
                Some(s) if s.number == 0 => {
                    let number = number_of(&mut self.texts, column.value(i));
                    if let Some(slots) = &mut self.slots[h] {
                        slots[slot] = Slot {
                            offset,
                            len,
                            number,
                        };
                    }
                    out.push(number);
                    continue;
                }
                _ => {}
            }
            let place = (self.held[h].as_ptr() as usize as u128) << 64
                | u128::from(offset) << 32
                | u128::from(len);
            out.push(remembered(&mut self.places, place, &mut self.texts, || {
                column.value(i)
            }));
        }
    }

    /// Numbers plain strings, each row by its text: nothing says where rows repeat a text.
    fn number_strings(&mut self, column: &StringArray, out: &mut Vec<u32>) {
        out.extend(
            column
                .iter()
                .map(|text| text.map_or(NULL, |text| number_of(&mut self.texts, text))),
        );
    }

    /// Numbers the rows of dictionary keys: each value of a dictionary once, a row by its key.
    fn number_keys(
        &mut self,
        column: &DictionaryArray<Int32Type>,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        let values = column.values();
        let texts = values.as_string_opt::<i32>().ok_or_else(|| {
            DataFusionError::Internal(format!("a dictionary of {}", values.data_type()))
        })?;
        // Each batch has an array of its own, over the buffers of the column chunk's dictionary.
        let held = |held: &ArrayRef| {
            held.as_string_opt::<i32>().is_some_and(|h| {
                h.len() == texts.len()
                    && h.value_offsets().as_ptr() == texts.value_offsets().as_ptr()
                    && h.values().as_ptr() == texts.values().as_ptr()
            })
        };
        if !matches!(&self.dictionary, Some((h, _)) if held(h)) {
            let numbers = texts
                .iter()
                .map(|text| text.map_or(NULL, |text| number_of(&mut self.texts, text)))
                .collect();
            self.dictionary = Some((Arc::clone(values), numbers));
        }
        let numbers = self.dictionary.as_ref().map_or(&[][..], |(_, n)| &n[..]);
        let keys = column.keys();
        for (i, &key) in keys.values().iter().enumerate() {
            out.push(match keys.is_null(i) {
                true => NULL,
                false => *numbers.get(key as usize).ok_or_else(|| {
                    DataFusionError::Internal(format!("a key {key} past its dictionary"))
                })?,
            });
        }
        Ok(())
    }

    /// The text numbered `n`, as the bytes it was given as.
    fn text(&self, n: u32) -> Option<&[u8]> {
        n.checked_sub(1).map(|id| self.texts.get(id as usize))
    }
}

/// The most key columns a group's numbers are packed for.
pub(super) const MAX_KEYS: usize = 4;

/// The most bits of a dense index: a table of 4 MiB at most.
const DENSE_BITS: u32 = 20;

/// The groups met so far; a group's index is its place in order. While the key columns'
/// numbers fit in [`DENSE_BITS`] together, a group is found at the index their bits make in a
/// table (no hashing, and a table that stays in the core's cache for the few thousand values of
/// a day's keys); beyond, by its numbers packed into one word, hashed.
pub(super) struct Groups {
    width: usize,
    /// The bits each key column's numbers take in a dense index.
    bits: [u32; MAX_KEYS],
    /// Each dense index's group + 1 (0 for none); empty once the groups are hashed.
    dense: Vec<u32>,
    hashed: Option<Map<u128, u32>>,
    /// Each group's numbers, packed.
    keys: Vec<u128>,
}

/// Numbers as one word.
pub(super) fn pack(numbers: &[u32]) -> u128 {
    numbers
        .iter()
        .fold(0, |word, &n| word << 32 | u128::from(n))
}

impl Groups {
    /// No groups yet, of `width` key columns (at most [`MAX_KEYS`]).
    pub(super) fn new(width: usize) -> Self {
        Groups {
            width,
            bits: [0; MAX_KEYS],
            dense: vec![0],
            hashed: None,
            keys: Vec::new(),
        }
    }

    /// The dense index of `numbers`, when they fit the bits.
    fn at(&self, numbers: &[u32]) -> Option<usize> {
        let mut at = 0usize;
        for (&n, &bits) in numbers.iter().zip(&self.bits) {
            if n >> bits != 0 {
                return None;
            }
            at = at << bits | n as usize;
        }
        Some(at)
    }

    /// The index of the group whose key numbers are `numbers`, a new one if none has them.
    pub(super) fn index(&mut self, numbers: &[u32]) -> usize {
        if let Some(hashed) = &mut self.hashed {
            let key = pack(numbers);
            let next = self.keys.len() as u32;
            let g = *hashed.entry(key).or_insert(next);
            if g == next {
                self.keys.push(key);
            }
            return g as usize;
        }
        let Some(at) = self.at(numbers) else {
            self.widen(numbers);
            return self.index(numbers);
        };
        match self.dense[at] {
            0 => {
                self.keys.push(pack(numbers));
                self.dense[at] = self.keys.len() as u32;
                self.keys.len() - 1
            }
            g => g as usize - 1,
        }
    }

    /// Makes room at once for every key of the numbers `columns` (each key column's, of a
    /// batch): the table is laid out once a batch, not once for each bit a column's numbers
    /// grow by (each new table's pages are faulted in afresh, at several microseconds a page).
    pub(super) fn fit(&mut self, columns: &[Vec<u32>]) {
        let mut largest = [0; MAX_KEYS];
        for (top, numbers) in largest.iter_mut().zip(columns) {
            *top = numbers.iter().copied().max().unwrap_or(0);
        }
        let largest = &largest[..columns.len().min(MAX_KEYS)];
        if self.hashed.is_none() && self.at(largest).is_none() {
            self.widen(largest);
        }
    }

    /// Gives each column the bits its number in `numbers` needs, and lays the groups out
    /// again; hashes them instead once the bits are too many.
    fn widen(&mut self, numbers: &[u32]) {
        for (bits, &n) in self.bits.iter_mut().zip(numbers) {
            *bits = (*bits).max(u32::BITS - n.leading_zeros());
        }
        let total: u32 = self.bits.iter().sum();
        if total > DENSE_BITS {
            self.dense = Vec::new();
            self.hashed = Some(
                self.keys
                    .iter()
                    .enumerate()
                    .map(|(g, &k)| (k, g as u32))
                    .collect(),
            );
            return;
        }
        self.dense = vec![0; 1 << total];
        let mut numbers = [0; MAX_KEYS];
        for g in 0..self.keys.len() {
            for (c, n) in numbers[..self.width].iter_mut().enumerate() {
                *n = self.number(g, c);
            }
            if let Some(at) = self.at(&numbers[..self.width]) {
                self.dense[at] = g as u32 + 1;
            }
        }
    }

    /// The number of key column `column` of group `g`.
    pub(super) fn number(&self, g: usize, column: usize) -> u32 {
        (self.keys[g] >> (32 * (self.width - 1 - column))) as u32
    }

    /// How many groups.
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The numbers of key column `column` of every group, in order.
    pub(super) fn column(&self, column: usize) -> impl Iterator<Item = u32> + '_ {
        (0..self.keys.len()).map(move |g| self.number(g, column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_at_overlapping_places_keep_numbers_of_their_own() {
        use arrow_array::builder::StringViewBuilder;
        let text = "abcdefghijklmnopqrstuvwxyz0123456789";
        let buffer = Buffer::from(text.as_bytes());
        // Places sharing an offset, overlapping, sharing a slot, and a short text; NULLs.
        let places = [
            (0, 20),
            (0, 15),
            (5, 20),
            (0, 20),
            (13, 13),
            (5, 20),
            (2, 3),
            (26, 10),
        ];
        let batch = || {
            let mut views = StringViewBuilder::new();
            let block = views.append_block(buffer.clone());
            for (offset, len) in places {
                views
                    .try_append_view(block, offset, len)
                    .unwrap_or_else(|e| panic!("{e}"));
                views.append_null();
            }
            views.finish()
        };
        let mut values = TextValues::default();
        let mut numbers = Vec::new();
        // The first batch's buffer is new (numbered by place: it is smaller than its texts),
        // the second's is held.
        for _ in 0..2 {
            values.number(&batch(), &mut numbers);
        }
        let texts: Vec<Option<&str>> = places
            .iter()
            .flat_map(|&(o, l)| [Some(&text[o as usize..(o + l) as usize]), None])
            .collect();
        for (&n, text) in numbers.iter().zip(texts.iter().cycle()) {
            assert_eq!(values.text(n), text.map(str::as_bytes));
        }
        let distinct: std::collections::HashSet<_> = texts.iter().flatten().collect();
        let numbered: std::collections::HashSet<_> =
            numbers.iter().filter(|&&n| n != NULL).collect();
        assert_eq!(numbered.len(), distinct.len());
    }

    #[test]
    fn a_group_keeps_its_index_as_the_table_widens_and_turns_to_hashing() {
        let mut groups = Groups::new(3);
        let mut seen: Vec<[u32; 3]> = Vec::new();
        // Numbers that need more and more bits, past the dense table's, and back to small ones.
        let rows = (0..3000u32).map(|i| [i % 3, (i * 7919) % (1 << (i / 150 + 1)), i % 5]);
        for key in rows.clone().chain(rows) {
            let g = groups.index(&key);
            match seen.iter().position(|k| *k == key) {
                Some(old) => assert_eq!(g, old, "{key:?}"),
                None => {
                    assert_eq!(g, seen.len(), "{key:?}");
                    seen.push(key);
                }
            }
        }
        assert!(groups.hashed.is_some());
        assert_eq!(groups.len(), seen.len());
        for (c, column) in (0..3).map(|c| (c, groups.column(c).collect::<Vec<_>>())) {
            assert_eq!(column, seen.iter().map(|k| k[c]).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_batch_fitted_first_is_indexed_without_laying_the_table_out_again() {
        let mut groups = Groups::new(2);
        groups.index(&[1, 1]);
        let columns = vec![vec![1, 5, 1000, 0], vec![3, 2, 1, 7]];
        groups.fit(&columns);
        let size = groups.dense.len();
        assert_eq!(size, 1 << (10 + 3));
        let indices: Vec<usize> = (0..4)
            .map(|row| groups.index(&[columns[0][row], columns[1][row]]))
            .collect();
        assert_eq!(groups.dense.len(), size);
        assert_eq!(indices, [1, 2, 3, 4]);
        assert_eq!(groups.index(&[1, 1]), 0);
        assert_eq!(groups.column(0).collect::<Vec<_>>(), [1, 1, 5, 1000, 0]);
    }
}
