//! The members of a flat params object read by hand: what the few hot built-in param shapes
//! (`{"operation": "add", "operand": 1}`) need, without serde's generic machinery.
//!
//! `serde_json::from_str` of `CalculatorParams` cost ~1,100 instructions a node (callgrind, the
//! benchmark's 10-node manifest), most of it matching field names through the visitor and
//! reading the operand as a generic number; read here, with keys matched in place, ~480. A type
//! reads its params here only where the result cannot differ from serde's: a value that is not a
//! plain string or an integer makes the reader give up (`None`), and so does a key the type does
//! not list; serde then reads the text as before, and every error is made there, unchanged.

use crate::manifest::plain_cursor::PlainCursor;

/// Calls `member` with the index in `keys` of each key of the JSON object `object`, in order, and
/// the reader standing at its value (which `member` reads: [`PlainCursor::string`],
/// [`integer`]); `None` as soon as the text is anything else, a key is not one of `keys`, or
/// `member` gives up.
///
/// Each of `keys` is written quoted (`b"\"operand\""`) and compared as bytes with the text: a
/// key written with an escape is not found, and serde judges the text. Matching the quoted
/// bytes in place, rather than reading each key as a string and comparing it, cut reading the
/// benchmark's calculator params from ~580 instructions a node to ~480 (callgrind). Inlined into
/// its caller, whose keys are then constants compared without a `memcmp` call (left to itself the
/// compiler sometimes did not, ~110 instructions a node more).
#[inline(always)]
pub(crate) fn read_members<'t>(
    object: &'t str,
    keys: &[&[u8]],
    mut member: impl FnMut(usize, &mut PlainCursor<'t>) -> Option<()>,
) -> Option<()> {
    let mut reader = PlainCursor::new(object);
    reader.expect(b'{')?;
    if !reader.eat(b'}') {
        loop {
            reader.skip_ws();
            let rest = &object.as_bytes()[reader.pos..];
            let k = keys.iter().position(|key| rest.starts_with(key))?;
            reader.pos += keys[k].len();
            reader.expect(b':')?;
            reader.skip_ws();
            member(k, &mut reader)?;
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
#[inline]
pub(crate) fn integer(reader: &mut PlainCursor<'_>) -> Option<i64> {
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

    /// A scalar as read here: a plain string or an integer.
    #[derive(Debug, PartialEq, Eq)]
    enum Scalar<'t> {
        Str(&'t str),
        Int(i64),
    }

    const KEYS: [&[u8]; 6] = [
        b"\"n\"",
        b"\"m\"",
        b"\"s\"",
        "\"é\"".as_bytes(),
        b"\"a\"",
        b"\"b\"",
    ];

    fn key(k: usize) -> &'static str {
        ["n", "m", "s", "é", "a", "b"][k]
    }

    fn members(object: &str) -> Option<Vec<(&'static str, Scalar<'_>)>> {
        let mut found = Vec::new();
        read_members(object, &KEYS, |k, reader| {
            let value = match reader.peek()? {
                b'"' => Scalar::Str(reader.string()?),
                _ => Scalar::Int(integer(reader)?),
            };
            found.push((key(k), value));
            Some(())
        })?;
        Some(found)
    }

    #[test]
    fn reads_plain_strings_and_integers() {
        assert_eq!(
            members(" { \"s\" : \"add\",\n\"n\":-12 } "),
            Some(vec![("s", Scalar::Str("add")), ("n", Scalar::Int(-12))])
        );
        assert_eq!(members("{}"), Some(vec![]));
        assert_eq!(
            members(r#"{"n": 0, "é": "ü"}"#),
            Some(vec![("n", Scalar::Int(0)), ("é", Scalar::Str("ü"))])
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
            // Keys that are not among those asked for, or written otherwise.
            r#"{"x": 1}"#,
            r#"{"nn": 1}"#,
            r#"{"\u006e": 1}"#,
            r#"{n: 1}"#,
            "",
        ] {
            assert_eq!(members(object), None, "{object}");
        }
        assert_eq!(
            members(r#"{"n": 9223372036854775807, "m": -9223372036854775808}"#),
            Some(vec![
                ("n", Scalar::Int(i64::MAX)),
                ("m", Scalar::Int(i64::MIN))
            ])
        );
    }

    #[test]
    fn a_member_that_gives_up_stops_the_reading() {
        let mut seen = 0;
        let read = read_members(r#"{"a": 1, "b": 2, "a": 3}"#, &KEYS, |k, reader| {
            seen += 1;
            integer(reader)?;
            (key(k) != "b").then_some(())
        });
        assert_eq!((read, seen), (None, 2));
    }
}
