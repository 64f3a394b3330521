//! `RawRecord`: the fields of one log record, whatever shape it came in.
//!
//! Resource logs nest half their fields under `properties` in camelCase; Log Analytics flattens
//! them in PascalCase. Both map through [`FieldName::from_key`], the one table of spellings, so
//! a record of either shape (or a mix) fills the same slots. Unknown keys are skipped without
//! being decoded.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::value::Loose;

/// The source fields the canonical schema is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FieldName {
    /// `time` / `TimeGenerated`.
    Time,
    /// `category` / `Type`.
    Category,
    /// `operationName` / `OperationName`.
    Operation,
    /// `loginServer` / `LoginServer`.
    LoginServer,
    /// `resourceId` / `_ResourceId`.
    ResourceId,
    /// `location` / `Region`.
    Region,
    /// `repository` / `Repository`.
    Repository,
    /// `tag` / `Tag`.
    Tag,
    /// `digest` / `Digest`.
    Digest,
    /// `mediaType` / `MediaType`.
    MediaType,
    /// `artifactType` / `ArtifactType`.
    ArtifactType,
    /// `size` / `Size`.
    Size,
    /// `durationMs` / `DurationMs`.
    DurationMs,
    /// `resultType` / `ResultType`.
    ResultType,
    /// `resultDescription` / `ResultDescription`.
    ResultDescription,
    /// `identity` / `Identity`.
    Identity,
    /// `userAgent` / `UserAgent`.
    UserAgent,
    /// `correlationId` / `CorrelationId`.
    CorrelationId,
    /// `jwtId` / `JwtId`.
    JwtId,
    /// `callerIpAddress` / `CallerIpAddress`.
    CallerIp,
}

/// How many [`FieldName`]s there are.
pub const FIELD_COUNT: usize = FieldName::CallerIp as usize + 1;

/// What a key in a record means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// A field of the canonical schema.
    Field(FieldName),
    /// The nested `properties` object of resource logs.
    Properties,
}

impl FieldName {
    /// The role of a key, in any of the spellings the exports use; `None` for keys acrlens does
    /// not need (`level`, `TenantId`, `RegionStamp`, …).
    pub fn from_key(key: &str) -> Option<KeyRole> {
        Self::from_key_bytes(key.as_bytes())
    }

    /// [`FieldName::from_key`] on the key's bytes, for the fast path that never decodes a key:
    /// one table look-up and one comparison, whatever the key.
    pub fn from_key_bytes(key: &[u8]) -> Option<KeyRole> {
        let (spelling, role) = SPELLINGS.get(usize::from(SLOTS[key_slot(key)]))?;
        same_key(spelling, key).then_some(*role)
    }
}

/// Whether two keys are equal, compared a word at a time: keys are 3 to 17 bytes, for which
/// a call to `memcmp`, or a loop over bytes, costs more than the comparison.
fn same_key(a: &[u8], b: &[u8]) -> bool {
    match a.len() {
        n if n != b.len() => false,
        8.. => same_words::<8>(a, b),
        4..8 => same_words::<4>(a, b),
        _ => a.iter().zip(b).all(|(x, y)| x == y),
    }
}

/// Whether `a` and `b` (of one length, at least `N`) are equal: whole words of `N` bytes from
/// the start, then the last `N` bytes (overlapping the word before).
fn same_words<const N: usize>(a: &[u8], b: &[u8]) -> bool {
    let word = |s: &[u8], at: usize| s.get(at..at + N).and_then(|w| <[u8; N]>::try_from(w).ok());
    (0..a.len() - N)
        .step_by(N)
        .chain([a.len() - N])
        .all(|at| word(a, at) == word(b, at))
}

/// Every spelling of every key acrlens reads, with its role.
const SPELLINGS: [(&[u8], KeyRole); 47] = {
    use FieldName::*;
    use KeyRole::{Field as F, Properties};
    [
        (b"time", F(Time)),
        (b"TimeGenerated", F(Time)),
        (b"timeGenerated", F(Time)),
        (b"category", F(Category)),
        (b"Category", F(Category)),
        (b"Type", F(Category)),
        (b"operationName", F(Operation)),
        (b"OperationName", F(Operation)),
        (b"loginServer", F(LoginServer)),
        (b"LoginServer", F(LoginServer)),
        (b"resourceId", F(ResourceId)),
        (b"ResourceId", F(ResourceId)),
        (b"_ResourceId", F(ResourceId)),
        (b"location", F(Region)),
        (b"Location", F(Region)),
        (b"Region", F(Region)),
        (b"region", F(Region)),
        (b"repository", F(Repository)),
        (b"Repository", F(Repository)),
        (b"tag", F(Tag)),
        (b"Tag", F(Tag)),
        (b"digest", F(Digest)),
        (b"Digest", F(Digest)),
        (b"mediaType", F(MediaType)),
        (b"MediaType", F(MediaType)),
        (b"artifactType", F(ArtifactType)),
        (b"ArtifactType", F(ArtifactType)),
        (b"size", F(Size)),
        (b"Size", F(Size)),
        (b"durationMs", F(DurationMs)),
        (b"DurationMs", F(DurationMs)),
        (b"resultType", F(ResultType)),
        (b"ResultType", F(ResultType)),
        (b"resultDescription", F(ResultDescription)),
        (b"ResultDescription", F(ResultDescription)),
        (b"identity", F(Identity)),
        (b"Identity", F(Identity)),
        (b"userAgent", F(UserAgent)),
        (b"UserAgent", F(UserAgent)),
        (b"correlationId", F(CorrelationId)),
        (b"CorrelationId", F(CorrelationId)),
        (b"jwtId", F(JwtId)),
        (b"JwtId", F(JwtId)),
        (b"callerIpAddress", F(CallerIp)),
        (b"CallerIpAddress", F(CallerIp)),
        (b"properties", Properties),
        (b"Properties", Properties),
    ]
};

/// A key's slot in [`SLOTS`], from its length and its first and last bytes. No two spellings
/// share a slot (checked when `SLOTS` is compiled), so a key is one comparison from its role.
const fn key_slot(key: &[u8]) -> usize {
    match (key.first(), key.last()) {
        (Some(&first), Some(&last)) => {
            (key.len().wrapping_mul(3) + ((first as usize) << 1) + ((last as usize) << 2)) & 127
        }
        _ => 0,
    }
}

/// Each slot's position in [`SPELLINGS`], or `u8::MAX` for a slot no spelling hashes to.
const SLOTS: [u8; 128] = {
    let mut slots = [u8::MAX; 128];
    let mut i = 0;
    while i < SPELLINGS.len() {
        let slot = key_slot(SPELLINGS[i].0);
        assert!(slots[slot] == u8::MAX, "two key spellings share a slot");
        slots[slot] = i as u8;
        i += 1;
    }
    slots
};

/// The fields of one record, indexed by [`FieldName`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RawRecord<'a> {
    fields: [Loose<'a>; FIELD_COUNT],
}

impl<'a> RawRecord<'a> {
    /// A field's value ([`Loose::Missing`] when the record did not have it).
    pub fn get(&self, name: FieldName) -> &Loose<'a> {
        &self.fields[name as usize]
    }

    /// Sets a field unless it already holds a value: the first real value wins, so a top-level
    /// field is not overwritten by a `properties` one and `null` never hides a value. Inlined:
    /// a call passes the value through memory, and reading it back in one wide load from the
    /// narrower stores that wrote it stalls, a cost the fast path paid on every field.
    #[inline]
    pub fn offer(&mut self, name: FieldName, value: Loose<'a>) {
        let slot = &mut self.fields[name as usize];
        if matches!(slot, Loose::Missing | Loose::Null) {
            *slot = value;
        }
    }

    /// Parses one JSON object (a line, or an element of an array) into a record.
    pub fn from_json(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err("not a JSON object".to_owned());
        }
        let mut record = RawRecord::default();
        let mut de = sonic_rs::Deserializer::from_slice(bytes);
        de.deserialize_any(MergeInto(&mut record))
            .and_then(|()| de.end())
            .map_err(|e| describe(&e))?;
        Ok(record)
    }
}

/// One line of text for a parse error; positions are within the record, so "line 1" is dropped.
fn describe(e: &sonic_rs::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("").trim();
    format!(
        "invalid JSON: {}",
        first.replace(" at line 1 column ", " at column ")
    )
}

/// Deserializes a JSON object into an existing record, so `properties` merges into its parent.
struct MergeInto<'r, 'a>(&'r mut RawRecord<'a>);

impl<'de> DeserializeSeed<'de> for MergeInto<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MergeInto<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match FieldName::from_key(&key.0) {
                Some(KeyRole::Field(name)) => {
                    let value = map.next_value::<Loose<'de>>()?;
                    self.0.offer(name, value);
                }
                Some(KeyRole::Properties) => map.next_value_seed(Nested(&mut *self.0))?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// `properties`: merged when it is an object, ignored when it is anything else.
struct Nested<'r, 'a>(&'r mut RawRecord<'a>);

impl<'de> DeserializeSeed<'de> for Nested<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(NestedVisitor(self.0))
    }
}

struct NestedVisitor<'r, 'a>(&'r mut RawRecord<'a>);

impl<'de> Visitor<'de> for NestedVisitor<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        MergeInto(self.0).visit_map(map)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(v.into()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(v.to_owned().into()))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_merge_into_the_record_and_unknown_keys_are_skipped() {
        let line =
            br#"{"time":"2025-11-03T10:00:00Z","level":"Informational","RegionStamp":{"x":[1,2]},
            "properties":{"repository":"app/web","size":1234,"userAgent":"docker/24"}}"#;
        let r = RawRecord::from_json(line).unwrap();
        assert_eq!(r.get(FieldName::Repository), &Loose::Str("app/web".into()));
        assert_eq!(r.get(FieldName::Size), &Loose::Int(1234));
        assert_eq!(
            r.get(FieldName::Time),
            &Loose::Str("2025-11-03T10:00:00Z".into())
        );
        assert_eq!(r.get(FieldName::Digest), &Loose::Missing);
    }

    #[test]
    fn every_spelling_finds_its_role_and_near_misses_find_none() {
        for (spelling, role) in SPELLINGS {
            assert_eq!(FieldName::from_key_bytes(spelling), Some(role));
        }
        assert_eq!(
            FieldName::from_key("callerIpAddress"),
            Some(KeyRole::Field(FieldName::CallerIp))
        );
        assert_eq!(FieldName::from_key("Properties"), Some(KeyRole::Properties));
        for miss in [
            "",
            "t",
            "tim",
            "times",
            "TIME",
            "Time",
            "level",
            "TenantId",
            "RegionStamp",
            "type",
            "jwtid",
            "_resourceId",
            "properties ",
            " time",
            "callerIpAddresS",
            // Same length and ends as a spelling (so its slot), different inside: in the
            // first eight bytes, the second eight, and the last eight.
            "jwtXd",
            "loGinServer",
            "resultDeScription",
            "callerIpAdDress",
            "resultDescriptiOn",
        ] {
            assert_eq!(FieldName::from_key(miss), None, "{miss:?}");
        }
        // Every spelling changed in any one byte between its ends: same slot, no role.
        for (spelling, _) in SPELLINGS {
            for at in 1..spelling.len() - 1 {
                let mut near = spelling.to_vec();
                near[at] ^= 0x20;
                assert_eq!(FieldName::from_key_bytes(&near), None, "{near:?}");
            }
        }
    }

    #[test]
    fn pascal_case_columns_fill_the_same_fields() {
        let r =
            RawRecord::from_json(br#"{"TimeGenerated":"t","Repository":"r","_ResourceId":"x"}"#)
                .unwrap();
        assert_eq!(r.get(FieldName::Repository), &Loose::Str("r".into()));
        assert_eq!(r.get(FieldName::ResourceId), &Loose::Str("x".into()));
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let r = RawRecord::from_json(br#"{"userAgent":"a\"b\u00e9"}"#).unwrap();
        assert_eq!(
            r.get(FieldName::UserAgent),
            &Loose::Str("a\"b\u{e9}".into())
        );
    }

    #[test]
    fn non_objects_and_garbage_are_errors() {
        assert_eq!(
            RawRecord::from_json(b"[1,2]").unwrap_err(),
            "not a JSON object"
        );
        assert!(RawRecord::from_json(b"{\"time\":").is_err());
        assert!(RawRecord::from_json(b"{} trailing").is_err());
        assert_eq!(RawRecord::from_json(b"").unwrap_err(), "not a JSON object");
    }

    #[test]
    fn a_null_does_not_hide_a_later_value() {
        let r = RawRecord::from_json(br#"{"tag":null,"properties":{"tag":"v1"}}"#).unwrap();
        assert_eq!(r.get(FieldName::Tag), &Loose::Str("v1".into()));
    }
}
