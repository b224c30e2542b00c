//! Reading and loading a manifest file, shared by the subcommands.

use super::{report, CliError};
use pipeline::manifest::{self, LoweredManifest};
use std::path::Path;

/// Reads, parses, lowers and validates `path`; prints warnings to stderr.
pub fn manifest(path: &Path) -> Result<LoweredManifest, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = path.display().to_string();
    let lowered = manifest::load(&file, &text, &super::registry())?;
    report::warnings(&file, &text, lowered.warnings());
    Ok(lowered)
}
