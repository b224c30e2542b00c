//! A JSON reader straight into [`Value`], for the texts a JSON-lines stream is made of: objects,
//! lists, strings, small numbers. It only ever says "this text is exactly this value" or "not
//! mine": anything unusual (an error, a number that needs serde_json's own rounding or range
//! checks, a lone surrogate, deep nesting) returns `None`, and [`parse_json`](super::parse_json)
//! hands the text to serde_json, which accepts it or reports the error at its line and column.
//! So the answer for every text is serde_json's; this reader only gets there without serde's
//! generic visitor, a `String` per string, or a second walk looking for floats.

use super::json_special::first_special;
use super::key_guess::KeyGuesses;
use super::{key_cache, map_pool, Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// Nesting this reader follows before leaving the text to serde_json (whose limit is 127).
const MAX_DEPTH: u32 = 100;

/// Exact powers of ten as `f64` (every one up to 1e22 is representable).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `text` as a value when it is plainly one; `None` leaves it to serde_json.
#[inline]
pub(super) fn parse(text: &str) -> Option<Value> {
    match bare_integer(text.as_bytes()) {
        Some(int) => Some(Value::Int(int)),
        None => parse_document(text),
    }
}

/// `text` (not a bare integer) as a value when it is plainly one.
fn parse_document(text: &str) -> Option<Value> {
    // The thread's buffers are borrowed where they are, not moved out and back (a move of the
    // three and a drop of the empty ones left behind, per object line); a read that somehow
    // starts inside another on this thread gets buffers of its own.
    SPARE.with(|spare| match spare.try_borrow_mut() {
        Ok(mut spare) => read_document(text, &mut spare),
        Err(_) => read_document(text, &mut Spare::new()),
    })
}

/// [`parse_document`] with the buffers and guesses in `spare`, which it leaves empty (but for
/// the guesses), or fresh if they grew past [`MAX_SPARE_ITEMS`].
fn read_document(text: &str, spare: &mut Spare) -> Option<Value> {
    let Spare {
        items,
        entries,
        keys,
    } = spare;
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
        items,
        entries,
        keys,
    };
    reader.skip_whitespace();
    let value = reader.value();
    reader.skip_whitespace();
    let whole = reader.at == reader.bytes.len();
    // The buffers stay with the thread for its next text (empty: every list and map drained
    // them, or, after a refusal, cleared here), so reading allocates only the lists and maps.
    items.clear();
    entries.clear();
    if items.capacity() > MAX_SPARE_ITEMS || entries.capacity() > MAX_SPARE_ITEMS {
        (*items, *entries) = (Vec::new(), Vec::new());
    }
    value.filter(|_| whole)
}

/// What a thread's reader keeps from one text to the next.
struct Spare {
    /// The list items buffer ([`Reader::items`]).
    items: Vec<Value>,
    /// The map entries buffer ([`Reader::entries`]).
    entries: Vec<Entry>,
    /// The keys of the last maps read ([`Reader::keys`]).
    keys: KeyGuesses,
}

impl Spare {
    /// Empty buffers, no guesses (no allocation).
    const fn new() -> Self {
        Spare {
            items: Vec::new(),
            entries: Vec::new(),
            keys: KeyGuesses::new(),
        }
    }
}

thread_local! {
    /// The buffers and guesses of the last text read on this thread.
    static SPARE: std::cell::RefCell<Spare> = const { std::cell::RefCell::new(Spare::new()) };
}

/// The largest list items or map entries buffer a thread keeps between texts (a huge list's is dropped, not kept).
const MAX_SPARE_ITEMS: usize = 4096;

/// The entries of `buffer` from `first` on, moved (one copy) into a vector sized to them.
fn take_tail<T>(buffer: &mut Vec<T>, first: usize) -> Vec<T> {
    if first == 0 {
        // `split_off(0)` would hand over the buffer itself, with all its spare room.
        let mut tail = Vec::with_capacity(buffer.len());
        tail.append(buffer);
        tail
    } else {
        buffer.split_off(first)
    }
}

/// A text that is only an integer of at most 18 digits (so it fits `i64`), the line of a stream of
/// numbers, read in one pass over its digits. `-0` is a float to serde_json: not this.
#[inline]
pub(super) fn bare_integer(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 18 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    let mut magnitude: i64 = 0;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        magnitude = magnitude * 10 + i64::from(digit);
    }
    match (negative, magnitude) {
        (true, 0) => None,
        (true, _) => Some(-magnitude),
        (false, _) => Some(magnitude),
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: u32,
    /// The items of the lists being read, innermost last: one buffer for all of them, so a
    /// list costs one allocation (its `Arc<[Value]>`), not a `Vec` and then a copy.
    items: &'a mut Vec<Value>,
    /// The entries of the maps being read, innermost last, the same way: a map is sorted in
    /// place here and leaves as one allocation sized to it.
    entries: &'a mut Vec<Entry>,
    /// The key most likely at each depth and position of a map: the last one read there.
    keys: &'a mut KeyGuesses,
}

/// A map entry being read.
type Entry = (Arc<str>, Value);

impl<'a> Reader<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    #[inline]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Consumes `byte` (after whitespace) or gives up.
    #[inline]
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string().map(|s| Value::Str(key_cache::string(&s))),
            b'{' => self.nested(Self::map),
            b'[' => self.nested(Self::list),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Option<Value> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| {
            self.at = end;
            value
        })
    }

    /// One level deeper for a map or list, within [`MAX_DEPTH`].
    fn nested(&mut self, read: fn(&mut Self) -> Option<Value>) -> Option<Value> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        self.at += 1; // the opening bracket
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn map(&mut self) -> Option<Value> {
        let first = self.entries.len();
        self.skip_whitespace();
        if self.peek()? != b'}' {
            loop {
                self.skip_whitespace();
                if self.peek()? != b'"' {
                    return None;
                }
                let position = self.entries.len() - first;
                let guessed = self
                    .keys
                    .take(self.depth, position, &self.bytes[self.at + 1..]);
                let key = match guessed {
                    Some((key, taken)) => {
                        self.at += 1 + taken;
                        key
                    }
                    None => {
                        let key = key_cache::key(&self.string()?);
                        self.keys.remember(self.depth, position, &key);
                        key
                    }
                };
                self.expect(b':')?;
                self.skip_whitespace();
                let value = self.value()?;
                self.entries.push((key, value));
                self.skip_whitespace();
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        self.at += 1;
        // Like serde_json's visitor: a repeated key keeps its last value. A map this thread
        // emptied after writing it holds the entries when there is one (see `map_pool.rs`).
        let mut map = map_pool::empty_map();
        match Arc::get_mut(&mut map) {
            Some(empty) => empty.refill_from_unsorted(self.entries.drain(first..)),
            None => {
                map = Arc::new(Map::from_unsorted(take_tail(self.entries, first)));
            }
        }
        Some(Value::Map(map))
    }

    fn list(&mut self) -> Option<Value> {
        let first = self.items.len();
        self.skip_whitespace();
        if self.peek()? != b']' {
            loop {
                self.skip_whitespace();
                let item = self.value()?;
                self.items.push(item);
                self.skip_whitespace();
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => break,
                    _ => return None,
                }
            }
        }
        self.at += 1;
        Some(Value::List(map_pool::list_of(self.items.drain(first..))))
    }

    /// A string at `"`: borrowed from the text when it has no escape.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at + 1;
        let rest = &self.bytes[start..];
        let plain = first_special(rest)?;
        if rest[plain] == b'"' {
            self.at = start + plain + 1;
            // Both ends sit at ASCII bytes of a `str`: char boundaries.
            return Some(Cow::Borrowed(&self.text[start..start + plain]));
        }
        let mut owned = String::from(&self.text[start..start + plain]);
        self.at = start + plain;
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(Cow::Owned(owned));
                }
                b'\\' => {
                    let (escaped, length) = match *self.bytes.get(self.at + 1)? {
                        b'"' => ('"', 2),
                        b'\\' => ('\\', 2),
                        b'/' => ('/', 2),
                        b'b' => ('\u{8}', 2),
                        b'f' => ('\u{c}', 2),
                        b'n' => ('\n', 2),
                        b'r' => ('\r', 2),
                        b't' => ('\t', 2),
                        b'u' => {
                            let hex = self.text.get(self.at + 2..self.at + 6)?;
                            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                                return None;
                            }
                            // A surrogate (half of a pair, or alone) is serde_json's to judge.
                            (char::from_u32(u32::from_str_radix(hex, 16).ok()?)?, 6)
                        }
                        _ => return None,
                    };
                    owned.push(escaped);
                    self.at += length;
                }
                b if b < 0x20 => return None,
                _ => {
                    let from = self.at;
                    let run = first_special(&self.bytes[from..])?;
                    owned.push_str(&self.text[from..from + run]);
                    self.at = from + run;
                }
            }
        }
    }

    /// An integer of at most 18 digits, or a float whose digits and exponent let one exact
    /// multiplication or division round it (the same result serde_json gets); else `None`.
    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let int_start = self.at;
        let mut significand: u64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            significand = significand * 10 + u64::from(digit - b'0');
            self.at += 1;
            if self.at - int_start > 18 {
                return None;
            }
        }
        let int_digits = self.at - int_start;
        if int_digits == 0 || (int_digits > 1 && self.bytes[int_start] == b'0') {
            return None;
        }
        let mut digits = int_digits;
        let mut exponent: i32 = 0;
        let mut float = false;
        if self.peek() == Some(b'.') {
            float = true;
            self.at += 1;
            let fraction_start = self.at;
            while let Some(digit @ b'0'..=b'9') = self.peek() {
                significand = significand * 10 + u64::from(digit - b'0');
                self.at += 1;
                digits += 1;
                if digits > 15 {
                    return None;
                }
            }
            if self.at == fraction_start {
                return None;
            }
            exponent = -((self.at - fraction_start) as i32);
        }
        if let Some(b'e' | b'E') = self.peek() {
            float = true;
            self.at += 1;
            let minus = match self.peek() {
                Some(b'-') => {
                    self.at += 1;
                    true
                }
                Some(b'+') => {
                    self.at += 1;
                    false
                }
                _ => false,
            };
            let exp_start = self.at;
            let mut written: i32 = 0;
            while let Some(digit @ b'0'..=b'9') = self.peek() {
                written = written
                    .saturating_mul(10)
                    .saturating_add(i32::from(digit - b'0'));
                self.at += 1;
            }
            if self.at == exp_start {
                return None;
            }
            exponent += if minus { -written } else { written };
        }
        if !float {
            // `-0` is a float to serde_json; leave it to it.
            if negative && significand == 0 {
                return None;
            }
            let magnitude = significand as i64; // at most 18 digits: fits
            return Some(Value::Int(if negative { -magnitude } else { magnitude }));
        }
        if digits > 15 || exponent.unsigned_abs() as usize >= POW10.len() {
            return None;
        }
        debug_assert!(self.at > start);
        let power = POW10[exponent.unsigned_abs() as usize];
        let magnitude = if exponent >= 0 {
            significand as f64 * power
        } else {
            significand as f64 / power
        };
        Some(Value::Float(if negative { -magnitude } else { magnitude }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::wire::tests::same;
    use proptest::prelude::*;

    /// serde_json's reading of `text` (the path every text took before this reader).
    fn serde(text: &str) -> Option<Value> {
        serde_json::from_str::<Value>(text).ok()
    }

    fn agrees(text: &str) {
        if let Some(ours) = parse(text) {
            let theirs = serde(text).unwrap_or_else(|| panic!("serde_json refuses {text:?}"));
            assert!(same(&ours, &theirs), "{text:?}: {ours:?} vs {theirs:?}");
        }
    }

    #[test]
    fn reads_the_lines_of_a_stream() {
        let v = parse(r#" {"id":7,"name":"item-7","tags":["a","b\n\u00e9"],"value":-3.25e2} "#)
            .unwrap();
        assert_eq!(
            v.to_string(),
            r#"{"id": 7, "name": "item-7", "tags": ["a", "b\né"], "value": -325.0}"#
        );
        for text in [
            "[]",
            "{}",
            "[true,false,null]",
            "0",
            "-1",
            "1.5",
            "[[[]]]",
            r#""\/""#,
        ] {
            assert!(parse(text).is_some(), "{text}");
            agrees(text);
        }
    }

    #[test]
    fn leaves_everything_unusual_to_serde_json() {
        for text in [
            "",
            " ",
            "01",
            "-",
            "-0",
            "1.",
            ".5",
            "1e",
            "1e400",
            "12345678901234567890",
            "0.1234567890123456",
            r#""\ud800""#,
            r#""a"#,
            "\"\u{1}\"",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "[1] x",
            "tru",
            "nul",
            r#"{"a":1"#,
            r#""\x""#,
            r#""\u12""#,
        ] {
            assert!(parse(text).is_none(), "{text:?}");
        }
        let deep = format!("{}{}", "[".repeat(101), "]".repeat(101));
        assert!(parse(&deep).is_none());
        let within = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse(&within).is_some());
    }

    #[test]
    fn repeated_keys_keep_the_last_value_like_serde_json() {
        agrees(r#"{"a":1,"b":2,"a":3}"#);
        assert_eq!(
            parse(r#"{"a":1,"a":3}"#).unwrap().to_string(),
            r#"{"a": 3}"#
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Whatever this reader accepts, serde_json reads the same, bit for bit; and every
        /// value it writes, this reader reads back (when the value is plain enough).
        #[test]
        fn agrees_with_serde_json(v in crate::value::wire::tests::value()) {
            if let Ok(text) = serde_json::to_string(&v) {
                agrees(&text);
                if let Ok(pretty) = serde_json::to_string_pretty(&v) {
                    agrees(&pretty);
                }
            }
        }

        /// Objects whose keys come in any order and repeat read as the `BTreeMap` of their pairs
        /// (last value wins), by this reader and by serde_json, and write in key order.
        #[test]
        fn unordered_and_repeated_keys_read_like_a_btreemap(
            pairs in proptest::collection::vec(
                (0usize..6, any::<i32>(), proptest::collection::vec((0usize..6, any::<i32>()), 0..5)),
                0..10,
            ),
        ) {
            const KEYS: [&str; 6] = ["b", "a", "ab", "", r"\u00e9", "B"];
            let object = |pairs: &mut dyn Iterator<Item = (usize, String)>| {
                let body: Vec<String> = pairs.map(|(k, v)| format!("\"{}\": {v}", KEYS[k])).collect();
                format!("{{{}}}", body.join(", "))
            };
            let text = object(&mut pairs.iter().map(|(k, v, inner)| {
                let value = if inner.is_empty() {
                    v.to_string()
                } else {
                    object(&mut inner.iter().map(|(k, v)| (*k, v.to_string())))
                };
                (*k, value)
            }));
            let model: std::collections::BTreeMap<String, serde_json::Value> = pairs
                .iter()
                .map(|(k, v, inner)| {
                    let value = if inner.is_empty() {
                        serde_json::Value::from(*v)
                    } else {
                        let inner: std::collections::BTreeMap<String, i32> = inner
                            .iter()
                            .map(|(k, v)| (serde_json::from_str(&format!("\"{}\"", KEYS[*k])).unwrap(), *v))
                            .collect();
                        serde_json::to_value(inner).unwrap()
                    };
                    (serde_json::from_str(&format!("\"{}\"", KEYS[*k])).unwrap(), value)
                })
                .collect();
            let expected = serde_json::to_string(&model).unwrap();
            let written = |v: &Value| {
                let mut out = Vec::new();
                crate::value::write_json(v, &mut out).unwrap();
                String::from_utf8(out).unwrap()
            };
            let ours = parse(&text).unwrap_or_else(|| panic!("refused {text}"));
            prop_assert_eq!(written(&ours), expected.clone());
            prop_assert_eq!(written(&serde(&text).unwrap()), expected);
        }

        #[test]
        fn numbers_agree_with_serde_json(
            int in "-?(0|[1-9][0-9]{0,19})",
            fraction in "(\\.[0-9]{1,17})?",
            exponent in "([eE][+-]?[0-9]{1,3})?",
        ) {
            agrees(&format!("{int}{fraction}{exponent}"));
        }

        #[test]
        fn damaged_texts_agree_with_serde_json(
            v in crate::value::wire::tests::value(),
            cut in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            if let Ok(text) = serde_json::to_string(&v) {
                let mut bytes = text.into_bytes();
                if !bytes.is_empty() {
                    let at = cut.index(bytes.len());
                    bytes[at] = byte;
                }
                if let Ok(text) = String::from_utf8(bytes) {
                    agrees(&text);
                }
            }
        }
    }
}

#[cfg(test)]
mod sharing_tests {
    use super::*;

    #[test]
    fn short_repeated_strings_of_a_stream_share_one_allocation() {
        let tag = |i: u64| {
            let line = format!(
                r#"{{"id":{i},"name":"item-{i}","tags":["a","b{}"],"value":1}}"#,
                i % 7
            );
            let v = parse(&line).unwrap();
            match v.get("tags") {
                Some(Value::List(items)) => match &items[0] {
                    Value::Str(s) => s.clone(),
                    _ => unreachable!(),
                },
                _ => unreachable!(),
            }
        };
        // A value is kept when it comes a second time (see `key_cache`): from then on, shared.
        let _first = tag(0);
        let kept = tag(1);
        let mut shared = 0;
        for i in 2..2000 {
            shared += usize::from(Arc::ptr_eq(&kept, &tag(i)));
        }
        assert!(shared > 1990, "{shared}");
    }
}
