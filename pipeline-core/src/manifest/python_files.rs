//! `python` nodes with `"file"`: the loader reads the source, relative to the manifest's folder,
//! and hands it on as `"code"`, so node code never touches the file system (and errors about the
//! file are located at the `file` param like any other manifest problem).
//!
//! A manifest may come from someone else, so `file` is confined: a relative path with no `..`,
//! that stays inside the folder once symbolic links are resolved, naming a regular file no larger
//! than [`LoadOptions::max_python_file_bytes`](super::LoadOptions). A file that is refused is
//! never read, so nothing of it can appear in a message.

use super::error::{Problem, ProblemKind};
use super::parse::ParsedManifest;
use super::source_file::read_source_file;
use super::ManifestError;
use std::path::{Component, Path, PathBuf};

/// The node type whose `file` param is read here.
const PYTHON: &str = "python";

/// Replaces `file` of every `python` node by the file's text as `code` (with `filename` set to
/// the path as written, for tracebacks). Paths are relative to `base_dir` and must stay inside it;
/// each file may hold at most `max_bytes`. A node that also has `code` is left for the node type to
/// reject.
pub fn read_python_files(
    parsed: &mut ParsedManifest,
    base_dir: &Path,
    max_bytes: u64,
) -> Result<(), ManifestError> {
    let mut problems = Vec::new();
    // Resolved once, on the first `file`: a manifest without one never touches the disk here.
    let mut root: Option<Result<PathBuf, String>> = None;
    for (i, spec) in parsed.manifest.nodes.iter_mut().enumerate() {
        if &*spec.node_type != PYTHON || spec.params.contains_key("code") {
            continue;
        }
        let Some(serde_json::Value::String(file)) = spec.params.get("file") else {
            continue;
        };
        let root = root.get_or_insert_with(|| {
            let dir = if base_dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base_dir
            };
            dir.canonicalize()
                .map_err(|err| format!("the manifest's folder {}: {err}", dir.display()))
        });
        match read_confined(root.as_ref().map(PathBuf::as_path), file, max_bytes) {
            Ok(code) => {
                let file = file.clone();
                spec.params.remove("file");
                spec.params
                    .insert("code".into(), serde_json::Value::String(code));
                spec.params
                    .entry("filename")
                    .or_insert(serde_json::Value::String(file));
            }
            Err(message) => problems.push(Problem::error(
                ProblemKind::Params {
                    node_type: PYTHON.to_string(),
                    message: format!("param `file`: cannot read `{file}`: {message}"),
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

/// The text of `file` inside `root` (already canonical), or why it is refused.
fn read_confined(
    root: Result<&Path, &String>,
    file: &str,
    max_bytes: u64,
) -> Result<String, String> {
    let relative = Path::new(file);
    if file.is_empty() {
        return Err("the path is empty".to_string());
    }
    if relative.is_absolute() || relative.has_root() {
        return Err(
            "absolute paths are not allowed; give a path relative to the manifest's folder"
                .to_string(),
        );
    }
    if relative.components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::Prefix(_) | Component::RootDir
        )
    }) {
        return Err(
            "`..` is not allowed; the file must be inside the manifest's folder".to_string(),
        );
    }
    let root = root.map_err(String::clone)?;
    let path = root.join(relative);
    let resolved = path
        .canonicalize()
        .map_err(|err| format!("{err} (looked for {})", path.display()))?;
    if !resolved.starts_with(root) {
        return Err(format!(
            "it leads outside the manifest's folder {} (through a symbolic link)",
            root.display()
        ));
    }
    read_source_file(&resolved, max_bytes).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;

    /// A folder of its own under the temp dir, removed when dropped.
    struct Folder(PathBuf);

    impl Folder {
        fn new(name: &str) -> Folder {
            let dir =
                std::env::temp_dir().join(format!("python_files_{name}_{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("nodes")).unwrap();
            Folder(dir)
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn read(dir: &Path, file: &str, max_bytes: u64) -> Result<String, String> {
        let text = format!(
            r#"{{"version": "v1", "metadata": {{"name": "m"}}, "nodes": [{{"id": "n", "node_type": "python", "params": {{"file": {}, "class": "C"}}}}], "connections": []}}"#,
            serde_json::to_string(file).unwrap()
        );
        let mut parsed = parse("m.json", &text).unwrap();
        match read_python_files(&mut parsed, dir, max_bytes) {
            Ok(()) => Ok(parsed.manifest.nodes[0].params["code"]
                .as_str()
                .unwrap()
                .to_string()),
            Err(err) => {
                let problem = &err.problems[0];
                assert_eq!(problem.location.pointer, "/nodes/0/params/file");
                assert_eq!(problem.node.as_deref(), Some("n"));
                Err(err.to_string())
            }
        }
    }

    #[test]
    fn reads_a_file_inside_the_folder() {
        let folder = Folder::new("inside");
        std::fs::write(folder.0.join("nodes/a.py"), "x = 1\n").unwrap();
        assert_eq!(read(&folder.0, "nodes/a.py", 100).unwrap(), "x = 1\n");
        assert_eq!(read(&folder.0, "./nodes/a.py", 100).unwrap(), "x = 1\n");
    }

    #[test]
    fn refuses_paths_leaving_the_folder() {
        let folder = Folder::new("escape");
        let err = read(&folder.0, "/etc/passwd", 1 << 20).unwrap_err();
        assert!(err.contains("absolute paths are not allowed"), "{err}");
        assert!(!err.contains("root:"), "{err}");
        let err = read(&folder.0, "nodes/../../x.py", 1 << 20).unwrap_err();
        assert!(err.contains("`..` is not allowed"), "{err}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/passwd", folder.0.join("nodes/link.py")).unwrap();
            let err = read(&folder.0, "nodes/link.py", 1 << 20).unwrap_err();
            assert!(err.contains("leads outside the manifest's folder"), "{err}");
            assert!(!err.contains("root:"), "{err}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_small_regular_file() {
        let folder = Folder::new("kinds");
        let err = read(&folder.0, "nodes", 100).unwrap_err();
        assert!(err.contains("not a regular file (a directory)"), "{err}");
        std::fs::write(folder.0.join("big.py"), "#".repeat(101)).unwrap();
        let err = read(&folder.0, "big.py", 100).unwrap_err();
        assert!(err.contains("larger than the limit of 100 bytes"), "{err}");
        std::fs::write(folder.0.join("bin.py"), b"x = '\xff'").unwrap();
        let err = read(&folder.0, "bin.py", 100).unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/dev/zero", folder.0.join("zero.py")).unwrap();
            let err = read(&folder.0, "zero.py", 100).unwrap_err();
            assert!(err.contains("leads outside"), "{err}");
        }
    }
}
