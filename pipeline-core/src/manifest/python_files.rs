//! `python` nodes with `"file"`: the loader reads the source, relative to the manifest's folder,
//! and hands it on as `"code"`, so node code never touches the file system (and errors about the
//! file are located at the `file` param like any other manifest problem).

use super::error::{Problem, ProblemKind};
use super::parse::ParsedManifest;
use super::ManifestError;
use std::path::Path;

/// The node type whose `file` param is read here.
const PYTHON: &str = "python";

/// Replaces `file` of every `python` node by the file's text as `code` (with `filename` set to
/// the path as written, for tracebacks). Paths are relative to `base_dir`. A node that also has
/// `code` is left for the node type to reject.
pub fn read_python_files(
    parsed: &mut ParsedManifest,
    base_dir: &Path,
) -> Result<(), ManifestError> {
    let mut problems = Vec::new();
    for (i, spec) in parsed.manifest.nodes.iter_mut().enumerate() {
        if &*spec.node_type != PYTHON || spec.params.contains_key("code") {
            continue;
        }
        let Some(serde_json::Value::String(file)) = spec.params.get("file") else {
            continue;
        };
        let path = base_dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(code) => {
                let file = file.clone();
                spec.params.remove("file");
                spec.params
                    .insert("code".into(), serde_json::Value::String(code));
                spec.params
                    .entry("filename")
                    .or_insert(serde_json::Value::String(file));
            }
            Err(err) => problems.push(Problem::error(
                ProblemKind::Params {
                    node_type: PYTHON.to_string(),
                    message: format!(
                        "param `file`: cannot read `{file}` (looked for {}): {err}",
                        path.display()
                    ),
                },
                Some(spec.id.to_string()),
                parsed.map.locate(&format!("/nodes/{i}/params/file")),
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(parsed.error(problems))
    }
}
