//! `Loose`: a JSON value as the exports actually carry it.
//!
//! The same logical field arrives as a number in one shape and as a string in another (`size`,
//! `durationMs`), and as `null`, `""` or `"<nil>"` when absent. Decoders therefore accept any JSON
//! type for every field and convert late, so an odd type costs one field, never the record.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One field's value, borrowed from the input where it had no escapes.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Loose<'a> {
    /// The key did not occur.
    #[default]
    Missing,
    /// JSON `null`.
    Null,
    /// A string.
    Str(Cow<'a, str>),
    /// An integer.
    Int(i64),
    /// A number that is not an `i64`.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// An object or an array where a scalar was expected.
    Nested,
}

/// How a shape spells "no value" besides `null`, `""` and absence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullSpelling {
    /// Resource logs and Log Analytics exports: `"<nil>"`.
    Nil,
    /// `az … -o json` output, whose values went through Python `str()`: also `"None"`.
    NilOrNone,
}

impl NullSpelling {
    fn is_null(self, s: &str) -> bool {
        s.is_empty() || s == "<nil>" || (self == NullSpelling::NilOrNone && s == "None")
    }
}

impl<'a> Loose<'a> {
    /// The value as text, `None` when it means "no value". Numbers and booleans are rendered as
    /// JSON would; nested values are `None`.
    pub fn text(&self, nulls: NullSpelling) -> Option<Cow<'_, str>> {
        match self {
            Loose::Str(s) => {
                let t = trim(s);
                (!nulls.is_null(t)).then_some(Cow::Borrowed(t))
            }
            Loose::Int(i) => Some(Cow::Owned(i.to_string())),
            Loose::Float(f) => Some(Cow::Owned(f.to_string())),
            Loose::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Loose::Missing | Loose::Null | Loose::Nested => None,
        }
    }

    /// The value as an integer: integers, integral floats, and strings holding either.
    pub fn int(&self) -> Option<i64> {
        match self {
            Loose::Int(i) => Some(*i),
            Loose::Float(f) => float_to_int(*f),
            Loose::Str(s) => {
                let t = trim(s);
                t.parse::<i64>()
                    .ok()
                    .or_else(|| t.parse::<f64>().ok().and_then(float_to_int))
            }
            _ => None,
        }
    }

    /// The value as a float: numbers and strings holding one.
    pub fn float(&self) -> Option<f64> {
        match self {
            Loose::Int(i) => Some(*i as f64),
            Loose::Float(f) => Some(*f),
            Loose::Str(s) => trim(s).parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        }
    }

    /// Whether the value is absent or null in any spelling.
    pub fn is_absent(&self, nulls: NullSpelling) -> bool {
        self.text(nulls).is_none() && !matches!(self, Loose::Nested)
    }
}

fn float_to_int(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && f.is_finite() && f.abs() < 9.0e15).then_some(f as i64)
}

impl<'de> Deserialize<'de> for Loose<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Loose::Float(v as f64), Loose::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Float(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Nested)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Nested)
    }
}

/// `text` without the white space around it. Values from the logs rarely have any: when the
/// first and last bytes are visible ASCII, which no white space is, the text is its own trim,
/// and the character-by-character search from both ends is skipped.
fn trim(text: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b.is_ascii());
    let bytes = text.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nil_spellings_are_null_and_none_only_for_az_output() {
        let s = |v: &'static str| Loose::Str(Cow::Borrowed(v));
        assert_eq!(s("<nil>").text(NullSpelling::Nil), None);
        assert_eq!(s("").text(NullSpelling::Nil), None);
        assert_eq!(s("None").text(NullSpelling::Nil).as_deref(), Some("None"));
        assert_eq!(s("None").text(NullSpelling::NilOrNone), None);
        assert_eq!(Loose::Null.text(NullSpelling::Nil), None);
    }

    #[test]
    fn values_are_trimmed_as_the_standard_library_trims_them() {
        let spaces = [
            "", " ", "\t", "\r\n", "\u{a0}", "\u{3000}", "\u{85}", "\u{1f}", "\u{7f}",
        ];
        for before in spaces {
            for after in spaces {
                for core in ["", "x", "é", "a b", "\u{a0}z"] {
                    let text = format!("{before}{core}{after}");
                    assert_eq!(trim(&text), text.trim(), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn numbers_arrive_as_strings_or_numbers() {
        assert_eq!(Loose::Str("38.212784".into()).float(), Some(38.212784));
        assert_eq!(Loose::Str(" 1234 ".into()).int(), Some(1234));
        assert_eq!(Loose::Float(1234.0).int(), Some(1234));
        assert_eq!(Loose::Float(1.5).int(), None);
        assert_eq!(Loose::Str("abc".into()).int(), None);
        assert_eq!(Loose::Str("NaN".into()).float(), None);
        assert_eq!(Loose::Int(7).text(NullSpelling::Nil).as_deref(), Some("7"));
    }
}
