//! Text → [`Manifest`], with every problem located (JSON pointer and line:column).

use super::error::{capped, ManifestError, Problem, ProblemKind, MAX_LISTED_WARNINGS};
use super::location::Location;
use super::location::{escape_key, SourceMap};
use super::model::{Manifest, NODE_FIELDS, TOP_LEVEL_FIELDS};
use super::name::SharedNames;
use super::plain;
use serde::Deserialize;
use std::sync::Arc;

/// A manifest that has the right shape, with the means to locate any part of it.
#[derive(Debug, Clone)]
pub struct ParsedManifest {
    /// The typed manifest.
    pub manifest: Manifest,
    /// Pointer → location.
    pub map: SourceMap,
    /// The file name as given.
    pub file: String,
    /// The file's text.
    pub text: Arc<str>,
    /// Warnings so far (unknown fields).
    pub warnings: Vec<Problem>,
}

impl ParsedManifest {
    /// The id of the node whose entry contains `pointer` (`/nodes/2/params/x` → node 2's id).
    pub fn node_at(&self, pointer: &str) -> Option<String> {
        let index = node_index(pointer)?;
        self.manifest
            .nodes
            .get(index)
            .map(|node| node.id.to_string())
    }

    /// A [`ManifestError`] for this file holding `problems` and the warnings so far (the first
    /// [`MAX_LISTED_ERRORS`](super::error::MAX_LISTED_ERRORS) errors, the rest counted).
    pub fn error(&self, problems: Vec<Problem>) -> ManifestError {
        let mut all = problems;
        all.extend(self.warnings.iter().cloned());
        ManifestError {
            file: self.file.clone(),
            text: self.text.clone(),
            problems: capped(all),
        }
    }
}

/// `/nodes/2/params/x` → 2.
fn node_index(pointer: &str) -> Option<usize> {
    pointer
        .strip_prefix("/nodes/")?
        .split('/')
        .next()?
        .parse()
        .ok()
}

fn node_at(raw: &serde_json::Value, pointer: &str) -> Option<String> {
    let index = node_index(pointer)?;
    raw.get("nodes")?
        .get(index)?
        .get("id")?
        .as_str()
        .map(str::to_string)
}

/// Parses a manifest. `file` names it in messages.
///
/// ```
/// use pipeline_core::manifest::parse;
/// let err = parse("m.json", "{\"version\": \"v1\",\n \"metadata\": {\"name\": \"m\"},\n \"nodes\": [{\"id\": \"a\"}], \"connections\": []}").unwrap_err();
/// assert_eq!(err.to_string(), "m.json:3:12 (/nodes/0): error: node `a`: missing field `node_type`");
/// ```
pub fn parse(file: &str, text: &str) -> Result<ParsedManifest, ManifestError> {
    // A byte-order mark some editors write first is not part of the JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let shared: Arc<str> = Arc::from(text);
    let map = SourceMap::new(shared.clone());
    // Fastest path: a plain manifest, read byte by byte (see `plain`); anything else, and every
    // problem, is left to serde below.
    if let Some(manifest) = plain::read(&shared) {
        return Ok(ParsedManifest {
            manifest,
            map,
            file: file.to_string(),
            text: shared,
            warnings: Vec::new(),
        });
    }
    let _sharing = SharedNames::begin();
    // Fast path: straight from the text into the typed model. The model refuses unknown fields,
    // so a document with any (or with any other problem) takes the slow path, which warns about
    // them: a valid manifest pays for no bookkeeping of where its keys are.
    // Repeated keys fail it too (serde's derive refuses a repeated field, params are read by
    // `checked_params`); so does an integer above `i64::MAX`, while one beyond `u64` or below
    // `i64::MIN` reaches serde as a float: a run of 19 digits (as long as the shortest of those)
    // sends the document down the slow path to be looked at.
    let (manifest, warnings) = match serde_json::from_str::<Manifest>(text) {
        Ok(manifest) if !has_digit_run(text.as_bytes(), 19) => (manifest, Vec::new()),
        // Slow path: through `serde_json::Value`, which locates every failure and every unknown
        // field; the scan of the text finds what `Value` would hide (repeated keys, big integers).
        _ => parse_located(file, &shared, &map)?,
    };
    Ok(ParsedManifest {
        manifest,
        map,
        file: file.to_string(),
        text: shared,
        warnings,
    })
}

/// Parses through `serde_json::Value`, so that a failure can be given its line, column and pointer.
fn parse_located(
    file: &str,
    shared: &Arc<str>,
    map: &SourceMap,
) -> Result<(Manifest, Vec<Problem>), ManifestError> {
    let fail_all = |problems: Vec<Problem>| ManifestError {
        file: file.to_string(),
        text: shared.clone(),
        problems: capped(problems),
    };
    let fail = |problem: Problem| fail_all(vec![problem]);
    let mut raw: serde_json::Value = match serde_json::from_str(shared) {
        Ok(raw) => raw,
        Err(err) => {
            let location = map.at_line_column(err.line(), err.column());
            let message = err.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            let message = if message.contains("recursion limit exceeded") {
                format!("arrays and objects nested more than {MAX_NESTING} deep")
            } else {
                message
            };
            return Err(fail(Problem::error(
                ProblemKind::Syntax(message),
                None,
                location,
            )));
        }
    };
    // What serde_json accepted but would change: each an error at its place.
    let repeated = map.repeated_keys().iter().map(|pointer| {
        let key = pointer.rsplit('/').next().unwrap_or_default();
        let key = key.replace("~1", "/").replace("~0", "~");
        Problem::error(
            ProblemKind::RepeatedKey(key),
            node_at(&raw, pointer),
            map.locate_key(pointer),
        )
    });
    let big = map.big_integers().iter().map(|(pointer, text)| {
        Problem::error(
            ProblemKind::IntegerOutOfRange(text.clone()),
            node_at(&raw, pointer),
            map.locate(pointer),
        )
    });
    let problems: Vec<Problem> = repeated.chain(big).collect();
    if !problems.is_empty() {
        let mut problems = problems;
        problems.sort_by_key(|p| p.location.offset);
        return Err(fail_all(problems));
    }
    // Unknown fields are warned about, then left out: the typed model refuses them.
    let warnings = capped(take_unknown_fields(&mut raw, map));
    // The plain deserializer first; the path-tracking one only to locate a failure.
    let manifest: Manifest =
        match Manifest::deserialize(&raw).or_else(|_| serde_path_to_error::deserialize(&raw)) {
            Ok(manifest) => manifest,
            Err(err) => {
                let pointer = pointer_of(err.path());
                let node = node_at(&raw, &pointer);
                let message = err.into_inner().to_string();
                let help = message
                    .contains("unknown variant")
                    .then(|| "the manifest format version is `v1`".to_string())
                    .filter(|_| pointer == "/version");
                let location = map.locate(&pointer);
                return Err(fail(
                    Problem::error(ProblemKind::Schema(message), node, location).with_help(help),
                ));
            }
        };
    Ok((manifest, warnings))
}

/// How deep arrays and objects may nest in a manifest: serde_json's own limit, which it enforces
/// while parsing (deeper documents are refused with an error at the place, never a stack overflow).
pub const MAX_NESTING: usize = 128;

/// Whether `bytes` holds `len` ASCII digits in a row (anywhere: in a string too; it only decides
/// whether the slow path takes a closer look).
///
/// Such a run covers a position that is a multiple of `len`, so only those are looked at, and the
/// run around a digit found there measured: the fast path pays for a `len`-th of the text.
fn has_digit_run(bytes: &[u8], len: usize) -> bool {
    let digit = |i: &usize| bytes[*i].is_ascii_digit();
    (0..bytes.len()).step_by(len.max(1)).any(|i| {
        if !digit(&i) {
            return false;
        }
        let before = (0..i).rev().take_while(digit).count();
        let after = (i..bytes.len()).take_while(digit).count();
        before + after >= len
    })
}

/// A serde path (`nodes[1].id`) as a JSON pointer (`/nodes/1/id`).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape_key(key));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    pointer
}

/// Takes out the fields of the top level and of nodes that this version does not know (the typed
/// model refuses them) and warns about each, the top level first, then node by node.
fn take_unknown_fields(raw: &mut serde_json::Value, map: &SourceMap) -> Vec<Problem> {
    let mut warnings = Vec::new();
    let mut take =
        |object: &mut serde_json::Value, known: &[&str], base: &str, node: Option<String>| {
            let Some(object) = object.as_object_mut() else {
                return;
            };
            object.retain(|key, _| {
                let known = known.contains(&key.as_str());
                if !known {
                    let pointer = format!("{base}/{}", escape_key(key));
                    // Only the listed ones are placed: the rest are counted, not shown.
                    let location = if warnings.len() < MAX_LISTED_WARNINGS {
                        map.locate_key(&pointer)
                    } else {
                        Location {
                            pointer,
                            ..Location::default()
                        }
                    };
                    warnings.push(Problem::warning(
                        ProblemKind::UnknownField(key.clone()),
                        node.clone(),
                        location,
                    ));
                }
                known
            });
        };
    take(raw, TOP_LEVEL_FIELDS, "", None);
    if let Some(nodes) = raw.get_mut("nodes").and_then(|n| n.as_array_mut()) {
        for (i, node) in nodes.iter_mut().enumerate() {
            let id = node.get("id").and_then(|v| v.as_str()).map(str::to_string);
            take(node, NODE_FIELDS, &format!("/nodes/{i}"), id);
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_json_points_at_the_parser_position() {
        let err = parse("bad.json", "{\n  \"version\": \"v1\",\n}").unwrap_err();
        let p = &err.problems[0];
        assert!(matches!(p.kind, ProblemKind::Syntax(_)));
        assert_eq!((p.location.line, p.location.column), (3, 1));
    }

    #[test]
    fn unknown_fields_are_warnings_at_the_key() {
        let text = r#"{"version": "v1", "metadata": {"name": "m"}, "python_env": {},
            "nodes": [{"id": "a", "node_type": "PassThrough", "is_streaming": true}], "connections": []}"#;
        let parsed = parse("m.json", text).unwrap();
        let names: Vec<String> = parsed.warnings.iter().map(|w| w.message()).collect();
        assert_eq!(
            names,
            [
                "unknown field `python_env` is ignored",
                "node `a`: unknown field `is_streaming` is ignored"
            ]
        );
        assert_eq!(parsed.warnings[1].location.pointer, "/nodes/0/is_streaming");
    }

    #[test]
    fn a_repeated_key_is_an_error_at_the_repeat() {
        let text = r#"{"version": "v1", "metadata": {"name": "m"},
            "nodes": [{"id": "a", "id": "b", "node_type": "PassThrough", "extra": 1}], "connections": []}"#;
        let err = parse("m.json", text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.json:2:35 (/nodes/0/id): error: node `b`: key `id` appears twice in this object; \
             remove one (a repeated key would silently replace the earlier value)"
        );
    }

    #[test]
    fn repeated_keys_are_errors_at_every_level() {
        let manifest = |nodes: &str, top: &str| {
            format!(
                r#"{{"version": "v1", "metadata": {{"name": "m"}}, "nodes": [{nodes}], "connections": []{top}}}"#
            )
        };
        let node = r#"{"id": "a", "node_type": "PassThrough"}"#;
        for (text, pointer) in [
            (manifest(node, r#", "nodes": []"#), "/nodes"),
            (
                manifest(
                    r#"{"id": "a", "node_type": "T", "params": {"k": 1, "k": 2}}"#,
                    "",
                ),
                "/nodes/0/params/k",
            ),
            (
                manifest(
                    r#"{"id": "a", "node_type": "T", "params": {"o": {"d": [{"x": 1, "x": 1}]}}}"#,
                    "",
                ),
                "/nodes/0/params/o/d/0/x",
            ),
            (manifest(node, r#", "extra": 1, "extra": 2"#), "/extra"),
        ] {
            let err = parse("m.json", &text).unwrap_err();
            let problem = &err.problems[0];
            assert!(matches!(problem.kind, ProblemKind::RepeatedKey(_)), "{err}");
            assert_eq!(problem.location.pointer, pointer, "{err}");
        }
    }

    #[test]
    fn integers_beyond_i64_are_errors_naming_the_node() {
        for big in [
            "18446744073709551616",
            "9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
        ] {
            let text = format!(
                r#"{{"version": "v1", "metadata": {{"name": "m"}}, "nodes": [{{"id": "a", "node_type": "T", "params": {{"n": [{big}]}}}}], "connections": []}}"#
            );
            let err = parse("m.json", &text).unwrap_err();
            assert_eq!(
                err.problems[0].location.pointer, "/nodes/0/params/n/0",
                "{err}"
            );
            let message = err.problems[0].message();
            assert!(
                message.starts_with(&format!("node `a`: integer {big} does not fit")),
                "{message}"
            );
        }
        // The largest i64, a float and a long digit string are fine.
        let text = r#"{"version": "v1", "metadata": {"name": "m"}, "nodes": [{"id": "a", "node_type": "T",
            "params": {"n": 9223372036854775807, "f": 1e300, "s": "123456789012345678901234567890"}}], "connections": []}"#;
        let parsed = parse("m.json", text).unwrap();
        assert_eq!(
            parsed.manifest.nodes[0].params["n"],
            serde_json::json!(i64::MAX)
        );
    }

    #[test]
    fn digit_runs_are_found_wherever_they_start() {
        for start in 0..25 {
            for len in [18, 19, 20] {
                let text = format!("{}{}x", "a".repeat(start), "7".repeat(len));
                assert_eq!(has_digit_run(text.as_bytes(), 19), len >= 19, "{text}");
            }
        }
        assert!(!has_digit_run(b"", 19));
        assert!(!has_digit_run(b"12345678901234567 123", 19));
    }

    #[test]
    fn a_leading_byte_order_mark_is_accepted() {
        let text = "\u{feff}{\"version\": \"v1\", \"metadata\": {\"name\": \"m\"}, \"nodes\": [], \"connections\": []}";
        assert!(parse("m.json", text).is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_at_its_place() {
        let depth = 50_000;
        let text = format!(
            r#"{{"version": "v1", "metadata": {{"name": "m"}}, "nodes": [{{"id": "a", "node_type": "T", "params": {{"p": {}{}}}}}], "connections": []}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let err = parse("m.json", &text).unwrap_err();
        let problem = &err.problems[0];
        assert_eq!(
            problem.message(),
            "malformed JSON: arrays and objects nested more than 128 deep"
        );
        assert_eq!(problem.location.line, 1);
        assert!(problem.location.column > 100, "{err}");
    }

    #[test]
    fn warnings_are_capped_and_summarised() {
        let fields: String = (0..1000).map(|i| format!(r#", "x{i}": 1"#)).collect();
        let text = format!(
            r#"{{"version": "v1", "metadata": {{"name": "m"}}, "nodes": [{{"id": "a", "node_type": "T"{fields}}}], "connections": []}}"#
        );
        let parsed = parse("m.json", &text).unwrap();
        assert_eq!(parsed.warnings.len(), 21);
        assert_eq!(
            parsed.warnings[20].message(),
            "... and 980 more unknown fields are ignored (the first 20 warnings are listed)"
        );
    }

    #[test]
    fn wrong_version_is_located_and_explained() {
        let err = parse(
            "m.json",
            r#"{"version": "v2", "metadata": {"name": "m"}, "nodes": [], "connections": []}"#,
        )
        .unwrap_err();
        assert_eq!(err.problems[0].location.pointer, "/version");
        assert!(
            err.to_string()
                .contains("unknown variant `v2`, expected `v1`"),
            "{err}"
        );
    }
}
