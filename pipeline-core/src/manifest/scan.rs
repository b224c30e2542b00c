//! One pass over a JSON text recording where every value and key is, and what serde_json accepts
//! without a word: a key repeated in one object (the last would win) and an integer literal too
//! big for the pipeline's 64-bit integers (it would become a float).
//!
//! The scan keeps its own stack of open arrays and objects instead of recursing, so no nesting
//! depth can overflow the thread's stack: serde_json stops at 128 levels, but the scan also runs
//! over the text of a document serde_json refused (to place the parser's error).

use super::location::escape_key;
use std::collections::{HashMap, HashSet};

/// Values nested deeper than this are scanned but not recorded: serde_json refuses documents
/// nested deeper than 128 levels, and recording every pointer of a deeper chain would take memory
/// growing with the square of its depth.
pub(crate) const MAX_RECORDED_DEPTH: usize = 256;

/// What one scan found: spans by JSON pointer, and the suspicious places in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scanned {
    /// `(offset, len)` of each value.
    pub(crate) values: HashMap<String, (usize, usize)>,
    /// `(offset, len)` of each object key (the quoted string).
    pub(crate) keys: HashMap<String, (usize, usize)>,
    /// Repeated keys: the pointer of each later occurrence, in text order.
    pub(crate) repeated_keys: Vec<String>,
    /// Integer literals outside `i64`, by pointer, with their text, in text order.
    pub(crate) big_integers: Vec<(String, String)>,
}

/// An array or object the scan is inside.
struct Open {
    /// Offset of its `[` or `{`.
    start: usize,
    /// Length of the pointer to it (members extend the pointer, then truncate back to this).
    base: usize,
    /// The next element's index (arrays).
    index: usize,
    /// The keys seen so far (objects); `None` for an array.
    keys: Option<HashSet<String>>,
    /// Where the last member began: a member that consumed nothing means malformed text.
    last_member: Option<usize>,
}

/// What comes next inside the innermost open container.
enum Next {
    /// A member's value, at the extended pointer.
    Value,
    /// The container closed.
    Closed,
    /// The text is not JSON here: stop recording.
    Malformed,
}

/// Scans `text` (meant to be JSON; on other text it records what it can).
pub(crate) fn scan(text: &str) -> Scanned {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        found: Scanned::default(),
        pointer: String::new(),
        depth: 0,
    };
    scanner.run();
    scanner.found
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    found: Scanned,
    pointer: String,
    /// How many containers are open: the pointer has this many segments (up to the recorded depth).
    depth: usize,
}

impl Scanner<'_> {
    fn run(&mut self) {
        let mut open: Vec<Open> = Vec::new();
        let mut value_next = true;
        loop {
            if value_next {
                self.skip_ws();
                let start = self.pos;
                match self.peek() {
                    Some(b'{') | Some(b'[') => {
                        let is_object = self.peek() == Some(b'{');
                        self.pos += 1;
                        self.depth += 1;
                        open.push(Open {
                            start,
                            base: self.pointer.len(),
                            index: 0,
                            keys: is_object.then(HashSet::new),
                            last_member: None,
                        });
                    }
                    Some(b'"') => {
                        self.string();
                        self.record(start);
                    }
                    Some(_) => {
                        self.scalar(start);
                        self.record(start);
                    }
                    None => {}
                }
            }
            let Some(top) = open.last_mut() else { return };
            match self.next_member(top) {
                Next::Value => value_next = true,
                Next::Closed => {
                    let closed = open.pop().expect("the innermost container");
                    self.depth -= 1;
                    self.pointer.truncate(closed.base);
                    self.record(closed.start);
                    value_next = false;
                }
                Next::Malformed => {
                    // Close what is open where the text stopped making sense.
                    while let Some(closed) = open.pop() {
                        self.depth -= 1;
                        self.pointer.truncate(closed.base);
                        self.record(closed.start);
                    }
                    return;
                }
            }
        }
    }

    /// Records the value that began at `start` and ends here, at the current pointer.
    fn record(&mut self, start: usize) {
        if !self.recording() {
            return;
        }
        self.found
            .values
            .insert(self.pointer.clone(), (start, self.pos - start));
    }

    /// Whether values at the current depth are recorded.
    fn recording(&self) -> bool {
        self.depth <= MAX_RECORDED_DEPTH
    }

    /// Moves past a comma to the next member of `top` (extending the pointer), or past its end.
    fn next_member(&mut self, top: &mut Open) -> Next {
        self.skip_ws();
        if top.last_member.is_some() && self.peek() == Some(b',') {
            self.pos += 1;
            self.skip_ws();
        }
        if top.last_member == Some(self.pos) {
            return Next::Malformed; // the last member consumed nothing
        }
        match (&mut top.keys, self.peek()) {
            (Some(_), Some(b'}')) | (None, Some(b']')) => {
                self.pos += 1;
                Next::Closed
            }
            (Some(keys), Some(b'"')) => {
                let key_start = self.pos;
                top.last_member = Some(key_start);
                let key = self.string();
                let key_len = self.pos - key_start;
                self.skip_ws();
                if self.peek() == Some(b':') {
                    self.pos += 1;
                }
                if self.recording() {
                    self.pointer.truncate(top.base);
                    self.pointer.push('/');
                    self.pointer.push_str(&escape_key(&key));
                    self.found
                        .keys
                        .insert(self.pointer.clone(), (key_start, key_len));
                }
                if !keys.insert(key) {
                    self.found.repeated_keys.push(self.pointer.clone());
                }
                Next::Value
            }
            (None, Some(_)) => {
                top.last_member = Some(self.pos);
                if self.recording() {
                    self.pointer.truncate(top.base);
                    self.pointer.push('/');
                    self.pointer.push_str(&top.index.to_string());
                }
                top.index += 1;
                Next::Value
            }
            _ => Next::Malformed,
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// A number, `true`, `false` or `null`; notes an integer literal outside `i64`.
    fn scalar(&mut self, start: usize) {
        while let Some(b) = self.peek() {
            if matches!(b, b',' | b']' | b'}' | b':') || b.is_ascii_whitespace() {
                break;
            }
            self.pos += 1;
        }
        let token = &self.bytes[start..self.pos];
        let digits = token.strip_prefix(b"-").unwrap_or(token);
        if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
            let token = String::from_utf8_lossy(token);
            if token.parse::<i64>().is_err() {
                self.found
                    .big_integers
                    .push((self.pointer.clone(), token.into_owned()));
            }
        }
    }

    /// Skips a string literal; returns its contents, unescaped.
    fn string(&mut self) -> String {
        let start = self.pos + 1;
        self.pos += 1;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' => self.pos += 1,
                b'"' => break,
                _ => {}
            }
        }
        let end = self.pos.saturating_sub(1).max(start);
        let raw = String::from_utf8_lossy(&self.bytes[start..end.min(self.bytes.len())]);
        // Keys with escapes are rare in manifests; decode them properly when present.
        if raw.contains('\\') {
            serde_json::from_str::<String>(&format!("\"{raw}\""))
                .unwrap_or_else(|_| raw.into_owned())
        } else {
            raw.into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_found_at_every_level() {
        let text = r#"{"a": 1, "b": {"x": [1, {"k": 1, "k": 2}], "x": 0}, "a": 3}"#;
        let found = scan(text);
        assert_eq!(
            found.repeated_keys,
            ["/b/x/1/k", "/b/x", "/a"].map(String::from)
        );
        // Keys are compared unescaped: `\u0061` is `a`.
        assert_eq!(scan(r#"{"a": 1, "\u0061": 2}"#).repeated_keys, ["/a"]);
    }

    #[test]
    fn integers_beyond_i64_are_noted_floats_are_not() {
        let text = r#"{"p": [9223372036854775807, 18446744073709551616, -9223372036854775809, 1e30, 2.5]}"#;
        let found = scan(text);
        let pointers: Vec<&str> = found.big_integers.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(pointers, ["/p/1", "/p/2"]);
        assert_eq!(found.big_integers[0].1, "18446744073709551616");
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let depth = 200_000;
        let text = "[".repeat(depth) + &"]".repeat(depth);
        let found = scan(&text);
        assert_eq!(found.values.get(""), Some(&(0, 2 * depth)));
        // The outer levels are recorded; past them only the scan goes on.
        assert_eq!(found.values.len(), MAX_RECORDED_DEPTH + 1);
        let deepest = "/0".repeat(MAX_RECORDED_DEPTH);
        assert_eq!(
            found.values.get(&deepest),
            Some(&(MAX_RECORDED_DEPTH, 2 * (depth - MAX_RECORDED_DEPTH)))
        );
    }

    #[test]
    fn malformed_text_records_what_it_can() {
        let found = scan(r#"{"a": [1, 2, "b": }"#);
        assert_eq!(found.values.get("/a/0"), Some(&(7, 1)));
        assert!(found.values.contains_key(""));
        assert!(scan("").values.is_empty());
        assert!(scan("{,,,}").values.contains_key(""));
    }
}
