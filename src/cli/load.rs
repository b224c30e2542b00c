//! Reading and loading a pipeline file, shared by the subcommands: a JSON manifest, or a Python
//! script (`.py`) that describes one.

use super::{report, CliError};
use pipeline::manifest::{self, LoweredManifest};
use std::path::Path;

/// Reads, parses, lowers and validates `path` (a manifest, or a `.py` script); prints warnings to
/// stderr.
pub fn manifest(path: &Path) -> Result<LoweredManifest, CliError> {
    let text = read(path)?;
    let file = path.display().to_string();
    let lowered = if is_script(path) {
        script(path, &text)?.load(&super::registry())?
    } else {
        manifest::load(&file, &text, &super::registry())?
    };
    report::warnings(&file, &lowered.parsed.text, lowered.warnings());
    Ok(lowered)
}

/// Whether `path` is a Python script rather than a manifest.
pub fn is_script(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
}

/// The file's text.
pub fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The pipeline a Python script describes (the script runs in the sandbox; only this side reads
/// files).
#[cfg(feature = "python")]
pub fn script(path: &Path, text: &str) -> Result<pipeline::python::ScriptPipeline, CliError> {
    pipeline::python::describe_script(&path.display().to_string(), text).map_err(|error| {
        CliError::Script {
            path: path.to_path_buf(),
            error,
        }
    })
}

/// Without the `python` feature a script cannot be read.
#[cfg(not(feature = "python"))]
pub fn script(path: &Path, _text: &str) -> Result<std::convert::Infallible, CliError> {
    Err(CliError::Script {
        path: path.to_path_buf(),
        error: pipeline::Error::msg("this build has no Python support (feature `python`)"),
    })
}
