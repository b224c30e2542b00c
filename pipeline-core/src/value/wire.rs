//! A compact binary encoding of [`Value`] that round-trips exactly: what crosses a process boundary
//! (isolated Python workers) without the cost and the losses of JSON text (bytes stay bytes, floats
//! keep every bit, NaN and infinities included).
//!
//! Each value is a tag byte, then its payload: ints are zigzag LEB128 varints, floats their 8
//! little-endian IEEE bytes, strings and bytes a varint length and the raw bytes, lists a varint
//! count and the items, maps a varint count and sorted `key, value` pairs. Decoding never trusts
//! the input: nesting deeper than [`MAX_DEPTH`], a length beyond the remaining bytes, invalid UTF-8,
//! a duplicate or unsorted map key, an unknown tag or trailing bytes are a [`WireError`] with the
//! byte offset, never a panic or a huge allocation.
//!
//! ```
//! use pipeline_core::value::wire;
//! use pipeline_core::Value;
//!
//! let value = Value::map([("n", Value::list([Value::Int(-3), Value::Float(f64::NAN)]))]);
//! let bytes = wire::encode_to_vec(&value);
//! let back = wire::decode(&bytes)?;
//! assert_eq!(wire::encode_to_vec(&back), bytes);
//! assert!(wire::decode(&bytes[..bytes.len() - 1]).is_err());
//! # Ok::<(), wire::WireError>(())
//! ```

use super::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// The deepest nesting of lists and maps [`decode`] accepts.
pub const MAX_DEPTH: usize = 512;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const BYTES: u8 = 6;
const LIST: u8 = 7;
const MAP: u8 = 8;

/// Why bytes are not a valid encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid encoded value at byte {}: {}",
            self.offset, self.message
        )
    }
}

impl std::error::Error for WireError {}

/// Appends the encoding of `value` to `out`.
///
/// ```
/// use pipeline_core::value::wire;
/// use pipeline_core::Value;
/// let mut out = Vec::new();
/// wire::encode(&Value::Int(1), &mut out);
/// assert_eq!(out, [3, 2]); // tag int, zigzag 1
/// ```
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Int(i) => {
            out.push(INT);
            put_varint(out, ((*i << 1) ^ (*i >> 63)) as u64);
        }
        Value::Float(x) => {
            out.push(FLOAT);
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        Value::Str(s) => {
            out.push(STR);
            put_bytes(out, s.as_bytes());
        }
        Value::Bytes(b) => {
            out.push(BYTES);
            put_bytes(out, b);
        }
        Value::List(items) => {
            out.push(LIST);
            put_varint(out, items.len() as u64);
            items.iter().for_each(|item| encode(item, out));
        }
        Value::Map(map) => {
            out.push(MAP);
            put_varint(out, map.len() as u64);
            for (key, item) in map.iter() {
                put_bytes(out, key.as_bytes());
                encode(item, out);
            }
        }
    }
}

/// The encoding of `value` in a new buffer.
///
/// ```
/// use pipeline_core::value::wire;
/// use pipeline_core::Value;
/// assert_eq!(wire::decode(&wire::encode_to_vec(&Value::from("hi"))), Ok(Value::from("hi")));
/// ```
pub fn encode_to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode(value, &mut out);
    out
}

/// Decodes exactly one value filling all of `input`.
///
/// ```
/// use pipeline_core::value::wire;
/// let err = wire::decode(&[3, 2, 0]).unwrap_err();
/// assert_eq!(err.to_string(), "invalid encoded value at byte 2: 1 trailing byte(s)");
/// ```
pub fn decode(input: &[u8]) -> Result<Value, WireError> {
    let mut reader = Reader::new(input);
    let value = reader.value()?;
    reader.finish()?;
    Ok(value)
}

/// An unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A varint length and the bytes.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Reads values and their parts from a byte slice, checking every length against what is left.
///
/// ```
/// use pipeline_core::value::wire::{self, Reader};
/// use pipeline_core::Value;
/// let mut bytes = wire::encode_to_vec(&Value::Int(1));
/// wire::encode(&Value::Null, &mut bytes);
/// let mut reader = Reader::new(&bytes);
/// assert_eq!(reader.value()?, Value::Int(1));
/// assert_eq!(reader.value()?, Value::Null);
/// reader.finish()?;
/// # Ok::<(), wire::WireError>(())
/// ```
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input, pos: 0 }
    }

    /// An error at the current offset.
    pub(crate) fn error(&self, message: impl fmt::Display) -> WireError {
        WireError {
            offset: self.pos,
            message: message.to_string(),
        }
    }

    /// Ok if every byte was read.
    pub fn finish(&self) -> Result<(), WireError> {
        match self.input.len() - self.pos {
            0 => Ok(()),
            n => Err(self.error(format_args!("{n} trailing byte(s)"))),
        }
    }

    /// The next byte.
    pub(crate) fn byte(&mut self) -> Result<u8, WireError> {
        let byte = *self
            .input
            .get(self.pos)
            .ok_or_else(|| self.error("unexpected end"))?;
        self.pos += 1;
        Ok(byte)
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.input.len() - self.pos {
            return Err(self.error(format_args!(
                "length {n} runs past the end ({} byte(s) left)",
                self.input.len() - self.pos
            )));
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    /// An unsigned LEB128 varint of at most 64 bits.
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.error("varint overflows 64 bits"));
            }
            n |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(self.error("varint overflows 64 bits"))
    }

    /// A count or length, bounded by the bytes left (every element takes at least one byte).
    pub(crate) fn len(&mut self) -> Result<usize, WireError> {
        let n = self.varint()?;
        let left = (self.input.len() - self.pos) as u64;
        if n > left {
            return Err(self.error(format_args!(
                "length {n} runs past the end ({left} byte(s) left)"
            )));
        }
        Ok(n as usize)
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn str(&mut self) -> Result<&'a str, WireError> {
        let n = self.len()?;
        let start = self.pos;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes).map_err(|e| WireError {
            offset: start + e.valid_up_to(),
            message: "invalid UTF-8 in a string".into(),
        })
    }

    /// The next value.
    pub fn value(&mut self) -> Result<Value, WireError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, WireError> {
        let tag_at = self.pos;
        Ok(match self.byte()? {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => {
                let z = self.varint()?;
                Value::Int(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            FLOAT => {
                let bytes = self.take(8)?;
                let bits = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
                Value::Float(f64::from_bits(bits))
            }
            STR => Value::Str(Arc::from(self.str()?)),
            BYTES => {
                let n = self.len()?;
                Value::Bytes(Arc::from(self.take(n)?))
            }
            LIST | MAP if depth >= MAX_DEPTH => {
                self.pos = tag_at;
                return Err(self.error(format_args!("nested deeper than {MAX_DEPTH} levels")));
            }
            LIST => {
                let n = self.len()?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value_at(depth + 1)?);
                }
                Value::List(items.into())
            }
            MAP => {
                let n = self.len()?;
                let mut entries: Vec<(Arc<str>, Value)> = Vec::with_capacity(n);
                let mut last: Option<Arc<str>> = None;
                for _ in 0..n {
                    let key_at = self.pos;
                    let key: Arc<str> = Arc::from(self.str()?);
                    if last.as_ref().is_some_and(|last| *last >= key) {
                        self.pos = key_at;
                        return Err(self.error(format_args!(
                            "map key {:?} is duplicate or out of order",
                            &*key
                        )));
                    }
                    let item = self.value_at(depth + 1)?;
                    last = Some(Arc::clone(&key));
                    entries.push((key, item));
                }
                // Keys were checked strictly ascending above.
                Value::Map(Arc::new(Map::from_sorted(entries)))
            }
            tag => {
                self.pos = tag_at;
                return Err(self.error(format_args!("unknown tag {tag}")));
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any value, NaN, infinities, bytes and deep nesting included (shared with other value
    /// tests).
    pub(crate) fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>().prop_map(Value::Float),
            prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-0.0)].prop_map(Value::Float),
            ".*".prop_map(|s: String| Value::from(s.as_str())),
            proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| Value::Bytes(b.into())),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::list),
                proptest::collection::btree_map(".*", inner, 0..8).prop_map(Value::map),
            ]
        })
    }

    /// Equality that treats floats bit for bit (NaN equals itself, `-0.0` is not `0.0`).
    pub(crate) fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b))
            }
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
            }
            _ => a == b,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn every_value_round_trips_exactly(v in value()) {
            let bytes = encode_to_vec(&v);
            let back = decode(&bytes).unwrap();
            prop_assert!(same(&v, &back), "{v} became {back}");
        }

        #[test]
        fn any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(v) = decode(&bytes) {
                prop_assert_eq!(encode_to_vec(&v), bytes);
            }
        }

        #[test]
        fn every_truncation_is_an_error(v in value()) {
            let bytes = encode_to_vec(&v);
            for end in 0..bytes.len() {
                prop_assert!(decode(&bytes[..end]).is_err());
            }
        }
    }

    #[test]
    fn extremes_round_trip() {
        for v in [i64::MIN, i64::MAX, 0, -1, 1] {
            assert_eq!(decode(&encode_to_vec(&Value::Int(v))), Ok(Value::Int(v)));
        }
    }

    #[test]
    fn depth_and_lengths_are_bounded() {
        let mut deep = [LIST, 1].repeat(MAX_DEPTH + 1);
        deep.push(NULL);
        let err = decode(&deep).unwrap_err();
        assert!(err.message.contains("nested deeper"), "{err}");
        // A huge claimed length fails before allocating.
        let err = decode(&[LIST, 0xff, 0xff, 0xff, 0xff, 0x0f]).unwrap_err();
        assert!(err.message.contains("runs past the end"), "{err}");
        let err = decode(&[STR, 2, 0xc3, 0x28]).unwrap_err();
        assert!(err.message.contains("UTF-8"), "{err}");
        let err = decode(&[MAP, 2, 1, b'a', NULL, 1, b'a', NULL]).unwrap_err();
        assert!(err.message.contains("duplicate"), "{err}");
        let err = decode(&[9]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid encoded value at byte 0: unknown tag 9"
        );
    }
}
