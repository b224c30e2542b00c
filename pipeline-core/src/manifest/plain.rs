//! The parser's first try: a plain manifest read byte by byte straight into the typed model.
//!
//! serde's derived deserializer spent most of a 10-node manifest's construction matching field
//! names, copying keys and going through the per-thread table of shared names (callgrind: ~56,000
//! of ~107,000 instructions per build). Most manifests are plain: the fields this version knows,
//! strings without escapes, integers that fit. This reader takes exactly those and gives up —
//! returns `None` — at anything else: an escape, an unknown or repeated field, a big integer, a
//! missing field, text that is not JSON. [`parse`](super::parse) then reads the document as before,
//! and every error and warning is made there, unchanged. So this reader never reports a problem,
//! and whatever it returns is what serde would have made of the same text.
//!
//! A node's params are checked here (the same rules) but kept as the text of their object
//! ([`Params`]): typed params are read from it when the node is built, and no map is made unless
//! something asks for one.
//!
//! Keys are recognised where they stand, among the few each object may have, not read as strings
//! first; ids, types and connection ends are read and looked up in one step ([`NameTable`]);
//! whitespace is only skipped when the expected byte is not already there (callgrind, the
//! benchmark's 10-node manifest: ~29,500 → ~21,700 instructions per parse).

use super::model::{Connection, Manifest, Metadata, NodeSpec, Version};
use super::name_table::NameTable;
use super::params::Params;
use super::plain_cursor::{load16, PlainCursor};
use super::plain_field::Field;
use super::spare;
use super::text::Text;
use crate::graph::Name;
use serde_json::Value;
use std::cell::Cell;
use std::sync::Arc;
use std::thread::LocalKey;

/// How deep a node's params may nest here; deeper ones are left to serde (which stops at 128
/// levels with an error at the place).
const MAX_PARAM_DEPTH: usize = 64;

/// How many keys one object of params may have here; more are left to serde.
const MAX_CHECKED_KEYS: usize = 32;

/// Reads `text` if it is a plain manifest (see the module's doc); `None` otherwise.
pub(crate) fn read(shared: &Arc<str>) -> Option<Manifest> {
    let text = &**shared;
    let mut reader = Reader {
        cursor: PlainCursor::new(text),
        shared,
        keys: spare::take(&SPARE_KEYS),
        names: NameTable::new(),
    };
    let manifest = reader.manifest();
    spare::give_back(&SPARE_KEYS, std::mem::take(&mut reader.keys));
    let manifest = manifest?;
    reader.skip_ws();
    (reader.pos == text.len()).then_some(manifest)
}

thread_local! {
    /// The reader's vectors, kept empty between reads on this thread (see [`spare`]).
    static SPARE_KEYS: Cell<Vec<(usize, usize)>> = const { Cell::new(Vec::new()) };
    static SPARE_NODES: Cell<Vec<NodeSpec>> = const { Cell::new(Vec::new()) };
    static SPARE_CONNECTIONS: Cell<Vec<Connection>> = const { Cell::new(Vec::new()) };
}

/// A [`PlainCursor`] (its `text` and `pos` read through it) with what a manifest's reader adds.
struct Reader<'t> {
    cursor: PlainCursor<'t>,
    /// `text`, shared: what a node's unparsed [`Params`] keep.
    shared: &'t Arc<str>,
    /// The keys of the params objects being read, innermost last (repeated keys are refused):
    /// each as its offset and length in `text`.
    keys: Vec<(usize, usize)>,
    /// Long names read so far, so that equal ones share one allocation (short ones are inline).
    names: NameTable,
}

impl<'t> std::ops::Deref for Reader<'t> {
    type Target = PlainCursor<'t>;
    fn deref(&self) -> &PlainCursor<'t> {
        &self.cursor
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.cursor
    }
}

impl<'t> Reader<'t> {
    fn name(&mut self) -> Option<Name> {
        self.expect(b'"')?;
        let (name, end) = self.names.read(self.text, self.pos)?;
        self.pos = end;
        Some(name)
    }

    fn literal(&mut self, word: &str) -> bool {
        self.skip_ws();
        let found = self.text[self.pos..].starts_with(word);
        if found {
            self.pos += word.len();
        }
        found
    }

    fn bool(&mut self) -> Option<bool> {
        if self.literal("true") {
            Some(true)
        } else if self.literal("false") {
            Some(false)
        } else {
            None
        }
    }

    fn null(&mut self) -> bool {
        self.literal("null")
    }

    /// The text of a number: `-`, digits, `.`, exponents (checked by the caller).
    fn number_token(&mut self) -> &'t str {
        self.skip_ws();
        let start = self.pos;
        let bytes = self.text.as_bytes();
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = bytes.get(self.pos) {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// A non-negative integer as JSON writes it (no sign, no leading zero, no fraction).
    fn usize(&mut self) -> Option<usize> {
        let token = self.number_token();
        if !is_json_integer(token) || token.starts_with('-') {
            return None;
        }
        token.parse().ok()
    }

    fn optional_usize(&mut self) -> Option<Option<usize>> {
        if self.null() {
            return Some(None);
        }
        self.usize().map(Some)
    }

    fn optional_string(&mut self) -> Option<Option<String>> {
        if self.null() {
            return Some(None);
        }
        self.string().map(|s| Some(s.to_string()))
    }

    /// A string as a [`Text`] of the shared text: nothing copied.
    fn text(&mut self) -> Option<Text> {
        let content = self.string()?;
        // The content ends just before its closing quote.
        let end = self.pos - 1;
        Text::shared(self.shared, end - content.len()..end)
    }

    fn optional_text(&mut self) -> Option<Option<Text>> {
        if self.null() {
            return Some(None);
        }
        self.text().map(Some)
    }

    /// `{ "key": member, ... }` with keys among `fields`: `member` reads the value of the key
    /// `fields[i]` given `i` (or gives up). Any other key, or one written with an escape, gives up.
    #[inline]
    fn object<const N: usize>(
        &mut self,
        fields: &[Field; N],
        mut member: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let field = self.field(fields)?;
            member(self, field)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `"key":` where the key is one of `fields`: its index. The key is compared where it stands,
    /// two words at a time ([`Field`]), instead of being read first (keys are half of a
    /// manifest's strings).
    #[inline]
    fn field<const N: usize>(&mut self, fields: &[Field; N]) -> Option<usize> {
        self.expect(b'"')?;
        let bytes = self.text.as_bytes();
        let words = load16(bytes, self.pos);
        let found = fields.iter().position(|field| field.is_at(words))?;
        // The key ends where the field's name does.
        self.pos += fields[found].len;
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        self.pos += 1;
        self.expect(b':')?;
        Some(found)
    }

    /// `[ element, ... ]` collected into a vector of the list's length: read into the thread's
    /// `spare` one, then moved (one allocation, no growing).
    fn list<T: 'static>(
        &mut self,
        spare: &'static LocalKey<Cell<Vec<T>>>,
        mut element: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut read = spare::take(spare);
        let done = self.array(|r| {
            read.push(element(r)?);
            Some(())
        });
        let mut list = Vec::new();
        if done.is_some() {
            list.reserve_exact(read.len());
            list.append(&mut read);
        }
        spare::give_back(spare, read);
        done.map(|()| list)
    }

    /// `[ element, ... ]`.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if !self.eat(b'[') {
            return None;
        }
        if self.eat(b']') {
            return Some(());
        }
        loop {
            element(self)?;
            if self.eat(b']') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn manifest(&mut self) -> Option<Manifest> {
        let (mut version, mut metadata, mut nodes, mut connections) = (None, None, None, None);
        const FIELDS: &[Field; 4] = &Field::all(["version", "metadata", "nodes", "connections"]);
        self.object(FIELDS, |r, field| {
            match field {
                0 if version.is_none() => {
                    (r.string()? == "v1").then_some(())?;
                    version = Some(Version::V1);
                }
                1 if metadata.is_none() => metadata = Some(r.metadata()?),
                2 if nodes.is_none() => {
                    nodes = Some(r.list(&SPARE_NODES, Self::node)?);
                }
                3 if connections.is_none() => {
                    connections = Some(r.list(&SPARE_CONNECTIONS, Self::connection)?);
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(Manifest {
            version: version?,
            metadata: metadata?,
            nodes: nodes?,
            connections: connections?,
        })
    }

    fn metadata(&mut self) -> Option<Metadata> {
        let (mut name, mut description, mut created_at) = (None, None, None);
        const FIELDS: &[Field; 3] = &Field::all(["name", "description", "created_at"]);
        self.object(FIELDS, |r, field| {
            match field {
                0 if name.is_none() => name = Some(r.text()?),
                1 if description.is_none() => description = Some(r.optional_text()?),
                2 if created_at.is_none() => created_at = Some(r.optional_string()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(Metadata {
            name: name?,
            description: description.flatten(),
            created_at: created_at.flatten(),
        })
    }

    fn node(&mut self) -> Option<NodeSpec> {
        let (mut id, mut node_type, mut params) = (None, None, None);
        let (mut stage, mut parallelism, mut ordered) = (None, None, None);
        let (mut batch_size, mut channel_capacity) = (None, None);
        // The usual fields first: they are looked for in this order.
        const FIELDS: &[Field; 8] = &Field::all([
            "id",
            "node_type",
            "params",
            "stage",
            "parallelism",
            "ordered",
            "batch_size",
            "channel_capacity",
        ]);
        self.object(FIELDS, |r, field| {
            match field {
                0 if id.is_none() => id = Some(r.name()?),
                1 if node_type.is_none() => node_type = Some(r.name()?),
                2 if params.is_none() => params = Some(r.params()?),
                3 if stage.is_none() => stage = Some(r.bool()?),
                4 if parallelism.is_none() => parallelism = Some(r.usize()?),
                5 if ordered.is_none() => ordered = Some(r.bool()?),
                6 if batch_size.is_none() => batch_size = Some(r.optional_usize()?),
                7 if channel_capacity.is_none() => channel_capacity = Some(r.optional_usize()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(NodeSpec {
            id: id?,
            node_type: node_type?,
            params: params.unwrap_or_default(),
            capabilities: None,
            host: None,
            runtime_hint: None,
            execution: None,
            stage: stage.unwrap_or(false),
            parallelism: parallelism.unwrap_or(1),
            ordered: ordered.unwrap_or(true),
            distribute: false,
            batch_size: batch_size.flatten(),
            channel_capacity: channel_capacity.flatten(),
            accepts: None,
            emits: None,
            isolation: None,
            limits: None,
        })
    }

    fn connection(&mut self) -> Option<Connection> {
        let (mut from, mut to) = (None, None);
        const FIELDS: &[Field; 2] = &Field::all(["from", "to"]);
        self.object(FIELDS, |r, field| {
            match field {
                0 if from.is_none() => from = Some(r.name()?),
                1 if to.is_none() => to = Some(r.name()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(Connection {
            from: from?,
            to: to?,
        })
    }

    /// A JSON object as [`checked_params`](super::checked_params) reads it (a repeated key gives up).
    /// A node's params: the object checked as [`Params`] will parse it, kept as text (a `{}`
    /// as no params).
    fn params(&mut self) -> Option<Params> {
        self.skip_ws();
        let start = self.pos;
        let mut keys = std::mem::take(&mut self.keys);
        let checked = self.check_object(1, &mut keys);
        keys.clear();
        self.keys = keys;
        checked?;
        // Checked, the object is `{`, whitespace and `}` if its first byte after blanks is `}`.
        let empty = self.text.as_bytes()[start + 1..]
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            == Some(&b'}');
        Some(if empty {
            Params::default()
        } else {
            Params::unparsed(Arc::clone(self.shared), start..self.pos)
        })
    }

    /// An object of plain values, its keys distinct: `keys` holds those of the objects around it.
    fn check_object(&mut self, depth: usize, keys: &mut Vec<(usize, usize)>) -> Option<()> {
        if depth > MAX_PARAM_DEPTH {
            return None;
        }
        let first = keys.len();
        let checked = self.check_members(depth, keys, first);
        keys.truncate(first);
        checked
    }

    /// The members of [`Reader::check_object`]'s object, from its `{` to its `}`.
    fn check_members(
        &mut self,
        depth: usize,
        keys: &mut Vec<(usize, usize)>,
        first: usize,
    ) -> Option<()> {
        self.expect(b'{')?;
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.string()?;
            // The key ends just before its closing quote.
            let start = self.pos - 1 - key.len();
            self.expect(b':')?;
            // A key is compared with the object's others: objects with many are left to serde
            // (which the caller's `None` sends them to), so this stays linear.
            let others = &keys[first..];
            let bytes = self.text.as_bytes();
            let same = |&(at, len): &(usize, usize)| bytes[at..at + len] == *key.as_bytes();
            if others.len() >= MAX_CHECKED_KEYS || others.iter().any(same) {
                return None;
            }
            keys.push((start, key.len()));
            self.check_value(depth, keys)?;
            if self.eat(b'}') {
                return Some(());
            }
            self.expect(b',')?;
        }
    }

    /// A plain value: a string without escapes, an integer that fits `i64` (not `-0`), a float,
    /// `true`, `false`, `null`, or arrays and objects of them.
    fn check_value(&mut self, depth: usize, keys: &mut Vec<(usize, usize)>) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.check_object(depth + 1, keys),
            b'[' => {
                if depth + 1 > MAX_PARAM_DEPTH {
                    return None;
                }
                self.array(|r| r.check_value(depth + 1, keys))
            }
            b't' | b'f' => self.bool().map(drop),
            b'n' => self.null().then_some(()),
            _ => self.check_number(),
        }
    }

    /// A number serde_json reads as the same number: an integer that fits `i64` (not `-0`,
    /// which serde_json reads as a float) or a finite float.
    fn check_number(&mut self) -> Option<()> {
        let token = self.number_token();
        let plain = if is_json_integer(token) {
            token != "-0" && token.parse::<i64>().is_ok()
        } else {
            matches!(serde_json::from_str::<Value>(token), Ok(Value::Number(_)))
        };
        plain.then_some(())
    }
}

/// `-?(0|[1-9][0-9]*)`: an integer as JSON writes it.
fn is_json_integer(token: &str) -> bool {
    let digits = token.strip_prefix('-').unwrap_or(token).as_bytes();
    match digits {
        [] => false,
        [b'0'] => true,
        [b'0', ..] => false,
        _ => digits.iter().all(u8::is_ascii_digit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field the reader knows, in an order serde does not need, with nested params.
    const FULL: &str = r#"{"nodes": [
        {"node_type": "CalculatorNode", "id": "calc", "params": {"operation": "add", "operand": -3,
          "list": [1, 2.5, -0.0, 1e3, "s", true, false, null, {"k": []}], "empty": {}, "é": "ü"},
         "stage": true, "parallelism": 2, "ordered": false, "batch_size": 64, "channel_capacity": null},
        {"id": "pass", "node_type": "PassThrough", "batch_size": null, "channel_capacity": 3},
        {"id": "again", "node_type": "PassThrough", "params": {}}
      ],
      "metadata": {"description": null, "name": "full", "created_at": "2026-12-03"},
      "connections": [{"to": "pass", "from": "calc"}, {"from": "pass", "to": "again"}],
      "version": "v1"}"#;

    fn as_json(manifest: &Manifest) -> Value {
        serde_json::to_value(manifest).expect("a manifest serialises")
    }

    fn reader_of(shared: &Arc<str>) -> Reader<'_> {
        Reader {
            cursor: PlainCursor::new(shared),
            shared,
            keys: Vec::new(),
            names: NameTable::new(),
        }
    }

    fn serde_reads(text: &str) -> Option<Manifest> {
        serde_json::from_str(text).ok()
    }

    #[test]
    fn strings_of_every_length_are_read_up_to_their_quote_and_refused_at_a_special_byte() {
        for len in 0..40 {
            let content: String = (0..len).map(|i| ['a', 'é', ' ', '#'][i % 4]).collect();
            let text = format!("\"{content}\" ");
            let shared: Arc<str> = Arc::from(text.as_str());
            let mut reader = reader_of(&shared);
            assert_eq!(reader.string(), Some(content.as_str()), "{text}");
            assert_eq!(reader.pos, text.len() - 1);
            for at in 0..len {
                for special in ['\\', '\n', '\u{1f}'] {
                    let mut bad: Vec<char> = content.chars().collect();
                    bad[at] = special;
                    let bad: String = bad.into_iter().collect();
                    let text = format!("\"{bad}\"");
                    let shared: Arc<str> = Arc::from(text.as_str());
                    let mut reader = reader_of(&shared);
                    assert_eq!(reader.string(), None, "{text:?}");
                }
            }
        }
        let shared: Arc<str> = Arc::from("\"abc");
        let mut unterminated = reader_of(&shared);
        assert_eq!(unterminated.string(), None);
    }

    #[test]
    fn reads_a_plain_manifest_as_serde_does() {
        let fast = read(&Arc::from(FULL)).expect("a plain manifest");
        assert_eq!(as_json(&fast), as_json(&serde_reads(FULL).unwrap()));
        // Equal names are one name.
        assert_eq!(fast.nodes[1].id, fast.connections[0].to);
        assert_eq!(fast.nodes[1].node_type, fast.nodes[2].node_type);
        assert_eq!(fast.nodes[0].params["operand"], serde_json::json!(-3));
    }

    #[test]
    fn a_port_in_a_source_is_read_as_written() {
        // `pass.even` is split into node and port by lowering; reading keeps the text.
        let text = FULL.replacen(r#""from": "pass""#, r#""from": "pass.even""#, 1);
        let fast = read(&Arc::from(text.as_str())).expect("a plain manifest");
        assert_eq!(&*fast.connections[1].from, "pass.even");
        assert_eq!(as_json(&fast), as_json(&serde_reads(&text).unwrap()));
    }

    #[test]
    fn gives_up_on_whatever_serde_must_judge() {
        let cases = [
            (r#""id": "calc""#, r#""id": "ca\u006cc""#), // an escape
            (r#""stage": true"#, r#""stage": true, "host": "h""#), // a field it leaves to serde
            (r#""stage": true"#, r#""stage": true, "extra": 1"#), // an unknown field
            (r#""stage": true"#, r#""stage": true, "stage": true"#), // a repeated field
            (r#""operand": -3"#, r#""operand": -3, "operand": 4"#), // a repeated param
            (r#""operand": -3"#, r#""operand": 9223372036854775808"#), // beyond i64
            (r#""operand": -3"#, r#""operand": -9223372036854775809"#),
            (r#""operand": -3"#, r#""operand": 03"#), // not JSON
            (r#""operand": -3"#, r#""operand": -0"#),
            (r#""operand": -3"#, r#""operand": 1e999"#),
            (r#""parallelism": 2"#, r#""parallelism": 2.0"#),
            (r#""parallelism": 2"#, r#""parallelism": -2"#),
            (r#""version": "v1""#, r#""version": "v2""#),
            (r#""name": "full", "#, ""), // a missing field
            (r#""empty": {}"#, "\"empty\": \"tab\there\""), // a control character
            ("\"version\": \"v1\"}", "\"version\": \"v1\"} x"), // text after the document
            ("\"version\": \"v1\"}", "\"version\": \"v1\"\u{c}}"), // form feed is not whitespace
        ];
        for (from, to) in cases {
            assert!(FULL.contains(from), "{from}");
            let text = FULL.replacen(from, to, 1);
            assert!(read(&Arc::from(text.as_str())).is_none(), "{text}");
        }
        let deep = format!(
            r#"{{"version": "v1", "metadata": {{"name": "m"}}, "nodes": [{{"id": "a", "node_type": "T", "params": {{"p": {}{}}}}}], "connections": []}}"#,
            "[".repeat(MAX_PARAM_DEPTH),
            "]".repeat(MAX_PARAM_DEPTH)
        );
        assert!(read(&Arc::from(deep.as_str())).is_none());
    }

    #[test]
    fn params_objects_are_checked_per_object_and_many_keys_are_left_to_serde() {
        let with_params = |params: &str| {
            format!(
                r#"{{"version": "v1", "metadata": {{"name": "m"}}, "nodes": [{{"id": "a", "node_type": "T", "params": {params}}}], "connections": []}}"#
            )
        };
        let keys = |n: usize| {
            (0..n)
                .map(|i| format!(r#""k{i}": {i}"#))
                .collect::<Vec<_>>()
        };
        let most = format!("{{{}}}", keys(MAX_CHECKED_KEYS).join(", "));
        let fast = read(&Arc::from(with_params(&most).as_str())).expect("a plain manifest");
        assert_eq!(fast.nodes[0].params.len(), MAX_CHECKED_KEYS);
        assert_eq!(
            fast.nodes[0].params.text(),
            None,
            "read as a map once asked"
        );
        let more = format!("{{{}}}", keys(MAX_CHECKED_KEYS + 1).join(", "));
        assert!(read(&Arc::from(with_params(&more).as_str())).is_none());
        // The same key in objects side by side or one inside the other is no repeat.
        for params in [
            r#"{"a": {"k": 1}, "b": {"k": 2}, "k": [{"k": 3}, {"k": 4}]}"#,
            r#"{"k": {"k": {"k": 1}}}"#,
        ] {
            let text = with_params(params);
            let fast = read(&Arc::from(text.as_str())).expect("a plain manifest");
            assert_eq!(fast.nodes[0].params.text(), Some(params));
            assert_eq!(
                as_json(&fast),
                as_json(&serde_reads(&text).unwrap()),
                "{params}"
            );
        }
        let repeated = with_params(r#"{"a": {"k": 1, "b": 2, "k": 3}}"#);
        assert!(read(&Arc::from(repeated.as_str())).is_none());
        let empty = read(&Arc::from(with_params("{ \n }").as_str())).expect("plain");
        assert!(empty.nodes[0].params.is_empty());
    }

    /// Whatever the reader accepts of a damaged manifest, serde accepts as the same model: every
    /// byte deleted, doubled or replaced by a character that matters to JSON.
    #[test]
    fn never_accepts_what_serde_would_read_differently() {
        let mut accepted = 0;
        for i in 0..FULL.len() {
            if !FULL.is_char_boundary(i) {
                continue;
            }
            let rest = FULL[i..].chars().next().expect("a character");
            let after = &FULL[i + rest.len_utf8()..];
            let mut variants = vec![
                format!("{}{after}", &FULL[..i]),
                format!("{}{rest}{rest}{after}", &FULL[..i]),
            ];
            for c in [
                '"', '\\', ',', ':', '{', '}', '[', ']', '0', '-', '.', 'e', ' ', '\t',
            ] {
                variants.push(format!("{}{c}{after}", &FULL[..i]));
            }
            for text in variants {
                if let Some(fast) = read(&Arc::from(text.as_str())) {
                    accepted += 1;
                    let slow = serde_reads(&text)
                        .unwrap_or_else(|| panic!("serde refuses what was read: {text}"));
                    assert_eq!(as_json(&fast), as_json(&slow), "{text}");
                }
            }
        }
        assert!(accepted > 100, "{accepted} variants read");
    }
}
