//! `Value` to compact JSON text in one pass, without serde: what `pipeline run` does for every
//! output, so it skips serde's generic serializer and the separate walk that looked for floats
//! JSON cannot carry. The text is byte for byte what `serde_json::to_writer` writes (a property
//! test holds it there); floats and bytes, rarer, still go through serde_json for its exact
//! formatting.

use super::json_special::{first_special, specials_in};
use super::Value;
use std::cell::RefCell;
use std::sync::Arc;

/// A float JSON cannot carry was met; `out` holds a partial text the caller must drop.
pub(crate) struct NonFinite;

/// Appends `value` as compact JSON to `out`.
#[inline]
pub(crate) fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), NonFinite> {
    match value {
        // The line of a stream of numbers, without a call.
        Value::Int(i) => {
            write_int(*i, out);
            Ok(())
        }
        Value::List(_) | Value::Map(_) => KEY_TEXTS.with(|keys| match keys.try_borrow_mut() {
            Ok(mut keys) => write_value(value, out, &mut keys),
            // Only if writing re-entered itself (it does not): write without the table.
            Err(_) => write_value(value, out, &mut KeyTexts::default()),
        }),
        // A plain value (the line of a stream of numbers) has no keys: no table to look up.
        _ => write_value(value, out, &mut KeyTexts::default()),
    }
}

fn write_value(value: &Value, out: &mut Vec<u8>, keys: &mut KeyTexts) -> Result<(), NonFinite> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => write_int(*i, out),
        Value::Float(f) if !f.is_finite() => return Err(NonFinite),
        Value::Float(_) | Value::Bytes(_) => {
            serde_json::to_writer(&mut *out, value).map_err(|_| NonFinite)?
        }
        Value::Str(s) => write_str(s, out),
        Value::List(items) => {
            out.push(b'[');
            if let Some((first, rest)) = items.split_first() {
                write_item(first, out, keys)?;
                for item in rest {
                    out.push(b',');
                    write_item(item, out, keys)?;
                }
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            if let Some(((key, item), rest)) = entries.as_slice().split_first() {
                keys.write(key, out);
                write_item(item, out, keys)?;
                for (key, item) in rest {
                    out.push(b',');
                    keys.write(key, out);
                    write_item(item, out, keys)?;
                }
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// A list item or map value: ints and strings, most of them, written here without the recursive
/// call (and its saving and restoring of registers) that a nested value needs.
#[inline(always)]
fn write_item(value: &Value, out: &mut Vec<u8>, keys: &mut KeyTexts) -> Result<(), NonFinite> {
    match value {
        Value::Int(i) => write_int(*i, out),
        Value::Str(s) => write_str(s, out),
        _ => return write_value(value, out, keys),
    }
    Ok(())
}

thread_local! {
    static KEY_TEXTS: RefCell<KeyTexts> = const { RefCell::new(KeyTexts { slots: Vec::new() }) };
}

/// Slots of [`KeyTexts`] (a power of two).
const KEY_SLOTS: usize = 64;

/// Map keys as written (`"key":`), found by the address of the key they were written from: a
/// stream's maps share their keys ([`key_cache`](super::key_cache)), so each is escaped once and
/// then copied whole. A slot holds a clone of its key, so while it is there no other string can
/// have that address; only shared keys are kept (a key no one else holds is not met again).
#[derive(Default)]
struct KeyTexts {
    slots: Vec<Option<KeyText>>,
}

/// The longest key text kept, in bytes (`"`, the key escaped, `":`).
const KEY_TEXT_BYTES: usize = 32;

/// A key and its text as written, in a fixed room: it is copied out whole (a few moves, not a
/// call to `memcpy`) and the copy cut to `len`.
struct KeyText {
    key: Arc<str>,
    text: [u8; KEY_TEXT_BYTES],
    len: usize,
}

impl KeyTexts {
    #[inline]
    fn write(&mut self, key: &Arc<str>, out: &mut Vec<u8>) {
        let address = Arc::as_ptr(key) as *const u8 as usize;
        let at = ((address >> 4).wrapping_mul(0x9e37_79b9) >> 20) & (KEY_SLOTS - 1);
        if let Some(Some(kept)) = self.slots.get(at) {
            if Arc::ptr_eq(&kept.key, key) {
                let start = out.len();
                out.extend_from_slice(&kept.text);
                out.truncate(start + kept.len);
                return;
            }
        }
        self.write_new(key, at, out);
    }

    /// [`write`](Self::write) of a key not in its slot: written, and kept there when shared and
    /// short.
    #[inline(never)]
    fn write_new(&mut self, key: &Arc<str>, at: usize, out: &mut Vec<u8>) {
        if self.slots.is_empty() {
            self.slots.resize_with(KEY_SLOTS, || None);
        }
        let start = out.len();
        write_str(key, out);
        out.push(b':');
        let len = out.len() - start;
        if Arc::strong_count(key) > 1 && len <= KEY_TEXT_BYTES {
            let mut text = [0; KEY_TEXT_BYTES];
            text[..len].copy_from_slice(&out[start..]);
            self.slots[at] = Some(KeyText {
                key: Arc::clone(key),
                text,
                len,
            });
        }
    }
}

/// `00` to `99`, two bytes each: an integer is written two digits per division.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `i` in decimal: made right to left at the middle of a buffer, then copied to `out` as a
/// fixed 20 bytes from its first digit and cut to its width, so the copy is two moves, not a call
/// to `memcpy` for a few bytes (which cost a third as much as making them: callgrind, a million
/// int lines).
#[inline(always)]
pub(super) fn write_int(i: i64, out: &mut Vec<u8>) {
    // The longest, `i64::MIN`, is 20 bytes; they end at `END`, and 20 bytes follow any start.
    const END: usize = 20;
    let mut digits = [0u8; 2 * END];
    let mut n = i.unsigned_abs();
    let mut at = END;
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        digits[at] = b'0' + n as u8;
    }
    if i < 0 {
        at -= 1;
        digits[at] = b'-';
    }
    let start = out.len();
    out.extend_from_slice(&digits[at..at + END]);
    out.truncate(start + END - at);
}

/// A JSON string as serde_json writes it: `"` and `\` escaped, the short escapes for `\b`, `\t`,
/// `\n`, `\f`, `\r`, other control characters as `\u00XX`, everything else (non-ASCII
/// included) as is.
///
/// A string of at most 16 bytes with nothing to escape (most of a stream's) is put together in
/// a fixed room, quotes included, by a few overlapping moves, checked in two words, and copied
/// out whole and cut to its width: no loop over its bytes and no call to `memcpy`.
#[inline(always)]
fn write_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    let len = bytes.len();
    if len <= 16 {
        // Spaces (not escaped) where the string does not reach.
        let mut room = [b' '; 24];
        let text = &mut room[1..17];
        match len {
            0 => {}
            1..=3 => {
                text[0] = bytes[0];
                text[len / 2] = bytes[len / 2];
                text[len - 1] = bytes[len - 1];
            }
            4..=7 => {
                text[..4].copy_from_slice(&bytes[..4]);
                text[len - 4..len].copy_from_slice(&bytes[len - 4..]);
            }
            _ => {
                text[..8].copy_from_slice(&bytes[..8]);
                text[len - 8..len].copy_from_slice(&bytes[len - 8..]);
            }
        }
        let word = |at: usize| u64::from_le_bytes(room[at..at + 8].try_into().expect("8 bytes"));
        if specials_in(word(1)) | specials_in(word(9)) == 0 {
            room[0] = b'"';
            room[len + 1] = b'"';
            let start = out.len();
            out.extend_from_slice(&room);
            out.truncate(start + len + 2);
            return;
        }
    }
    write_escaped_str(s, out);
}

/// [`write_str`] of a string longer than 16 bytes or with bytes to escape.
#[inline(never)]
fn write_escaped_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(offset) = first_special(&bytes[start..]) {
        let at = start + offset;
        out.extend_from_slice(&bytes[start..at]);
        let b = bytes[at];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
                start = at + 1;
                continue;
            }
        };
        out.extend_from_slice(escape);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn writes_what_serde_json_writes(v in crate::value::wire::tests::value()) {
            let mut ours = Vec::new();
            let non_finite = crate::value::json_text::first_non_finite(&v, &mut Vec::new());
            match write(&v, &mut ours) {
                Ok(()) => {
                    prop_assert!(non_finite.is_none());
                    prop_assert_eq!(
                        String::from_utf8(ours).unwrap(),
                        serde_json::to_string(&v).unwrap()
                    );
                }
                Err(NonFinite) => prop_assert!(non_finite.is_some()),
            }
        }
    }

    /// Shared keys are written from the table: right after their text is escaped, after other
    /// keys took their slot, and after a key was dropped and another took its address.
    #[test]
    fn shared_keys_write_what_serde_json_writes() {
        let check = |v: &Value| {
            let mut ours = Vec::new();
            assert!(write(v, &mut ours).is_ok());
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(v).unwrap()
            );
        };
        for round in 0..3 {
            let keys: Vec<Arc<str>> = (0..500)
                .map(|i| {
                    crate::value::key_cache::key(&format!("k{round}-{i}\"\n{}", "é".repeat(i % 5)))
                })
                .collect();
            for step in 0..2000usize {
                let pick = |n: usize| Arc::clone(&keys[(step * 7919 + n * 104_729) % keys.len()]);
                let inner = Value::map([(pick(2), Value::Int(step as i64))]);
                check(&Value::map([(pick(0), Value::Null), (pick(1), inner)]));
            }
            // Dropped here: the next round's keys may take the same addresses.
        }
    }

    /// Strings of every length around the short path's 16 bytes, plain or with a byte to escape
    /// (or a non-ASCII character) at each place, as keys and as values.
    #[test]
    fn short_strings_and_keys_write_what_serde_json_writes() {
        for len in 0..=20 {
            for at in 0..=len {
                for odd in ["", "\"", "\\", "\n", "\u{1}", "\u{1f}", "é", "\u{7f}", " "] {
                    let mut text = "k".repeat(len);
                    if at < len {
                        text.replace_range(at..at + 1, odd);
                    }
                    let key = crate::value::key_cache::key(&text);
                    let v = Value::map([(Arc::clone(&key), Value::from(text.as_str()))]);
                    for _ in 0..2 {
                        let mut ours = Vec::new();
                        assert!(write(&v, &mut ours).is_ok());
                        assert_eq!(
                            String::from_utf8(ours).unwrap(),
                            serde_json::to_string(&v).unwrap()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn edge_values_match_serde_json() {
        for v in [
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Int(0),
            Value::Int(-7),
            Value::from("\u{0}\u{1f}\u{7f}\"\\/\u{8}\u{c}é\n"),
            Value::map([("k\"", Value::list([Value::Null, Value::Bool(true)]))]),
        ]
        .into_iter()
        .chain([9, 10, 99, 100, 101, 999, -10, -99, -100].map(Value::Int))
        // Every width, at both of its ends, either sign.
        .chain((0..19).flat_map(|e| {
            let low = 10_i64.pow(e);
            let high = low.saturating_mul(10) - 1;
            [low, high, -low, -high].map(Value::Int)
        })) {
            let mut ours = Vec::new();
            assert!(write(&v, &mut ours).is_ok());
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&v).unwrap()
            );
        }
    }
}
