//! Where things are in a manifest file: JSON pointer paths mapped to byte spans and line:column.
//!
//! serde_json parses without positions, so when a problem must be placed a scanner (`manifest/scan.rs`)
//! walks the same text once and records the span of every value (and every object key) by its
//! JSON pointer.

use super::scan::{scan, Scanned};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// A place in a manifest: its JSON pointer (`/nodes/1/node_type`), 1-based line and column, and the
/// byte span of the value there (for snippets).
///
/// ```
/// use pipeline_core::manifest::SourceMap;
/// let map = SourceMap::index("{\n  \"a\": [1, 22]\n}");
/// let loc = map.locate("/a/1");
/// assert_eq!((loc.line, loc.column, loc.len), (2, 12, 2));
/// assert_eq!(loc.to_string(), "2:12 (/a/1)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// JSON pointer of the value (RFC 6901); empty for the whole document.
    pub pointer: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset of the value's first character.
    pub offset: usize,
    /// Length of the value in bytes.
    pub len: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{}:{} ({pointer})", self.line, self.column)
    }
}

impl Location {
    /// The same pointer, placed at the document's first character (line 1, column 1).
    pub(crate) fn at_start(self) -> Location {
        Location {
            line: 1,
            column: 1,
            offset: 0,
            len: 0,
            ..self
        }
    }
}

/// Spans of every value and key of a JSON document, by JSON pointer.
///
/// The index is built on the first lookup, not when the map is made: a valid manifest is loaded
/// without ever scanning its text a second time; only reporting a problem pays for it.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    text: Arc<str>,
    index: OnceLock<Index>,
}

#[derive(Debug, Clone, Default)]
struct Index {
    scanned: Scanned,
    line_starts: Vec<usize>,
    /// `chars_before[k]`: how many characters precede byte `k * CHECKPOINT`. A column is counted
    /// from the nearest checkpoint, not from the start of its line: a manifest written on one line
    /// would otherwise cost a walk over the whole line for every problem placed.
    chars_before: Vec<usize>,
}

/// Bytes between two character-count checkpoints.
const CHECKPOINT: usize = 4096;

impl Index {
    /// The number of characters in `text[..offset]` (`offset` may fall inside a character).
    fn chars_up_to(&self, bytes: &[u8], offset: usize) -> usize {
        let offset = offset.min(bytes.len());
        let k = offset / CHECKPOINT;
        self.chars_before[k] + count_chars(&bytes[k * CHECKPOINT..offset])
    }
}

/// Characters in UTF-8 bytes: the bytes that are not continuation bytes.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

impl SourceMap {
    /// A map of `text`; meant for text that parsed as JSON (on other text it records what it can).
    pub fn index(text: &str) -> SourceMap {
        SourceMap::new(Arc::from(text))
    }

    /// A map of shared `text`, without copying it.
    pub fn new(text: Arc<str>) -> SourceMap {
        SourceMap {
            text,
            index: OnceLock::new(),
        }
    }

    fn built(&self) -> &Index {
        self.index.get_or_init(|| {
            let bytes = self.text.as_bytes();
            let mut chars_before = Vec::with_capacity(bytes.len() / CHECKPOINT + 1);
            let mut chars = 0;
            for chunk in bytes.chunks(CHECKPOINT) {
                chars_before.push(chars);
                chars += count_chars(chunk);
            }
            chars_before.push(chars);
            Index {
                scanned: scan(&self.text),
                line_starts: std::iter::once(0)
                    .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                    .collect(),
                chars_before,
            }
        })
    }

    /// The JSON pointers of keys repeated within one object (the later occurrences), in text order.
    ///
    /// ```
    /// use pipeline_core::manifest::SourceMap;
    /// let map = SourceMap::index(r#"{"a": {"x": 1, "x": 2}}"#);
    /// assert_eq!(map.repeated_keys(), ["/a/x"]);
    /// ```
    pub fn repeated_keys(&self) -> &[String] {
        &self.built().scanned.repeated_keys
    }

    /// Integer literals that do not fit in `i64` (serde_json would read them as floats), each as its
    /// JSON pointer and text, in text order.
    ///
    /// ```
    /// use pipeline_core::manifest::SourceMap;
    /// let map = SourceMap::index(r#"{"n": 18446744073709551616}"#);
    /// assert_eq!(map.big_integers(), [("/n".to_string(), "18446744073709551616".to_string())]);
    /// ```
    pub fn big_integers(&self) -> &[(String, String)] {
        &self.built().scanned.big_integers
    }

    /// The location of the value at `pointer`, or of its nearest existing ancestor.
    pub fn locate(&self, pointer: &str) -> Location {
        self.find(pointer, &self.built().scanned.values)
    }

    /// The location of the key of the member at `pointer` (for unknown-field warnings), else of the
    /// value.
    pub fn locate_key(&self, pointer: &str) -> Location {
        match self.built().scanned.keys.get(pointer) {
            Some(_) => self.find(pointer, &self.built().scanned.keys),
            None => self.locate(pointer),
        }
    }

    /// The location of a 1-based line and column (from a parser error).
    pub fn at_line_column(&self, line: usize, column: usize) -> Location {
        let start = self
            .built()
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        let offset = self.text[start..]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(self.text.len(), |(i, _)| start + i);
        Location {
            pointer: String::new(),
            line: line.max(1),
            column: column.max(1),
            offset,
            len: usize::from(offset < self.text.len()),
        }
    }

    fn find(&self, pointer: &str, table: &HashMap<String, (usize, usize)>) -> Location {
        let mut path = pointer;
        loop {
            if let Some(&(offset, len)) = table
                .get(path)
                .or_else(|| self.built().scanned.values.get(path))
            {
                let (line, column) = self.line_column(offset);
                return Location {
                    pointer: pointer.to_string(),
                    line,
                    column,
                    offset,
                    len,
                };
            }
            match path.rfind('/') {
                Some(i) => path = &path[..i],
                None => {
                    return Location {
                        pointer: pointer.to_string(),
                        line: 1,
                        column: 1,
                        offset: 0,
                        len: 0,
                    }
                }
            }
        }
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        let index = self.built();
        let line = index.line_starts.partition_point(|&s| s <= offset);
        let start = index.line_starts[line - 1];
        let bytes = self.text.as_bytes();
        let column = index.chars_up_to(bytes, offset) - index.chars_up_to(bytes, start) + 1;
        (line, column)
    }
}

/// Escapes a key for a JSON pointer (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_values_and_keys_are_located() {
        let text = "{\"nodes\": [\n  {\"id\": \"a\", \"x/y\": {\"k\": null}},\n  {\"id\": \"é\", \"n\": -1.5e3}\n]}";
        let map = SourceMap::index(text);
        assert_eq!(map.locate("/nodes/1/id").to_string(), "3:10 (/nodes/1/id)");
        assert_eq!(map.locate("/nodes/1/n").column, 20);
        assert_eq!(map.locate("/nodes/0/x~1y/k").line, 2);
        assert_eq!(map.locate_key("/nodes/0/id").column, 4);
        // Missing paths fall back to the nearest ancestor but keep the asked pointer.
        let loc = map.locate("/nodes/1/params/operand");
        assert_eq!((loc.line, loc.column), (3, 3));
        assert_eq!(loc.pointer, "/nodes/1/params/operand");
    }

    #[test]
    fn columns_count_characters_across_checkpoints() {
        // One long line of multi-byte characters: columns are characters, not bytes.
        let padding = "é".repeat(3 * CHECKPOINT);
        let text = format!("{{\"a\": \"{padding}\",\n \"b\": [1, \"é\", 3], \"c\": 4}}");
        let map = SourceMap::index(&text);
        assert_eq!(map.locate("/b/2").to_string(), "2:16 (/b/2)");
        let c = map.locate("/c");
        assert_eq!((c.line, c.column), (2, 25));
        let one_line = format!("{{\"a\": \"{padding}\", \"b\": 1}}");
        let b = SourceMap::index(&one_line).locate("/b");
        assert_eq!((b.line, b.column), (1, 3 * CHECKPOINT + 16));
    }

    #[test]
    fn parser_positions_become_offsets() {
        let map = SourceMap::index("{\n  \"a\": 1,\n}");
        let loc = map.at_line_column(3, 1);
        assert_eq!(loc.offset, 12);
    }
}
