//! Text → [`Manifest`], with every problem located (JSON pointer and line:column).

use super::error::{ManifestError, Problem, ProblemKind};
use super::location::{escape_key, SourceMap};
use super::model::{Manifest, NODE_FIELDS, TOP_LEVEL_FIELDS};
use super::name::SharedNames;
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

    /// A [`ManifestError`] for this file holding `problems` and the warnings so far.
    pub fn error(&self, problems: Vec<Problem>) -> ManifestError {
        let mut all = problems;
        all.extend(self.warnings.iter().cloned());
        ManifestError {
            file: self.file.clone(),
            text: self.text.clone(),
            problems: all,
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
    let shared: Arc<str> = Arc::from(text);
    let map = SourceMap::new(shared.clone());
    let _sharing = SharedNames::begin();
    // Fast path: straight from the text into the typed model. The model refuses unknown fields,
    // so a document with any (or with any other problem) takes the slow path, which warns about
    // them: a valid manifest pays for no bookkeeping of where its keys are.
    let (manifest, warnings) = match serde_json::from_str::<Manifest>(text) {
        Ok(manifest) => (manifest, Vec::new()),
        // Slow path: through `serde_json::Value`, which locates every failure and every unknown
        // field (and accepts what it accepts, e.g. a repeated key).
        Err(_) => parse_located(file, &shared, &map)?,
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
    let fail = |problem: Problem| ManifestError {
        file: file.to_string(),
        text: shared.clone(),
        problems: vec![problem],
    };
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
            return Err(fail(Problem::error(
                ProblemKind::Syntax(message),
                None,
                location,
            )));
        }
    };
    // Unknown fields are warned about, then left out: the typed model refuses them.
    let warnings = take_unknown_fields(&mut raw, map);
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
                    warnings.push(Problem::warning(
                        ProblemKind::UnknownField(key.clone()),
                        node.clone(),
                        map.locate_key(&pointer),
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
    fn a_repeated_key_takes_the_slow_path_and_the_last_value() {
        // serde's typed path refuses a repeated field; the located path accepts it, as it did.
        let text = r#"{"version": "v1", "metadata": {"name": "m"},
            "nodes": [{"id": "a", "id": "b", "node_type": "PassThrough", "extra": 1}], "connections": []}"#;
        let parsed = parse("m.json", text).unwrap();
        assert_eq!(&*parsed.manifest.nodes[0].id, "b");
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!(parsed.node_at("/nodes/0/node_type").as_deref(), Some("b"));
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
