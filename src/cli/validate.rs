//! `pipeline validate MANIFEST`.

use super::{load, output, CliError};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The manifest (`.json`, `-` for stdin) or Python pipeline script (`.py`).
    manifest: PathBuf,
    #[command(flatten)]
    limits: load::ManifestLimits,
}

/// Loads the manifest with every check `run` does before its first item (placement aside).
pub fn run(args: ValidateArgs) -> Result<ExitCode, CliError> {
    let lowered = load::manifest(&args.manifest, &args.limits)?;
    let m = &lowered.parsed.manifest;
    output::print(&format!(
        "{}: valid: pipeline `{}`, {} nodes, {} connections, {} stage(s), outputs: {}\n",
        args.manifest.display(),
        m.metadata.name,
        m.nodes.len(),
        m.connections.len(),
        lowered.plan.stages.len(),
        lowered.graph.outputs.join(", ")
    ))?;
    Ok(ExitCode::SUCCESS)
}
