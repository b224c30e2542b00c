//! The members of a flat params object read by hand: what the few hot built-in param shapes
//! (`{"operation": "add", "operand": 1}`) need, without serde's generic machinery.
//!
//! `serde_json::from_str` of `CalculatorParams` cost ~1,100 instructions a node (callgrind, the
//! benchmark's 10-node manifest), most of it matching field names through the visitor and
//! reading the operand as a generic number; read here, ~770. A type reads its params here
//! only where the result cannot differ from serde's: a value that is not a plain string or an
//! integer makes the reader give up (`None`), and so may the type at any member it does not
//! know; serde then reads the text as before, and every error is made there, unchanged.

use crate::manifest::plain_cursor::PlainCursor;

/// A member's value, when it is one of the shapes read here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlainScalar<'t> {
    /// A string without escapes or control characters.
    Str(&'t str),
    /// An integer as JSON writes it that fits an `i64` (not `-0`, which serde reads as a float).
    Int(i64),
}

/// Calls `member` with each key and value of the JSON object `object`, in order; `None` as soon
/// as the text is anything else (or `member` gives up).
pub(crate) fn read_members<'t>(
    object: &'t str,
    mut member: impl FnMut(&'t str, PlainScalar<'t>) -> Option<()>,
) -> Option<()> {
    let mut reader = PlainCursor::new(object);
    reader.expect(b'{')?;
    if !reader.eat(b'}') {
        loop {
            let key = reader.string()?;
            reader.expect(b':')?;
            reader.skip_ws();
            let value = match reader.peek()? {
                b'"' => PlainScalar::Str(reader.string()?),
                _ => PlainScalar::Int(integer(&mut reader)?),
            };
            member(key, value)?;
            if reader.eat(b'}') {
                break;
            }
            reader.expect(b',')?;
        }
    }
    reader.skip_ws();
    (reader.pos == object.len()).then_some(())
}

/// `-?(0|[1-9][0-9]*)` fitting an `i64`, not `-0`, and not followed by a fraction or an
/// exponent.
fn integer(reader: &mut PlainCursor<'_>) -> Option<i64> {
    let bytes = reader.text.as_bytes();
    let negative = reader.peek() == Some(b'-');
    let start = reader.pos + usize::from(negative);
    let len = bytes[start..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(bytes.len() - start);
    reader.pos = start + len;
    let digits = &bytes[start..reader.pos];
    let well_formed = match digits {
        [] => false,
        [b'0'] => !negative,
        [b'0', ..] => false,
        _ => true,
    };
    if !well_formed || matches!(reader.peek(), Some(b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    // Accumulated negative, so that `i64::MIN` fits.
    let mut value: i64 = 0;
    for &digit in digits {
        value = value
            .checked_mul(10)?
            .checked_sub(i64::from(digit - b'0'))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(object: &str) -> Option<Vec<(&str, PlainScalar<'_>)>> {
        let mut found = Vec::new();
        read_members(object, |key, value| {
            found.push((key, value));
            Some(())
        })?;
        Some(found)
    }

    #[test]
    fn reads_plain_strings_and_integers() {
        assert_eq!(
            members(" { \"operation\" : \"add\",\n\"operand\":-12 } "),
            Some(vec![
                ("operation", PlainScalar::Str("add")),
                ("operand", PlainScalar::Int(-12)),
            ])
        );
        assert_eq!(members("{}"), Some(vec![]));
        assert_eq!(
            members(r#"{"n": 0, "é": "ü"}"#),
            Some(vec![
                ("n", PlainScalar::Int(0)),
                ("é", PlainScalar::Str("ü"))
            ])
        );
    }

    #[test]
    fn gives_up_on_anything_serde_must_judge() {
        for object in [
            r#"{"n": -0}"#,
            r#"{"n": 01}"#,
            r#"{"n": 1.5}"#,
            r#"{"n": 1e3}"#,
            r#"{"n": 9223372036854775808}"#,
            r#"{"n": -}"#,
            r#"{"n": true}"#,
            r#"{"n": null}"#,
            r#"{"n": [1]}"#,
            r#"{"n": {}}"#,
            r#"{"s": "a\"b"}"#,
            r#"{"s": "tab	in"}"#,
            r#"{"s": "open}"#,
            r#"{"n": 1,}"#,
            r#"{"n": 1 "m": 2}"#,
            r#"{"n" 1}"#,
            r#"{"n": 1} x"#,
            r#"{"n": 1"#,
            r#"["n"]"#,
            "",
        ] {
            assert_eq!(members(object), None, "{object}");
        }
        assert_eq!(
            members(r#"{"n": 9223372036854775807, "m": -9223372036854775808}"#),
            Some(vec![
                ("n", PlainScalar::Int(i64::MAX)),
                ("m", PlainScalar::Int(i64::MIN))
            ])
        );
    }

    #[test]
    fn a_member_that_gives_up_stops_the_reading() {
        let mut seen = 0;
        let read = read_members(r#"{"a": 1, "b": 2, "c": 3}"#, |key, _| {
            seen += 1;
            (key != "b").then_some(())
        });
        assert_eq!((read, seen), (None, 2));
    }
}
