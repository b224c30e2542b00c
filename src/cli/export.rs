//! `pipeline export SCRIPT.py [-o OUT.json]`: the manifest a Python script describes.

use super::{load, CliError};
#[cfg(feature = "python")]
use super::{output, same_file::Source};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The Python script.
    script: PathBuf,
    /// Write the manifest to this file instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The largest script read, in bytes.
    #[arg(long, default_value_t = pipeline::manifest::DEFAULT_MAX_MANIFEST_BYTES)]
    max_manifest_bytes: u64,
}

/// Describes the script, checks the result like `validate`, and writes it as JSON (Python nodes
/// embed the script as `code`).
#[cfg(feature = "python")]
pub fn run(args: ExportArgs) -> Result<ExitCode, CliError> {
    let text = load::read(&args.script, args.max_manifest_bytes)?;
    let described = load::script(&args.script, &text)?;
    described.load(&super::registry())?;
    let json = described.to_json();
    output::print_to(args.output.as_deref(), &[Source::path(&args.script)], &json)?;
    Ok(ExitCode::SUCCESS)
}

/// Without the `python` feature there are no scripts to export.
#[cfg(not(feature = "python"))]
pub fn run(args: ExportArgs) -> Result<ExitCode, CliError> {
    let text = load::read(&args.script, args.max_manifest_bytes)?;
    match load::script(&args.script, &text)? {}
}
