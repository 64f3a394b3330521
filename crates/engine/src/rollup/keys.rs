//! Values numbered as they are met, so that a rollup finds a group by a few small numbers —
//! one per key column — rather than by its texts, and a text measure holds a number: a caller's
//! address or a registry's name is hashed once per event against a table of the values held,
//! and the groups' own table hashes and compares only numbers.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, BooleanArray, Int64Array, StringArray};
use arrow_schema::{ArrowError, DataType};
use hashbrown::HashTable;

use crate::interned::Interned;

/// What a key column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Flag,
}

/// The values of one key column (or text measure) met so far, numbered: 0 is NULL, a value its
/// place plus one.
pub(super) struct KeyValues {
    kind: Kind,
    values: Interned,
    /// The batch's distinct values by their hash: kept, emptied, from batch to batch.
    batch: HashTable<usize>,
    /// The first row of each of the batch's distinct values, its hash, and its number among
    /// those held.
    firsts: Vec<(usize, u64, u32)>,
}

impl KeyValues {
    /// No values yet, for a key column of type `data_type` named `name`.
    pub(super) fn new(data_type: &DataType, name: &str) -> Result<Self, ArrowError> {
        let kind = match data_type {
            DataType::Utf8 => Kind::Text,
            DataType::Int64 => Kind::Number,
            DataType::Boolean => Kind::Flag,
            other => {
                return Err(ArrowError::SchemaError(format!(
                    "a rollup column cannot be {name} of type {other}"
                )));
            }
        };
        Ok(KeyValues {
            kind,
            values: Interned::default(),
            batch: HashTable::new(),
            firsts: Vec::new(),
        })
    }

    /// The bytes of the value numbered `number` (not NULL's 0).
    pub(super) fn bytes(&self, number: i64) -> &[u8] {
        self.values.get(number as usize - 1)
    }

    /// Forgets every value.
    pub(super) fn clear(&mut self) {
        self.values = Interned::default();
    }

    /// Writes the number of each row of `column` (named `name`) into every `stride`-th place
    /// of `numbers`, starting at its first; rows that `wanted` refuses are left alone.
    pub(super) fn number(
        &mut self,
        column: &dyn Array,
        name: &str,
        numbers: &mut [u32],
        stride: usize,
        wanted: Option<&[bool]>,
    ) -> Result<(), ArrowError> {
        let wrong =
            || ArrowError::SchemaError(format!("the rollup column {name} has another type"));
        let places = (numbers, stride, wanted);
        match self.kind {
            Kind::Text => {
                let text = column.as_string_opt::<i32>().ok_or_else(wrong)?;
                self.number_rows(
                    |row| text.is_valid(row).then(|| text.value(row).as_bytes()),
                    places,
                );
            }
            Kind::Number => {
                let n = column.as_primitive_opt::<Int64Type>().ok_or_else(wrong)?;
                self.number_rows(
                    |row| n.is_valid(row).then(|| n.values()[row].to_le_bytes()),
                    places,
                );
            }
            Kind::Flag => {
                let flags = column.as_boolean_opt().ok_or_else(wrong)?;
                self.number_rows(
                    |row| flags.is_valid(row).then(|| [u8::from(flags.value(row))]),
                    places,
                );
            }
        }
        Ok(())
    }

    /// [`KeyValues::number`] of the rows whose values `value` gives. The batch's distinct values
    /// are numbered among themselves first: their table is small and stays in the cache, and
    /// the table of every value held, far larger, is searched once per distinct value, after
    /// what those searches read is brought into the cache all at once ([`Interned::touch`]).
    fn number_rows<T: AsRef<[u8]>>(
        &mut self,
        value: impl Fn(usize) -> Option<T>,
        (numbers, stride, wanted): (&mut [u32], usize, Option<&[bool]>),
    ) {
        let KeyValues {
            values,
            batch: table,
            firsts,
            ..
        } = self;
        table.clear();
        firsts.clear();
        // Each row's place among the batch's distinct values, plus one (0 for NULL).
        for (row, place) in numbers.iter_mut().step_by(stride).enumerate() {
            if wanted.is_some_and(|wanted| !wanted[row]) {
                continue;
            }
            let Some(v) = value(row) else {
                *place = 0;
                continue;
            };
            let bytes = v.as_ref();
            let hash = Interned::hash(bytes);
            let same = |&i: &usize| value(firsts[i].0).is_some_and(|f| f.as_ref() == bytes);
            *place = match table.find(hash, same) {
                Some(&i) => i as u32 + 1,
                None => {
                    firsts.push((row, hash, 0));
                    table.insert_unique(hash, firsts.len() - 1, |&i| firsts[i].1);
                    firsts.len() as u32
                }
            };
        }
        values.touch(firsts.iter().map(|&(_, hash, _)| hash));
        for (row, hash, number) in firsts.iter_mut() {
            if let Some(v) = value(*row) {
                *number = values.id_hashed(v.as_ref(), *hash) as u32 + 1;
            }
        }
        for (row, place) in numbers.iter_mut().step_by(stride).enumerate() {
            if wanted.is_none_or(|wanted| wanted[row]) && *place != 0 {
                *place = firsts[*place as usize - 1].2;
            }
        }
    }

    /// The column of the values numbered `numbers`.
    pub(super) fn column(
        &self,
        numbers: impl Iterator<Item = u32>,
    ) -> Result<ArrayRef, ArrowError> {
        let values = numbers.map(|n| (n as usize).checked_sub(1).map(|id| self.values.get(id)));
        Ok(match self.kind {
            Kind::Text => Arc::new(
                values
                    .map(|v| v.map(std::str::from_utf8).transpose())
                    .collect::<Result<StringArray, _>>()
                    .map_err(|e| ArrowError::ParseError(e.to_string()))?,
            ),
            Kind::Number => Arc::new(
                values
                    .map(|v| v.map(|b| b.try_into().map(i64::from_le_bytes)).transpose())
                    .collect::<Result<Int64Array, _>>()
                    .map_err(|e| ArrowError::ParseError(e.to_string()))?,
            ),
            Kind::Flag => Arc::new(
                values
                    .map(|v| v.map(|b| b != [0]))
                    .collect::<BooleanArray>(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers of `column`'s rows, and the column they give back.
    fn round_trip(data_type: DataType, column: ArrayRef) -> (Vec<u32>, ArrayRef) {
        let mut keys = KeyValues::new(&data_type, "k").unwrap();
        let mut numbers = vec![0; column.len() * 2];
        keys.number(&column, "k", &mut numbers[1..], 2, None)
            .unwrap();
        let mine: Vec<u32> = numbers.iter().skip(1).step_by(2).copied().collect();
        let back = keys.column(mine.iter().copied()).unwrap();
        (mine, back)
    }

    #[test]
    fn equal_values_get_equal_numbers_null_none_and_come_back_as_they_were() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            None,
            Some("a"),
            Some("b"),
            Some(""),
        ]));
        let (numbers, back) = round_trip(DataType::Utf8, text.clone());
        assert_eq!(numbers, [1, 0, 2, 1, 3]);
        assert_eq!(&back, &text);
        let n: ArrayRef = Arc::new(Int64Array::from(vec![Some(7), Some(7), None, Some(-7)]));
        let (numbers, back) = round_trip(DataType::Int64, n.clone());
        assert_eq!(numbers, [1, 1, 0, 2]);
        assert_eq!(&back, &n);
        let flags: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), Some(false), None]));
        let (numbers, back) = round_trip(DataType::Boolean, flags.clone());
        assert_eq!(numbers, [1, 2, 0]);
        assert_eq!(&back, &flags);
    }

    #[test]
    fn a_value_keeps_its_number_from_batch_to_batch_and_refused_rows_are_left_alone() {
        let mut keys = KeyValues::new(&DataType::Utf8, "caller_ip").unwrap();
        let first = StringArray::from(vec!["10.0.0.1", "10.0.0.2"]);
        let mut numbers = [9; 2];
        keys.number(&first, "caller_ip", &mut numbers, 1, None)
            .unwrap();
        assert_eq!(numbers, [1, 2]);
        let second = StringArray::from(vec!["10.0.0.3", "10.0.0.2", "10.0.0.4", "10.0.0.2"]);
        let mut numbers = [9; 4];
        let wanted = [true, true, false, true];
        keys.number(&second, "caller_ip", &mut numbers, 1, Some(&wanted))
            .unwrap();
        assert_eq!(numbers, [3, 2, 9, 2]);
        assert_eq!(keys.bytes(3), b"10.0.0.3");
    }

    #[test]
    fn a_column_of_another_type_is_an_error() {
        let mut keys = KeyValues::new(&DataType::Int64, "tags_version").unwrap();
        let text = StringArray::from(vec!["1"]);
        let error = keys
            .number(&text, "tags_version", &mut [0], 1, None)
            .unwrap_err();
        assert!(error.to_string().contains("tags_version"), "{error}");
        assert!(KeyValues::new(&DataType::Float64, "x").is_err());
    }
}
