//! Reading and loading a pipeline file, shared by the subcommands: a JSON manifest, or a Python
//! script (`.py`) that describes one.
//!
//! A pipeline file may come from someone else: it is read only from a regular file (or stdin, as
//! `-`), up to `--max-manifest-bytes`, and held to the limits below before anything runs.

use super::{report, CliError};
use pipeline::graph::{
    GraphLimits, DEFAULT_MAX_FUSED_CHAIN, DEFAULT_MAX_PORTS, DEFAULT_MAX_STAGES,
};
use pipeline::manifest::{
    self, LoadOptions, LoweredManifest, SourceFileError, DEFAULT_MAX_MANIFEST_BYTES,
    DEFAULT_MAX_PYTHON_FILE_BYTES,
};
use std::path::Path;

/// The limits a manifest is loaded with: flags of every subcommand that takes one.
#[derive(Debug, Clone, clap::Args)]
pub struct ManifestLimits {
    /// The largest manifest or pipeline script read, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_MANIFEST_BYTES)]
    pub max_manifest_bytes: u64,
    /// The largest source file a `python` node's `"file"` may name, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_PYTHON_FILE_BYTES)]
    pub max_python_file_bytes: u64,
    /// The most nodes one stage may chain with `->` (each is a nested call on the stage's thread).
    #[arg(long, default_value_t = DEFAULT_MAX_FUSED_CHAIN,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_fused_chain: usize,
    /// The most stages (threads) a pipeline may have, stage 0 included.
    #[arg(long, default_value_t = DEFAULT_MAX_STAGES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_stages: usize,
    /// The most named output ports one node may have (a `Route` by field has one per name).
    #[arg(long, default_value_t = DEFAULT_MAX_PORTS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_ports: usize,
}

impl ManifestLimits {
    fn load_options(&self) -> LoadOptions {
        LoadOptions {
            max_python_file_bytes: self.max_python_file_bytes,
            graph_limits: GraphLimits {
                max_fused_chain: self.max_fused_chain,
                max_stages: self.max_stages,
                max_ports: self.max_ports,
            },
            ..LoadOptions::default()
        }
    }
}

/// Reads, parses, lowers and validates `path` (a manifest, `-` for one on stdin, or a `.py`
/// script); prints warnings to stderr.
pub fn manifest(path: &Path, limits: &ManifestLimits) -> Result<LoweredManifest, CliError> {
    let text = read(path, limits.max_manifest_bytes)?;
    let file = path.display().to_string();
    let mut options = limits.load_options();
    if is_stdin(path) {
        options.base_dir = Some(".".into());
    }
    let lowered = if is_script(path) {
        script_manifest(path, &text)?
    } else {
        manifest::load_with_options(&file, &text, &super::registry(), &options)?
    };
    report::warnings(&file, &lowered.parsed.text, lowered.warnings());
    Ok(lowered)
}

/// Whether `path` is a Python script rather than a manifest.
pub fn is_script(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
}

/// Whether `path` means stdin.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The file's text: a regular file (or stdin for `-`) of at most `limit` bytes, in UTF-8.
pub fn read(path: &Path, limit: u64) -> Result<String, CliError> {
    let text = if is_stdin(path) {
        manifest::read_bounded(std::io::stdin().lock(), limit)
    } else {
        manifest::read_source_file(path, limit)
    };
    text.map_err(|err| {
        let source = match err {
            SourceFileError::Io(source) => source,
            SourceFileError::TooLarge { limit } => std::io::Error::other(format!(
                "larger than the limit of {limit} bytes (raise it with --max-manifest-bytes)"
            )),
            other => std::io::Error::other(other.to_string()),
        };
        CliError::Io {
            path: path.to_path_buf(),
            source,
        }
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

/// The manifest a Python script describes, lowered like a manifest file.
#[cfg(feature = "python")]
fn script_manifest(path: &Path, text: &str) -> Result<LoweredManifest, CliError> {
    Ok(script(path, text)?.load(&super::registry())?)
}

/// Without the `python` feature there are no scripts.
#[cfg(not(feature = "python"))]
fn script_manifest(path: &Path, text: &str) -> Result<LoweredManifest, CliError> {
    match script(path, text)? {}
}

/// Without the `python` feature a script cannot be read.
#[cfg(not(feature = "python"))]
pub fn script(path: &Path, _text: &str) -> Result<std::convert::Infallible, CliError> {
    Err(CliError::Script {
        path: path.to_path_buf(),
        error: pipeline::Error::msg("this build has no Python support (feature `python`)"),
    })
}
