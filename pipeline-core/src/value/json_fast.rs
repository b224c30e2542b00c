//! A JSON reader straight into [`Value`], for the texts a JSON-lines stream is made of: objects,
//! lists, strings, small numbers. It only ever says "this text is exactly this value" or "not
//! mine": anything unusual (an error, a number that needs serde_json's own rounding or range
//! checks, a lone surrogate, deep nesting) returns `None`, and [`parse_json`](super::parse_json)
//! hands the text to serde_json, which accepts it or reports the error at its line and column.
//! So the answer for every text is serde_json's; this reader only gets there without serde's
//! generic visitor, a `String` per string, or a second walk looking for floats.

use super::json_special::{first_special, plain_string_of_len, specials_in};
use super::key_cache::same_bytes;
use super::key_cache::Table;
use super::key_guess::KeyGuesses;
use super::map_pool::Pool;
use super::map_shape::Shape;
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
    map_pool::with_pool(|pool| {
        SPARE.with(|spare| match spare.try_borrow_mut() {
            Ok(mut spare) => read_document(text, &mut spare, pool),
            Err(_) => read_document(text, &mut Spare::new(), pool),
        })
    })
}

/// [`parse_document`] with the buffers and guesses in `spare`, which it leaves empty (but for
/// the guesses), or fresh if they grew past [`MAX_SPARE_ITEMS`], and the kept maps, lists and
/// strings of `pool`.
fn read_document(text: &str, spare: &mut Spare, pool: &mut Pool) -> Option<Value> {
    let Spare {
        items,
        entries,
        keys,
        shape,
        strings,
    } = spare;
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
        items,
        entries,
        keys,
        shape: Some(shape),
        strings,
        pool,
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
    /// The keys of the last outermost map read ([`Reader::shape`]).
    shape: Shape,
    /// The short string values kept ([`Reader::strings`]).
    strings: Table,
}

impl Spare {
    /// Empty buffers, no guesses (no allocation).
    const fn new() -> Self {
        Spare {
            items: Vec::new(),
            entries: Vec::new(),
            keys: KeyGuesses::new(),
            shape: Shape::new(),
            strings: Table::values(),
        }
    }
}

thread_local! {
    /// The buffers and guesses of the last text read on this thread.
    static SPARE: std::cell::RefCell<Spare> = const { std::cell::RefCell::new(Spare::new()) };
}

/// The largest list items or map entries buffer a thread keeps between texts (a huge list's is dropped, not kept).
const MAX_SPARE_ITEMS: usize = 4096;

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

/// [`bare_integer`] of `text[line]`, its digits read as one word when `text` has eight bytes from
/// where they start (the line of a chunk of lines, followed by the next ones) and there are at
/// most eight of them.
#[inline]
pub(super) fn bare_integer_in(text: &[u8], line: std::ops::Range<usize>) -> Option<i64> {
    let bytes = &text[line.clone()];
    let negative = bytes.first() == Some(&b'-');
    let first = line.start + usize::from(negative);
    let len = line.end - first;
    let word = match text.get(first..first + 8) {
        Some(word) if (1..=8).contains(&len) => u64::from_le_bytes(word.try_into().ok()?),
        _ => return bare_integer(bytes),
    };
    // A leading zero makes a longer text a float or an error to serde_json.
    if len > 1 && word & 0xFF == u64::from(b'0') {
        return None;
    }
    let magnitude = super::eight_digits::eight_digits(word, len)? as i64;
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
    /// The keys of the last outermost map read, in the order its text gave them (out while a
    /// map of that shape is read: see [`map`](Self::map)).
    shape: Option<&'a mut Shape>,
    /// Short string values seen before, shared (see [`key_cache`]).
    strings: &'a mut Table,
    /// The thread's kept maps, lists and strings, filled again here (see [`map_pool`]).
    pool: &'a mut Pool,
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
            b'"' => self.string_value(),
            b'{' => self.nested(Self::map),
            b'[' => self.nested(Self::list),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// A map value or list item: [`value`](Self::value), with a string or a plain integer (most
    /// of them) read here, without the call to `value` (and its saving and restoring of
    /// registers, a sixth of what reading an int costs).
    #[inline(always)]
    fn item(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string_value(),
            b'0'..=b'9' => self.plain_int().or_else(|| self.number()),
            _ => self.value(),
        }
    }

    /// [`item`](Self::item) read into `slot`, the value a kept map had there: a string of the
    /// same text is kept as it is, one of the same length no one else holds gets the new bytes,
    /// and a list no one else holds gets its items read in place when they are as many: a line
    /// of a stream of records costs no string or list made, kept or shared. Anything else is
    /// read as [`item`](Self::item) reads it, and the old value goes to the pool.
    #[inline(always)]
    fn item_into(&mut self, slot: &mut Value) -> Option<()> {
        match (self.peek()?, &mut *slot) {
            (b'"', Value::Str(old)) => {
                let start = self.at + 1;
                let rest = &self.bytes[start..];
                let len = old.len();
                // The same length of plain text, then the closing quote.
                if plain_string_of_len(rest, len) {
                    let text = &rest[..len];
                    if !same_bytes(old.as_bytes(), text) {
                        let Some(room) = Arc::get_mut(old) else {
                            let value = self.string_value()?;
                            return self.put(slot, value);
                        };
                        // SAFETY: `text` lies between two ASCII `"` of a `str`: UTF-8, and
                        // exactly `room`'s length, which it replaces whole.
                        unsafe { room.as_bytes_mut() }.copy_from_slice(text);
                    }
                    self.at = start + len + 1;
                    return Some(());
                }
                let value = self.string_value()?;
                self.put(slot, value)
            }
            (b'[', Value::List(old)) => match Arc::get_mut(old) {
                Some(items) => {
                    let begin = self.at;
                    if self.list_in_place(items)? {
                        return Some(());
                    }
                    // Not as many items: read again, into a new list.
                    self.at = begin;
                    let value = self.nested(Self::list)?;
                    self.put(slot, value)
                }
                None => {
                    let value = self.nested(Self::list)?;
                    self.put(slot, value)
                }
            },
            _ => {
                let value = self.item()?;
                self.put(slot, value)
            }
        }
    }

    /// Reads the list at `[` into `items` when it has exactly as many (`Some(true)`);
    /// `Some(false)` when not (with `items` partly written over).
    fn list_in_place(&mut self, items: &mut [Value]) -> Option<bool> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        self.at += 1;
        let mut read = 0;
        self.skip_whitespace();
        let fits = if self.peek()? == b']' {
            items.is_empty()
        } else {
            loop {
                let Some(slot) = items.get_mut(read) else {
                    break false;
                };
                self.skip_whitespace();
                self.item_into(slot)?;
                read += 1;
                self.skip_whitespace();
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => break read == items.len(),
                    _ => return None,
                }
            }
        };
        self.at += 1;
        self.depth -= 1;
        Some(fits)
    }

    /// Puts `value` in `slot`, the old value's list or string kept in the pool.
    #[inline(always)]
    fn put(&mut self, slot: &mut Value, value: Value) -> Option<()> {
        match std::mem::replace(slot, value) {
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
            other => self.pool.keep_value(other),
        }
        Some(())
    }

    /// A string value at `"`, shared through the [`key_cache`] when short: when it has no escape,
    /// read here, else by [`string`](Self::string).
    #[inline(always)]
    fn string_value(&mut self) -> Option<Value> {
        let start = self.at + 1;
        let rest = &self.bytes[start..];
        // Most values end within their first eight bytes: looked for here, in one word.
        let plain = match rest
            .first_chunk::<8>()
            .map(|head| specials_in(u64::from_le_bytes(*head)))
        {
            Some(0) => 8 + first_special(&rest[8..])?,
            Some(hits) => (hits.trailing_zeros() / 8) as usize,
            None => first_special(rest)?,
        };
        if rest[plain] == b'"' {
            self.at = start + plain + 1;
            // SAFETY: `start` follows an ASCII `"` of `text` (a `str`) and `start + plain` is at
            // one: both are char boundaries, so the bytes between are UTF-8. (Said here: the
            // checked slice is a call per string that checks both ends again.)
            let text = unsafe { std::str::from_utf8_unchecked(&rest[..plain]) };
            return Some(Value::Str(self.strings.value(text, self.pool)));
        }
        let text = self.string()?;
        Some(Value::Str(self.strings.value(&text, self.pool)))
    }

    /// A non-negative integer of at most 18 digits, not followed by a fraction or an exponent
    /// (then it is a float): read in one pass. `None` (the reader where it was) for any other
    /// number, which [`number`](Self::number) reads.
    #[inline(always)]
    fn plain_int(&mut self) -> Option<Value> {
        let start = self.at;
        let mut at = start;
        let mut magnitude: u64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.bytes.get(at).copied() {
            magnitude = magnitude
                .wrapping_mul(10)
                .wrapping_add(u64::from(digit - b'0'));
            at += 1;
        }
        let digits = at - start;
        let whole = !matches!(self.bytes.get(at), Some(b'.' | b'e' | b'E'));
        if digits <= 18 && (digits == 1 || self.bytes[start] != b'0') && whole {
            self.at = at;
            return Some(Value::Int(magnitude as i64)); // at most 18 digits: fits
        }
        None
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
        // A kept map no one else holds (see `map_pool.rs`), or a new one.
        let mut map = self.pool.kept_map();
        let room = Arc::get_mut(&mut map)?;
        self.skip_whitespace();
        if self.depth == 1 {
            // Taken out of the reader (a pointer) while the values read borrow it.
            if let Some(shape) = self.shape.take() {
                let filled = match shape.is_empty() {
                    true => Some(false),
                    false => self.fill_shaped(shape, room, first),
                };
                self.shape = Some(shape);
                if filled? {
                    return Some(Value::Map(map));
                }
            }
        }
        if self.peek()? == b'}' {
            self.at += 1;
        } else {
            self.pairs(first)?;
        }
        // The kept map's values (a line of other keys read into it) go back to the pool.
        self.pool.release_values(room);
        // Like serde_json's visitor: a repeated key keeps its last value.
        room.clear();
        if let (1, Some(shape)) = (self.depth, &mut self.shape) {
            shape.record(&self.entries[first..]);
        }
        room.refill_from_unsorted(self.entries.drain(first..));
        Some(Value::Map(map))
    }

    /// Reads the pairs of a map, at its first key's `"`, to its closing `}`, into
    /// [`entries`](Self::entries) (after `first`, the map's pairs read so far).
    fn pairs(&mut self, first: usize) -> Option<()> {
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
            let value = self.item()?;
            self.entries.push((key, value));
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => break,
                _ => return None,
            }
        }
        self.at += 1;
        Some(())
    }

    /// Reads the pairs of a map (after its `{` and any whitespace) whose keys come as `shape`
    /// has them, each value straight into its place in `room`. `Some(true)`: the whole map, to
    /// its `}`. `Some(false)`: the text parted from the shape, at a key's `"` or at the `}`; the
    /// pairs read so far are moved to [`entries`](Self::entries) (from `first`), in text order,
    /// for the general way to go on from there.
    fn fill_shaped(&mut self, shape: &Shape, room: &mut Map, first: usize) -> Option<bool> {
        let pool = &mut *self.pool;
        room.set_keys(
            shape.sorted(),
            || Value::Null,
            |value| pool.keep_value(value),
        );
        let mut position = 0;
        if self.peek()? != b'}' {
            loop {
                self.skip_whitespace();
                if self.peek()? != b'"' {
                    return None;
                }
                let Some((place, taken)) = shape.take(position, &self.bytes[self.at + 1..]) else {
                    break;
                };
                self.at += 1 + taken;
                self.expect(b':')?;
                self.skip_whitespace();
                // Into the value the kept map had there (the last line's, mostly of the same
                // kinds and lengths): see `item_into`.
                self.item_into(room.value_at_mut(place))?;
                position += 1;
                self.skip_whitespace();
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' if position == shape.len() => {
                        self.at += 1;
                        return Some(true);
                    }
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        debug_assert_eq!(self.entries.len(), first);
        for read in 0..position {
            let (key, place) = shape.key(read);
            let value = std::mem::take(room.value_at_mut(place));
            self.entries.push((Arc::clone(key), value));
        }
        Some(false)
    }

    fn list(&mut self) -> Option<Value> {
        let first = self.items.len();
        self.skip_whitespace();
        if self.peek()? != b']' {
            loop {
                self.skip_whitespace();
                let item = self.item()?;
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
        Some(Value::List(self.pool.list_of(self.items.drain(first..))))
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

        /// A line read inside a chunk, whatever follows it, reads as the line alone does (signs,
        /// leading zeros, `-0`, lengths either side of a word's eight digits, stray bytes).
        #[test]
        fn a_line_in_a_chunk_reads_as_the_line_alone(
            line in "-?[0-9]{0,12}|[0-9a -]{0,10}",
            after in proptest::collection::vec(any::<u8>(), 0..10),
            before in 0usize..3,
        ) {
            let mut chunk = vec![b'\n'; before];
            chunk.extend_from_slice(line.as_bytes());
            chunk.extend_from_slice(&after);
            let within = bare_integer_in(&chunk, before..before + line.len());
            prop_assert_eq!(within, bare_integer(line.as_bytes()));
        }

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

        /// Lines read one after another on one thread, each handed back to the thread's pool
        /// once read (as `pipeline run` does, so the next map is filled in place): shapes that
        /// change between lines, repeat or stop short of the last line's, keys that repeat,
        /// keys out of order or with escapes, maps nested in the outer one.
        #[test]
        fn lines_of_changing_shapes_read_like_serde_json(
            shapes in proptest::collection::vec(
                proptest::collection::vec(
                    (0usize..6, proptest::option::of(proptest::collection::vec(0usize..6, 0..4))),
                    0..7,
                ),
                1..4,
            ),
            lines in proptest::collection::vec((0usize..4, proptest::option::of(0usize..7)), 1..24),
        ) {
            const KEYS: [&str; 6] = ["id", "name", "tags", "value", r#"a\"b"#, "b"];
            for (n, (shape, cut)) in lines.iter().enumerate() {
                let pairs = &shapes[shape % shapes.len()];
                let pairs = &pairs[..cut.map_or(pairs.len(), |cut| cut.min(pairs.len()))];
                let body: Vec<String> = pairs
                    .iter()
                    .enumerate()
                    .map(|(k, (key, inner))| {
                        // Kinds and lengths change from line to line, so a value is read
                        // into the last line's value of another kind or length too.
                        let value = match (inner, (n + k) % 6) {
                            (Some(inner), _) => {
                                let inner: Vec<String> = inner
                                    .iter()
                                    .map(|key| format!("\"{}\": {n}", KEYS[*key]))
                                    .collect();
                                format!("{{{}}}", inner.join(","))
                            }
                            (None, 0) => n.to_string(),
                            (None, 1) => format!("\"item-{n}\""),
                            (None, 2) => format!("[\"a\", \"b{}\"]", n % 3),
                            (None, 3) => {
                                let mut items: Vec<String> =
                                    (0..n % 4).map(|i| format!("\"c{}\"", n % (i + 2))).collect();
                                items.push(format!("[{n}]"));
                                format!("[{}]", items.join(", "))
                            }
                            (None, 4) => format!("\"q\\\"{}\"", n % 2),
                            (None, _) => format!("[{}, \"{}\"]", n % 5, "x".repeat(n % 3)),
                        };
                        format!("\"{}\":{value}", KEYS[*key])
                    })
                    .collect();
                let text = format!("{{{}}}", body.join(", "));
                let ours = parse(&text).unwrap_or_else(|| panic!("refused {text}"));
                let theirs = serde(&text).unwrap();
                prop_assert!(same(&ours, &theirs), "{}: {:?} vs {:?}", text, ours, theirs);
                crate::value::recycle_values(&mut vec![ours]);
            }
        }

        /// A stream of records of one shape, some damaged at one byte, each read after the one
        /// before was handed back: a line that fails part way through a kept map's values (written
        /// over in place up to there) leaves nothing behind that the next line reads.
        #[test]
        fn damaged_records_in_a_stream_read_like_serde_json(
            lines in proptest::collection::vec(
                (
                    0u32..40,
                    0usize..4,
                    proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
                ),
                1..30,
            ),
        ) {
            for (n, tags, damage) in lines {
                let tags: Vec<String> =
                    (0..tags).map(|t| format!("\"t{}\"", n % (t as u32 + 2))).collect();
                let mut bytes = format!(
                    r#"{{"id":{n},"name":"item-{}","tags":[{}],"value":{}}}"#,
                    n % 12,
                    tags.join(","),
                    n % 7
                )
                .into_bytes();
                if let Some((at, byte)) = damage {
                    let at = at.index(bytes.len());
                    bytes[at] = byte;
                }
                let Ok(text) = String::from_utf8(bytes) else {
                    continue;
                };
                let ours = parse(&text);
                if let Some(ours) = &ours {
                    let theirs = serde(&text);
                    prop_assert!(
                        theirs.as_ref().is_some_and(|theirs| same(ours, theirs)),
                        "{}: {:?} vs {:?}", text, ours, theirs
                    );
                }
                crate::value::recycle_values(&mut ours.into_iter().collect());
            }
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

    /// A line of the last line's keys is read into the map that line's value handed back, keys
    /// and all; a line that parts from the shape (a key more, a key repeated, fewer keys, other
    /// keys) is read the general way, to the same value serde_json reads.
    #[test]
    fn a_line_of_the_last_shape_fills_the_map_handed_back() {
        let read = |text: &str| {
            let v = parse(text).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(v, theirs, "{text}");
            v
        };
        let first = read(r#"{"b":1,"a":"x","c":[1,2]}"#);
        let Value::Map(map) = &first else {
            unreachable!()
        };
        let (address, keys) = (Arc::as_ptr(map), map.keys().cloned().collect::<Vec<_>>());
        crate::value::recycle_values(&mut vec![first]);
        let second = read(r#"{"b":2,"a":"y","c":[3,4]}"#);
        let Value::Map(map) = &second else {
            unreachable!()
        };
        assert_eq!(
            Arc::as_ptr(map),
            address,
            "the map handed back, filled again"
        );
        assert!(map.keys().zip(&keys).all(|(k, kept)| Arc::ptr_eq(k, kept)));
        crate::value::recycle_values(&mut vec![second]);
        for text in [
            r#"{"b":3,"a":"z","c":[],"d":0}"#,
            r#"{"b":3,"a":"z","c":[],"b":4}"#,
            r#"{"b":3,"a":"z"}"#,
            r#"{"b":3,"a":"z"}"#,
            r#"{"b":3,"a":"z","c":null}"#,
            r#"{"c":1,"b":2,"a":3}"#,
            r#"{}"#,
            r#"{"b":{"b":1,"a":2},"a":{"a":1}}"#,
            r#"{"b":{"b":1,"a":2},"a":{"a":1}}"#,
        ] {
            let v = read(text);
            crate::value::recycle_values(&mut vec![v]);
        }
    }

    /// A line of the last line's keys is read into that line's values where kinds and lengths
    /// agree: its string of the same length gets the new bytes, its list of as many items gets
    /// the new items; a string or list of another length is made anew.
    #[test]
    fn a_line_of_the_last_shape_is_read_into_the_last_values() {
        let string_at = |v: &Value, key: &str| match v.get(key) {
            Some(Value::Str(s)) => Arc::as_ptr(s) as *const u8,
            other => panic!("{other:?}"),
        };
        let list_at = |v: &Value| match v.get("tags") {
            Some(Value::List(items)) => Arc::as_ptr(items) as *const Value,
            other => panic!("{other:?}"),
        };
        // Each line read as serde_json reads it; its string's and list's addresses.
        let read = |line: &str| {
            let value = parse(line).unwrap();
            assert_eq!(value, serde_json::from_str::<Value>(line).unwrap());
            let found = (string_at(&value, "name"), list_at(&value));
            crate::value::recycle_values(&mut vec![value]);
            found
        };
        let (name, tags) = read(r#"{"id":1,"name":"item-1","tags":["u1","b"],"x":"q"}"#);
        let second = read(r#"{"id":2,"name":"item-2","tags":["u2","c"],"x":"q"}"#);
        assert_eq!(second.0, name, "the same string, new bytes");
        assert_eq!(second.1, tags, "the same list, new items");
        let third = read(r#"{"id":3,"name":"item-10","tags":["u3"],"x":"q"}"#);
        assert_ne!(third.0, name, "a longer string: a new one");
        assert_ne!(third.1, tags, "fewer items: a new list");
    }

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
