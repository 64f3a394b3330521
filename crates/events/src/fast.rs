//! The fast path of record decoding: one pass over a JSON object that reads only the fields a
//! scan needs and steps over everything else without building it.
//!
//! The strict decoder ([`RawRecord::from_json`]) tokenizes every value of every record through
//! serde. Most queries read a handful of columns, and the export lines are plain: ASCII, no
//! flat but for `properties`, few escapes. For such a line this scanner first marks every quote
//! and backslash in a bitmap, with one pass of 16-byte vector compares ([`index_line`]), so the
//! end of each string is the next marked bit; it matches each key against the one table of
//! spellings ([`FieldName::from_key_bytes`]), keeps the value of a wanted field (borrowed) and
//! validates the rest structurally.
//!
//! It never decides what the strict decoder would decide differently: anything it cannot prove
//! well-formed and plain — invalid UTF-8, a control character, an escaped key, a `\u` escape of
//! a surrogate half anywhere in the record, a number with an exponent or too many digits,
//! nesting deeper than [`MAX_DEPTH`], any syntax error — makes it return `None`, and the caller
//! hands the record to the strict decoder, which quarantines it or reads it with every quirk.
//! On what it accepts, its fields equal the strict decoder's.

use std::borrow::Cow;

use wide::u8x16;

use crate::columns::ColumnSet;
use crate::record::{FIELD_COUNT, FieldName, KeyRole, RawRecord};
use crate::schema::{col, event_schema};
use crate::value::Loose;

/// Nesting the fast path follows; deeper records go to the strict decoder.
pub const MAX_DEPTH: usize = 32;

/// A set of [`FieldName`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSet(u32);

impl FieldSet {
    /// Every field.
    pub const ALL: FieldSet = FieldSet((1 << FIELD_COUNT) - 1);

    /// The fields in `names`.
    pub fn of(names: impl IntoIterator<Item = FieldName>) -> FieldSet {
        FieldSet(names.into_iter().fold(0, |set, f| set | 1 << f as u32))
    }

    /// Whether `name` is in the set.
    pub fn contains(self, name: FieldName) -> bool {
        self.0 & (1 << name as u32) != 0
    }

    /// The fields the builder reads to build `columns` of the event schema: each column's
    /// sources, and always those of the time and the de-duplication key (time, correlation
    /// id, operation, caller).
    pub fn for_columns(columns: ColumnSet) -> FieldSet {
        use FieldName as F;
        let schema = event_schema();
        let read = |name: &str| schema.index_of(name).is_ok_and(|i| columns.contains(i));
        let sources: [(&str, &[FieldName]); 19] = [
            (col::CATEGORY, &[F::Category, F::Operation]),
            (col::OPERATION, &[F::Operation]),
            (col::REGISTRY, &[F::LoginServer]),
            (col::RESOURCE_ID, &[F::ResourceId]),
            (col::REGION, &[F::Region]),
            (col::REPOSITORY, &[F::Repository]),
            (col::TAG, &[F::Tag, F::Digest]),
            (col::DIGEST, &[F::Tag, F::Digest]),
            (col::MEDIA_TYPE, &[F::MediaType]),
            (col::ARTIFACT_TYPE, &[F::ArtifactType]),
            (col::SIZE_BYTES, &[F::Size]),
            (col::DURATION_MS, &[F::DurationMs]),
            (col::STATUS, &[F::ResultDescription, F::ResultType]),
            (col::IDENTITY, &[F::Identity]),
            (col::USER_AGENT, &[F::UserAgent]),
            (col::CORRELATION_ID, &[F::CorrelationId]),
            (col::JWT_ID, &[F::JwtId]),
            (col::CALLER_IP, &[F::CallerIp]),
            (col::CALLER_IP_RAW, &[F::CallerIp]),
        ];
        let always = [F::Time, F::CorrelationId, F::Operation, F::CallerIp];
        FieldSet::of(
            sources
                .iter()
                .filter(|(column, _)| read(column))
                .flat_map(|(_, fields)| fields.iter().copied())
                .chain(always),
        )
    }
}

/// Lines up to this long keep their bitmap on the stack; longer ones allocate it.
const STACK_WORDS: usize = 64;

/// Reads the `wanted` fields of one JSON object, or `None` when the record is not one the fast
/// path can prove well-formed and plain (the strict decoder then reads it).
pub fn scan_record(bytes: &[u8], wanted: FieldSet) -> Option<RawRecord<'_>> {
    let mut record = RawRecord::default();
    scan_into(bytes, wanted, &mut record).then_some(record)
}

/// [`scan_record`] into `record` (empty): whether it read the record. A record of several
/// hundred bytes is filled where it lies rather than returned and copied, for every line.
pub(crate) fn scan_into<'a>(bytes: &'a [u8], wanted: FieldSet, record: &mut RawRecord<'a>) -> bool {
    // Valid UTF-8 (checked once for the whole line) and no control character, which JSON
    // allows only escaped: every string slice below is then valid text.
    let Ok(text) = simdutf8::basic::from_utf8(bytes) else {
        return false;
    };
    let words = bytes.len().div_ceil(64);
    let (mut stack, mut heap) = ([0u64; STACK_WORDS], Vec::new());
    let bits = if words <= STACK_WORDS {
        &mut stack[..words]
    } else {
        heap.resize(words, 0);
        &mut heap[..]
    };
    let (control, backslashes) = index_line(bytes, bits);
    if control {
        return false;
    }
    let mut s = Scanner {
        text,
        bits,
        backslashes,
        at: 0,
        wanted,
    };
    if !backslashes {
        if s.compact(record).is_some() {
            return true;
        }
        // The full walk offers the values the compact walk offered again, in the same order,
        // and the first real value wins: what the compact walk left in `record` changes nothing.
        s.at = 0;
    }
    s.skip_space();
    s.object(record, 0).is_some() && {
        s.skip_space();
        s.at == bytes.len()
    }
}

/// Sets in `bits` (zeroed, one bit per byte of `line`) the bit of each quote and backslash;
/// says whether the line holds a control character, which JSON allows only escaped, and
/// whether it holds a backslash at all. Sixteen bytes at a time, with vector compares where the
/// CPU has them (SSE2 on every x86-64).
fn index_line(line: &[u8], bits: &mut [u64]) -> (bool, bool) {
    let (quote, backslash, space) = (u8x16::splat(b'"'), u8x16::splat(b'\\'), u8x16::splat(b' '));
    let (mut control, mut backslashes) = (0, 0);
    let mut mark = |k: usize, lanes: [u8; 16]| {
        let v = u8x16::new(lanes);
        let escape = v.simd_eq(backslash);
        control |= v.simd_lt(space).to_bitmask();
        backslashes |= escape.to_bitmask();
        bits[k / 4] |= u64::from((v.simd_eq(quote) | escape).to_bitmask()) << (16 * (k % 4));
    };
    let mut pieces = line.chunks_exact(16);
    let mut k = 0;
    for piece in pieces.by_ref() {
        let mut lanes = [0; 16];
        lanes.copy_from_slice(piece);
        mark(k, lanes);
        k += 1;
    }
    let rest = pieces.remainder();
    if !rest.is_empty() {
        // Padded with spaces: neither marked nor a control character.
        let mut lanes = [b' '; 16];
        lanes[..rest.len()].copy_from_slice(rest);
        mark(k, lanes);
    }
    (control != 0, backslashes != 0)
}

/// The quotes of a line without backslashes, in order: each string of such a line is the
/// text between two consecutive marked bits.
struct Quotes<'b> {
    bits: &'b [u64],
    word: usize,
    left: u64,
}

impl<'b> Quotes<'b> {
    fn new(bits: &'b [u64]) -> Self {
        Quotes {
            bits,
            word: 0,
            left: bits.first().copied().unwrap_or(0),
        }
    }

    /// The next quote's position.
    fn next(&mut self) -> Option<usize> {
        while self.left == 0 {
            self.word += 1;
            self.left = *self.bits.get(self.word)?;
        }
        let at = self.word * 64 + self.left.trailing_zeros() as usize;
        self.left &= self.left - 1;
        Some(at)
    }
}

struct Scanner<'a, 'b> {
    text: &'a str,
    /// The line's quotes and backslashes ([`index_line`]).
    bits: &'b [u64],
    /// Whether the line holds a backslash: without one, every marked bit is a quote, and a
    /// string ends at the next one.
    backslashes: bool,
    at: usize,
    wanted: FieldSet,
}

/// A string as it stands between its quotes: `escaped` when it holds a backslash.
struct Span {
    start: usize,
    end: usize,
    escaped: bool,
}

impl<'a> Scanner<'a, '_> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The next quote or backslash at or after `from`: the next bit set in the line's bitmap.
    fn quote_or_backslash(&self, from: usize) -> Option<usize> {
        let mut word = from / 64;
        let mut found = *self.bits.get(word)? & (u64::MAX << (from % 64));
        while found == 0 {
            word += 1;
            found = *self.bits.get(word)?;
        }
        Some(word * 64 + found.trailing_zeros() as usize)
    }

    /// A string (the opening quote is next), its escapes checked but not decoded.
    fn string(&mut self) -> Option<Span> {
        self.eat(b'"')?;
        let start = self.at;
        if !self.backslashes {
            let end = self.quote_or_backslash(start)?;
            self.at = end + 1;
            return Some(Span {
                start,
                end,
                escaped: false,
            });
        }
        let mut escaped = false;
        let mut at = start;
        loop {
            let found = self.quote_or_backslash(at)?;
            if self.bytes()[found] == b'"' {
                self.at = found + 1;
                return Some(Span {
                    start,
                    end: found,
                    escaped,
                });
            }
            escaped = true;
            at = found + 2;
            match *self.bytes().get(found + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                b'u' => {
                    // A surrogate half, paired or not, goes to the strict decoder wherever it
                    // stands: it rejects a lone one in any field it reads, even one the scan
                    // does not want.
                    let hex = self.text.get(found + 2..found + 6)?;
                    let unit = u32::from_str_radix(hex, 16).ok()?;
                    if !hex.bytes().all(|b| b.is_ascii_hexdigit())
                        || (0xd800..0xe000).contains(&unit)
                    {
                        return None;
                    }
                    at = found + 6;
                }
                _ => return None,
            }
        }
    }

    /// A string's text: borrowed, or decoded when it holds escapes (`string` has refused
    /// surrogate halves).
    fn text_of(&self, span: &Span) -> Option<Cow<'a, str>> {
        let raw = self.text.get(span.start..span.end)?;
        if !span.escaped {
            return Some(Cow::Borrowed(raw));
        }
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            out.push(match chars.next()? {
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    // Checked by `string`: four hex digits, not a surrogate half.
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                other => other,
            });
        }
        Some(Cow::Owned(out))
    }

    /// An object merged into `record` (the opening brace is next): `properties` objects merge
    /// too, as in the strict decoder.
    fn object(&mut self, record: &mut RawRecord<'a>, depth: usize) -> Option<()> {
        self.eat(b'{')?;
        self.skip_space();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            self.skip_space();
            let key = if key.escaped {
                // An escaped key may spell one acrlens reads (`tim\u0065`): the strict
                // decoder decodes it.
                return None;
            } else {
                &self.bytes()[key.start..key.end]
            };
            match FieldName::from_key_bytes(key) {
                Some(KeyRole::Field(name)) if self.wanted.contains(name) => {
                    let value = self.value(depth)?;
                    record.offer(name, value);
                }
                Some(KeyRole::Properties) if self.peek()? == b'{' => {
                    if depth >= MAX_DEPTH {
                        return None;
                    }
                    self.object(record, depth + 1)?;
                }
                _ => self.skip_value(depth)?,
            }
            self.skip_space();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
            self.skip_space();
        }
    }

    /// The walk for a compact line, as the exporters write them: no backslash, nothing between
    /// tokens, objects nested only as a top-level `properties`. Its strings are the spans
    /// between consecutive quotes, so it steps from quote to quote and checks only the byte or
    /// two between them, where the full walk ([`Scanner::object`]) tests every byte for
    /// spaces and searches the bitmap for each string's end. `None` for anything else (a
    /// space, an empty or nested object, an array), which the full walk then reads.
    fn compact(&mut self, record: &mut RawRecord<'a>) -> Option<()> {
        let bytes = self.bytes();
        if bytes.first() != Some(&b'{') {
            return None;
        }
        let mut quotes = Quotes::new(self.bits);
        // Where the next key's opening quote stands, and whether inside `properties`.
        let (mut key_at, mut nested) = (1, false);
        loop {
            let open = quotes.next()?;
            let close = quotes.next()?;
            if open != key_at || *bytes.get(close + 1)? != b':' {
                return None;
            }
            let role = FieldName::from_key_bytes(&bytes[open + 1..close]);
            let wanted = match role {
                Some(KeyRole::Field(name)) if self.wanted.contains(name) => Some(name),
                _ => None,
            };
            let at = close + 2;
            let end = match *bytes.get(at)? {
                b'"' => {
                    // The quote after the key's is this one: only the `:` stands between.
                    quotes.next()?;
                    let end = quotes.next()?;
                    if let Some(name) = wanted {
                        record.offer(name, Loose::Str(Cow::Borrowed(self.text.get(at + 1..end)?)));
                    }
                    end + 1
                }
                b'{' if !nested && role == Some(KeyRole::Properties) => {
                    (key_at, nested) = (at + 1, true);
                    continue;
                }
                b'{' | b'[' => return None,
                _ => {
                    // A number or a literal: no quote in it, so the quotes stay in step.
                    self.at = at;
                    match wanted {
                        Some(name) => {
                            let value = self.value(0)?;
                            record.offer(name, value);
                        }
                        None => self.skip_value(0)?,
                    }
                    self.at
                }
            };
            match *bytes.get(end)? {
                b',' => key_at = end + 1,
                b'}' if nested => match *bytes.get(end + 1)? {
                    b',' => (key_at, nested) = (end + 2, false),
                    b'}' => return (end + 2 == bytes.len()).then_some(()),
                    _ => return None,
                },
                b'}' => return (end + 1 == bytes.len()).then_some(()),
                _ => return None,
            }
        }
    }

    /// A wanted field's value, as the strict decoder reads it.
    fn value(&mut self, depth: usize) -> Option<Loose<'a>> {
        match self.peek()? {
            b'"' => {
                let span = self.string()?;
                Some(Loose::Str(self.text_of(&span)?))
            }
            b'{' | b'[' => {
                self.skip_value(depth)?;
                Some(Loose::Nested)
            }
            b't' => self.literal(b"true", Loose::Bool(true)),
            b'f' => self.literal(b"false", Loose::Bool(false)),
            b'n' => self.literal(b"null", Loose::Null),
            _ => {
                let text = self.number()?;
                // An integer that fits: anything else (fractions, huge values, `-0`, which
                // JSON parsers read as a float) is the strict decoder's to convert.
                if text.starts_with(b"-0") || text.len() > 18 {
                    return None;
                }
                // Digits only (a fraction's point stops it), at most 18 of them: no overflow.
                let (negative, digits) = match text.strip_prefix(b"-") {
                    Some(digits) => (true, digits),
                    None => (false, text),
                };
                let magnitude = digits.iter().try_fold(0i64, |n, &d| {
                    d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
                })?;
                Some(Loose::Int(if negative { -magnitude } else { magnitude }))
            }
        }
    }

    fn literal(&mut self, word: &[u8], value: Loose<'a>) -> Option<Loose<'a>> {
        let end = self.at + word.len();
        (self.bytes().get(self.at..end)? == word).then(|| {
            self.at = end;
            value
        })
    }

    /// A JSON number: `-?(0|[1-9][0-9]*)(.[0-9]+)?`, at most 18 integer digits and no exponent
    /// (the strict decoder may reject what would overflow).
    fn number(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let digits = |s: &mut Self| {
            let from = s.at;
            while s.peek().is_some_and(|b| b.is_ascii_digit()) {
                s.at += 1;
            }
            s.at - from
        };
        let first = self.peek()?;
        let int = digits(self);
        if int == 0 || int > 18 || (first == b'0' && int > 1) {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if digits(self) == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            return None;
        }
        Some(&self.bytes()[start..self.at])
    }

    /// Steps over any value, checking its syntax.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let (open, close) = if self.peek()? == b'{' {
                    (b'{', b'}')
                } else {
                    (b'[', b']')
                };
                self.eat(open)?;
                self.skip_space();
                if self.peek()? == close {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    if open == b'{' {
                        self.string()?;
                        self.eat(b':')?;
                        self.skip_space();
                    }
                    self.skip_value(depth + 1)?;
                    self.skip_space();
                    match self.peek()? {
                        b',' => self.at += 1,
                        b if b == close => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                    self.skip_space();
                }
            }
            b't' => self.literal(b"true", Loose::Null).map(drop),
            b'f' => self.literal(b"false", Loose::Null).map(drop),
            b'n' => self.literal(b"null", Loose::Null).map(drop),
            _ => self.number().map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(line: &str) -> RawRecord<'_> {
        RawRecord::from_json(line.as_bytes()).unwrap()
    }

    #[test]
    fn a_plain_line_reads_as_the_strict_decoder_reads_it() {
        let line = r#"{"time":"2025-11-03T10:00:00.1234567Z","resourceId":"/SUBSCRIPTIONS/X","operationName":"Pull","level":"Informational","RegionStamp":{"a":[1,2.5,true,null,{"b":"c"}]},"durationMs":"38.2","callerIpAddress":"10.0.2.4:51234","properties":{"loginServer":"contoso.azurecr.io","repository":"app/web","size":1234,"tag":null,"tenantId":"t"}}"#;
        let fast = scan_record(line.as_bytes(), FieldSet::ALL).unwrap();
        assert_eq!(fast, strict(line));
    }

    #[test]
    fn strings_across_the_bitmaps_words_and_lines_past_its_stack_read_as_in_the_strict_decoder() {
        // Quotes and escapes at every position around 64-byte words, in a line short enough
        // for the stack bitmap and in one far past it.
        for pad in 0..70 {
            for long in [0, 5000] {
                let agent = format!("{}\\\"x\\\\{}", "a".repeat(pad), "b".repeat(long));
                let line = format!(
                    r#"{{"time":"2025-11-03T10:00:00Z","{}":"{}","userAgent":"{agent}","properties":{{"repository":"r{pad}"}}}}"#,
                    "k".repeat(pad % 7 + 1),
                    "v".repeat(long + pad),
                );
                let fast = scan_record(line.as_bytes(), FieldSet::ALL);
                assert_eq!(fast.as_ref(), Some(&strict(&line)), "{line}");
                let Loose::Str(agent) = fast.unwrap().get(FieldName::UserAgent).clone() else {
                    panic!("no user agent")
                };
                assert!(agent.ends_with(&format!("\"x\\{}", "b".repeat(long))));
            }
        }
        // A control character anywhere, the last byte of a long line included, refuses it.
        let line = format!(r#"{{"time":"{}{}"}}"#, "t".repeat(4200), '\u{1}');
        assert_eq!(scan_record(line.as_bytes(), FieldSet::ALL), None);
    }

    #[test]
    fn escapes_and_text_beyond_ascii_read_as_in_the_strict_decoder() {
        let line = r#"{"identity":"Zo\u00eb Caf\u00e9","userAgent":"Docker-Client/27.3.1 \\(linux\\) \"q\" \/ \b\f\n\r\t","properties":{"repository":"café/ünïcode"}}"#;
        let fast = scan_record(line.as_bytes(), FieldSet::ALL).unwrap();
        assert_eq!(fast, strict(line));
        assert_eq!(
            fast.get(FieldName::UserAgent),
            &Loose::Str("Docker-Client/27.3.1 \\(linux\\) \"q\" / \u{8}\u{c}\n\r\t".into())
        );
    }

    #[test]
    fn strings_of_every_length_end_at_their_quote() {
        for len in 0..200 {
            for escape_at in [None, Some(len / 2)] {
                let mut value = "a".repeat(len);
                if let Some(at) = escape_at.filter(|_| len > 0) {
                    value.replace_range(at..at + 1, "\\\"");
                }
                let line = format!("{{\"userAgent\":\"{value}\",\"tag\":\"t\"}}");
                let fast = scan_record(line.as_bytes(), FieldSet::ALL).unwrap();
                assert_eq!(fast, strict(&line), "{line}");
            }
        }
    }

    /// What the compact walk alone makes of `line` (the line must hold no backslash).
    fn compact(line: &str, wanted: FieldSet) -> Option<RawRecord<'_>> {
        let mut bits = vec![0; line.len().div_ceil(64)];
        let (control, backslashes) = index_line(line.as_bytes(), &mut bits);
        assert!(!control && !backslashes);
        let mut s = Scanner {
            text: line,
            bits: &bits,
            backslashes,
            at: 0,
            wanted,
        };
        let mut record = RawRecord::default();
        s.compact(&mut record).map(|()| record)
    }

    #[test]
    fn compact_lines_are_read_by_the_compact_walk_and_the_rest_by_the_full_one() {
        let line = r#"{"time":"2025-11-03T10:00:00Z","durationMs":"38.25","x":38.25,"ok":true,"no":null,"time":"later","properties":{"repository":"app/web","size":1234,"tag":null},"properties":"x","properties":{"tag":"v1"}}"#;
        assert_eq!(compact(line, FieldSet::ALL), Some(strict(line)));
        let wanted = FieldSet::of([FieldName::Tag, FieldName::Size]);
        let only = compact(line, wanted).unwrap();
        assert_eq!(only.get(FieldName::Tag), &Loose::Str("v1".into()));
        assert_eq!(only.get(FieldName::Size), &Loose::Int(1234));
        assert_eq!(only.get(FieldName::Time), &Loose::Missing);
        // Spaces, nesting past `properties`, arrays, empty objects, text after the object: the
        // compact walk stops, and the full walk reads the line as the strict decoder does
        // (having been offered part of it first changes nothing).
        for line in [
            r#"{ "time":"t","properties":{"repository":"r"}}"#,
            r#"{"time":"t","properties":{"repository":"r"} }"#,
            r#"{"time":"t","properties":{"tag":"a","properties":{"repository":"r"}}}"#,
            r#"{"time":"t","RegionStamp":[1,{"b":"c"}],"time":"u","repository":"r"}"#,
            r#"{"time":"t","properties":{},"repository":"r"}"#,
            r#"{}"#,
        ] {
            assert_eq!(compact(line, FieldSet::ALL), None, "{line}");
            assert_eq!(
                scan_record(line.as_bytes(), FieldSet::ALL),
                Some(strict(line))
            );
        }
        for line in [
            r#"{"time":"t","repository":"r"}x"#,
            r#"{"time":"t","repository":"r",}"#,
            r#"{"time":"t""repository":"r"}"#,
            r#"{"time":01}"#,
            r#"{"time":"t","properties":{"repository":"r"}"#,
        ] {
            assert_eq!(compact(line, FieldSet::ALL), None, "{line}");
            assert_eq!(scan_record(line.as_bytes(), FieldSet::ALL), None, "{line}");
            assert!(RawRecord::from_json(line.as_bytes()).is_err(), "{line}");
        }
    }

    #[test]
    fn only_wanted_fields_are_read() {
        let line = r#"{"time":"t","operationName":"Pull","properties":{"repository":"r","userAgent":"u"}}"#;
        let fast = scan_record(line.as_bytes(), FieldSet::of([FieldName::Repository])).unwrap();
        assert_eq!(fast.get(FieldName::Repository), &Loose::Str("r".into()));
        assert_eq!(fast.get(FieldName::UserAgent), &Loose::Missing);
        assert_eq!(fast.get(FieldName::Time), &Loose::Missing);
    }

    #[test]
    fn what_it_cannot_prove_plain_goes_to_the_strict_decoder() {
        for line in [
            r#"{"userAgent":"\ud83d\ude00"}"#,    // a surrogate pair
            r#"{"tim\u0065":"t"}"#,               // an escaped key
            r#"{"userAgent":"\q"}"#,              // no such escape
            "{\"userAgent\":\"a\tb\"}",           // a control character
            r#"{"size":1e400}"#,                  // an exponent
            r#"{"size":1234567890123456789012}"#, // too many digits
            r#"{"time":"t",}"#,                   // a trailing comma
            r#"{"time":"t"} x"#,                  // trailing text
            r#"{"time":"t""#,                     // cut
            r#"{"time":tru}"#,                    // a bad literal
            r#"{"time":01}"#,                     // a leading zero
            r#"[1]"#,                             // not an object
        ] {
            assert!(
                scan_record(line.as_bytes(), FieldSet::ALL).is_none(),
                "{line}"
            );
        }
        assert!(
            scan_record(b"{\"time\":\"\xff\"}", FieldSet::ALL).is_none(),
            "not UTF-8"
        );
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(40), "]".repeat(40));
        assert!(scan_record(deep.as_bytes(), FieldSet::ALL).is_none());
    }

    #[test]
    fn the_first_real_value_wins_as_in_the_strict_decoder() {
        let line = r#"{"tag":null,"properties":{"tag":"v1","properties":{"tag":"v2","digest":"d"}},"Tag":"v3"}"#;
        assert_eq!(
            scan_record(line.as_bytes(), FieldSet::ALL).unwrap(),
            strict(line)
        );
    }

    #[test]
    fn columns_name_their_source_fields_and_the_dedup_key() {
        let schema = event_schema();
        let repo = ColumnSet::of([schema.index_of(col::REPOSITORY).unwrap()]);
        let set = FieldSet::for_columns(repo);
        for f in [
            FieldName::Repository,
            FieldName::Time,
            FieldName::CorrelationId,
        ] {
            assert!(set.contains(f), "{f:?}");
        }
        assert!(!set.contains(FieldName::UserAgent));
        assert_eq!(FieldSet::for_columns(ColumnSet::ALL), FieldSet::ALL);
    }
}
