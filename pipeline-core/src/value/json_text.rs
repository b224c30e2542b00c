//! One item as JSON text, strict both ways: nothing changes silently between the text and the
//! [`Value`].
//!
//! Reading, an integer beyond `i64` would become a float (serde_json parses integers beyond `u64`
//! as `f64`, and the visitor sees only the float), losing digits; it is an error at its line and
//! column instead. Writing, JSON has no NaN or infinities (serde_json writes them as `null`); such
//! a float is an error naming where it is in the value.

use super::Value;
use std::fmt;

/// Why a JSON text is not an item: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonTextError {
    /// 1-based line in the text.
    pub line: usize,
    /// 1-based column (in bytes, as serde_json counts).
    pub column: usize,
    /// What is wrong, without the position.
    pub message: String,
}

impl fmt::Display for JsonTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for JsonTextError {}

/// Parses a JSON text into a [`Value`]; an integer outside `i64` is an error, never a float.
/// Numbers written with a fraction or an exponent are floats.
///
/// ```
/// use pipeline_core::value::parse_json;
/// assert_eq!(parse_json("[1, 1.0, 1e3]").unwrap().to_string(), "[1, 1.0, 1000.0]");
/// let err = parse_json(r#"{"n": 18446744073709551616}"#).unwrap_err();
/// assert_eq!((err.line, err.column), (1, 7));
/// assert!(err.message.contains("18446744073709551616"), "{err}");
/// ```
#[inline]
pub fn parse_json(text: &str) -> Result<Value, JsonTextError> {
    // The line of a stream of numbers is read where it is asked for (inlined into the caller, in
    // another crate too): a call and its large `Result` cost as much as reading the digits.
    match super::json_fast::bare_integer(text.as_bytes()) {
        Some(int) => Ok(Value::Int(int)),
        None => parse_document(text),
    }
}

/// The JSON text `bytes` when it is only an integer of at most 18 digits, which [`parse_json`]
/// reads as [`Value::Int`]: without a `&str` or a `Result`, for a reader that splits lines itself
/// (the line of a stream of numbers). `None` for any other text, which `parse_json` reads.
///
/// ```
/// use pipeline_core::value::{parse_bare_int, parse_json};
/// use pipeline_core::Value;
/// assert_eq!(parse_bare_int(b"-42"), Some(-42));
/// assert_eq!(parse_json("-42")?, Value::Int(-42));
/// // Not bare integers: `parse_json` reads them (or reports their error).
/// assert_eq!(parse_bare_int(b"-0"), None); // a float to serde_json
/// assert_eq!(parse_bare_int(b"1.5"), None);
/// assert_eq!(parse_bare_int(b"007"), None);
/// # Ok::<(), pipeline_core::value::JsonTextError>(())
/// ```
#[inline]
pub fn parse_bare_int(bytes: &[u8]) -> Option<i64> {
    super::json_fast::bare_integer(bytes)
}

/// [`parse_bare_int`] of the line `text[line]`, faster when `text` goes on after the line (a chunk
/// of lines): up to eight digits are read as one word, which may take in bytes past the line's
/// end (they are not part of the number). Panics if `line` is not within `text`, as slicing does.
///
/// ```
/// use pipeline_core::value::parse_bare_int_in;
/// let chunk = b"4096\n-17\n007\n123456789012\n";
/// assert_eq!(parse_bare_int_in(chunk, 0..4), Some(4096));
/// assert_eq!(parse_bare_int_in(chunk, 5..8), Some(-17));
/// assert_eq!(parse_bare_int_in(chunk, 9..12), None); // a leading zero: not JSON
/// assert_eq!(parse_bare_int_in(chunk, 13..25), Some(123_456_789_012)); // more than a word
/// ```
#[inline]
pub fn parse_bare_int_in(text: &[u8], line: std::ops::Range<usize>) -> Option<i64> {
    super::json_fast::bare_integer_in(text, line)
}

/// [`parse_json`] of a text that is not a bare integer.
#[inline(never)]
fn parse_document(text: &str) -> Result<Value, JsonTextError> {
    // The other common texts of a stream (plain objects) are read without serde too.
    if let Some(value) = super::json_fast::parse(text) {
        return Ok(value);
    }
    match serde_json::from_str::<Value>(text) {
        // Integers beyond `u64` and below `i64::MIN` arrive as floats; find them in the text
        // (only then: most values have no float, and the scan is a second pass over the text).
        Ok(value) if !has_float(&value) => Ok(value),
        Ok(value) => match out_of_range_integer(text) {
            None => Ok(value),
            Some((offset, digits)) => Err(out_of_range_error(text, offset, digits)),
        },
        Err(err) => {
            // The visitor refuses `i64::MAX + 1 ..= u64::MAX`; point at the number's start.
            if err.classify() == serde_json::error::Category::Data {
                if let Some((offset, digits)) = out_of_range_integer(text) {
                    return Err(out_of_range_error(text, offset, digits));
                }
            }
            let text = err.to_string();
            Err(JsonTextError {
                line: err.line(),
                column: err.column(),
                message: format!(
                    "not valid JSON: {}",
                    text.split(" at line ").next().unwrap_or(&text)
                ),
            })
        }
    }
}

/// Whether a float is anywhere in `value`.
fn has_float(value: &Value) -> bool {
    match value {
        Value::Float(_) => true,
        Value::List(items) => items.iter().any(has_float),
        Value::Map(map) => map.values().any(has_float),
        _ => false,
    }
}

/// The message for an integer `Value::Int` cannot hold.
pub(crate) fn out_of_range_message(digits: &str) -> String {
    format!(
        "the integer {digits} does not fit 64 bits (from {} to {}); write it as a string, or with \
         a fraction or an exponent to make it a float",
        i64::MIN,
        i64::MAX
    )
}

fn out_of_range_error(text: &str, offset: usize, digits: &str) -> JsonTextError {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    JsonTextError {
        line: before.matches('\n').count() + 1,
        column: offset - line_start + 1,
        message: out_of_range_message(digits),
    }
}

/// The first integer literal (no fraction, no exponent) outside `i64` in a valid JSON text: its
/// byte offset and digits. Strings are skipped; only literals of 19 digits or more are parsed.
fn out_of_range_integer(text: &str) -> Option<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                let mut integer = true;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'0'..=b'9' | b'.' | b'e' | b'E')
                {
                    integer &= !matches!(bytes[i], b'.' | b'e' | b'E');
                    i += 1;
                }
                let literal = &text[start..i];
                if integer && literal.len() >= 19 && literal.parse::<i64>().is_err() {
                    return Some((start, literal));
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// A float JSON cannot carry (NaN or an infinity), and where it is in the value.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFiniteFloat {
    /// The float.
    pub value: f64,
    /// Its JSON Pointer in the value (`""` for the value itself, `/key/0` inside it).
    pub pointer: String,
}

impl fmt::Display for NonFiniteFloat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            String::new()
        } else {
            format!(" at {}", self.pointer)
        };
        write!(
            f,
            "the float {}{at} cannot be written as JSON (JSON has no NaN or infinities)",
            self.value
        )
    }
}

impl std::error::Error for NonFiniteFloat {}

/// Appends `value` as compact JSON to `out`; a NaN or an infinity anywhere in it is an error, and
/// then nothing is appended.
///
/// ```
/// use pipeline_core::value::write_json;
/// use pipeline_core::Value;
/// let mut out = Vec::new();
/// write_json(&Value::map([("x", Value::Float(1.5))]), &mut out).unwrap();
/// assert_eq!(out, br#"{"x":1.5}"#);
/// let bad = Value::map([("x", Value::list([Value::Int(1), Value::Float(f64::NAN)]))]);
/// assert_eq!(write_json(&bad, &mut out).unwrap_err().pointer, "/x/1");
/// assert_eq!(out, br#"{"x":1.5}"#);
/// ```
#[inline]
pub fn write_json(value: &Value, out: &mut Vec<u8>) -> Result<(), NonFiniteFloat> {
    // The line of a stream of numbers is written where it is asked for (inlined into the caller,
    // in another crate too); the rest out of line.
    match value {
        Value::Int(i) => {
            super::json_writer::write_int(*i, out);
            Ok(())
        }
        _ => write_document(value, out),
    }
}

/// [`write_json`] of a value that is not an int.
#[inline(never)]
fn write_document(value: &Value, out: &mut Vec<u8>) -> Result<(), NonFiniteFloat> {
    let start = out.len();
    match super::json_writer::write(value, out) {
        Ok(()) => Ok(()),
        Err(super::json_writer::NonFinite) => {
            out.truncate(start);
            Err(first_non_finite(value, &mut Vec::new())
                .expect("the writer stopped at a float JSON cannot carry"))
        }
    }
}

/// One step into a value, for the pointer of what is found.
pub(super) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The first NaN or infinity in `value`, depth first; `path` is how the walk got to `value`.
pub(super) fn first_non_finite<'a>(
    value: &'a Value,
    path: &mut Vec<Step<'a>>,
) -> Option<NonFiniteFloat> {
    match value {
        Value::Float(f) if !f.is_finite() => Some(NonFiniteFloat {
            value: *f,
            pointer: path
                .iter()
                .map(|step| match step {
                    Step::Key(key) => format!("/{}", key.replace('~', "~0").replace('/', "~1")),
                    Step::Index(i) => format!("/{i}"),
                })
                .collect(),
        }),
        Value::List(items) => items.iter().enumerate().find_map(|(i, item)| {
            path.push(Step::Index(i));
            let found = first_non_finite(item, path);
            path.pop();
            found
        }),
        Value::Map(entries) => entries.iter().find_map(|(key, item)| {
            path.push(Step::Key(key));
            let found = first_non_finite(item, path);
            path.pop();
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_integer_fast_path_reads_exactly_what_the_parser_reads() {
        for text in [
            "0",
            "-0",
            "7",
            " 42 \r",
            "\t-17",
            "123456789012345678",
            "-123456789012345678",
            "1234567890123456789",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "007",
            "-",
            "--1",
            "+1",
            "1e3",
            "1.0",
            "1 2",
            "",
        ] {
            let fast = super::super::json_fast::parse(text);
            let parsed = serde_json::from_str::<Value>(text).ok();
            if let Some(int @ Value::Int(_)) = fast {
                assert_eq!(parsed, Some(int), "{text:?}");
            }
            let via_parse_json = parse_json(text).ok();
            match &parsed {
                Some(Value::Int(_)) | None => assert_eq!(via_parse_json, parsed, "{text:?}"),
                Some(_) => {}
            }
        }
    }

    #[test]
    fn integers_at_and_beyond_the_i64_bounds() {
        assert_eq!(
            parse_json("[9223372036854775807, -9223372036854775808]").unwrap(),
            Value::list([Value::Int(i64::MAX), Value::Int(i64::MIN)])
        );
        for (text, column) in [
            ("9223372036854775808", 1),
            ("18446744073709551615", 1),
            ("[1, 18446744073709551616]", 5),
            ("{\"a\": -9223372036854775809}", 7),
            ("100000000000000000000000000000000000000000", 1),
        ] {
            let err = parse_json(text).unwrap_err();
            assert_eq!((err.line, err.column), (1, column), "{text}: {err}");
            assert!(err.message.contains("does not fit 64 bits"), "{err}");
        }
    }

    #[test]
    fn floats_and_digits_in_strings_stay_as_written() {
        let v = parse_json(r#"[1.8446744073709552e19, 18446744073709551616.0, "18446744073709551616", "\"99999999999999999999"]"#)
            .unwrap();
        let Value::List(items) = v else { panic!() };
        assert_eq!(items[0], Value::Float(1.8446744073709552e19));
        assert!(matches!(items[1], Value::Float(_)));
        assert_eq!(items[2], Value::from("18446744073709551616"));
    }

    #[test]
    fn a_position_on_a_later_line() {
        let err = parse_json("[1,\n  -99999999999999999999]").unwrap_err();
        assert_eq!((err.line, err.column), (2, 3));
    }

    #[test]
    fn syntax_errors_keep_serde_positions() {
        let err = parse_json("{oops").unwrap_err();
        assert_eq!((err.line, err.column), (1, 2));
        assert!(!err.message.contains(" at line "), "{err}");
    }

    #[test]
    fn non_finite_floats_are_found_with_their_pointer() {
        let mut out = Vec::new();
        let top = write_json(&Value::Float(f64::INFINITY), &mut out).unwrap_err();
        assert_eq!(top.pointer, "");
        assert_eq!(
            top.to_string(),
            "the float inf cannot be written as JSON (JSON has no NaN or infinities)"
        );
        let nested = Value::map([(
            "a/b",
            Value::list([
                Value::Int(0),
                Value::map([("~", Value::Float(f64::NEG_INFINITY))]),
            ]),
        )]);
        assert_eq!(
            write_json(&nested, &mut out).unwrap_err().pointer,
            "/a~1b/1/~0"
        );
        assert!(out.is_empty());
    }
}
