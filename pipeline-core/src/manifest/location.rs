//! Where things are in a manifest file: JSON pointer paths mapped to byte spans and line:column.
//!
//! serde_json parses without positions, so after a successful parse a small scanner walks the same
//! text once and records the span of every value (and every object key) by its JSON pointer.

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
    values: HashMap<String, (usize, usize)>,
    keys: HashMap<String, (usize, usize)>,
    line_starts: Vec<usize>,
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
            let mut index = Index {
                line_starts: std::iter::once(0)
                    .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                    .collect(),
                ..Index::default()
            };
            let mut scanner = Scanner {
                bytes: self.text.as_bytes(),
                pos: 0,
            };
            let mut pointer = String::new();
            scanner.value(&mut pointer, &mut index);
            index
        })
    }

    /// The location of the value at `pointer`, or of its nearest existing ancestor.
    pub fn locate(&self, pointer: &str) -> Location {
        self.find(pointer, &self.built().values)
    }

    /// The location of the key of the member at `pointer` (for unknown-field warnings), else of the
    /// value.
    pub fn locate_key(&self, pointer: &str) -> Location {
        match self.built().keys.get(pointer) {
            Some(_) => self.find(pointer, &self.built().keys),
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
            if let Some(&(offset, len)) = table.get(path).or_else(|| self.built().values.get(path))
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
        let line_starts = &self.built().line_starts;
        let line = line_starts.partition_point(|&s| s <= offset);
        let start = line_starts[line - 1];
        let column = self.text[start..offset.min(self.text.len())]
            .chars()
            .count()
            + 1;
        (line, column)
    }
}

/// Escapes a key for a JSON pointer (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(&mut self, pointer: &mut String, map: &mut Index) {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(b'{') => self.object(pointer, map),
            Some(b'[') => self.array(pointer, map),
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                while let Some(b) = self.peek() {
                    if b == b',' || b == b']' || b == b'}' || b.is_ascii_whitespace() {
                        break;
                    }
                    self.pos += 1;
                }
            }
            None => return,
        }
        map.values
            .insert(pointer.clone(), (start, self.pos - start));
    }

    /// Skips a string literal; returns its raw contents.
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

    fn object(&mut self, pointer: &mut String, map: &mut Index) {
        self.pos += 1;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {
                    let key_start = self.pos;
                    let key = self.string();
                    let key_len = self.pos - key_start;
                    self.skip_ws();
                    if self.peek() == Some(b':') {
                        self.pos += 1;
                    }
                    let base = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&escape_key(&key));
                    map.keys.insert(pointer.clone(), (key_start, key_len));
                    self.value(pointer, map);
                    pointer.truncate(base);
                    self.skip_ws();
                    if self.peek() == Some(b',') {
                        self.pos += 1;
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return;
                }
                _ => return,
            }
        }
    }

    fn array(&mut self, pointer: &mut String, map: &mut Index) {
        self.pos += 1;
        let mut index = 0;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return;
                }
                None => return,
                Some(_) => {
                    let base = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&index.to_string());
                    let before = self.pos;
                    self.value(pointer, map);
                    pointer.truncate(base);
                    index += 1;
                    self.skip_ws();
                    if self.peek() == Some(b',') {
                        self.pos += 1;
                    } else if self.pos == before {
                        return;
                    }
                }
            }
        }
    }
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
    fn parser_positions_become_offsets() {
        let map = SourceMap::index("{\n  \"a\": 1,\n}");
        let loc = map.at_line_column(3, 1);
        assert_eq!(loc.offset, 12);
    }
}
