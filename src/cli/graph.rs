//! `pipeline graph MANIFEST --format mermaid|dot`.

use super::{load, output, CliError};
use pipeline::dynamic::{build, BuildOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz digraph.
    Dot,
}

/// Arguments of `graph`.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// The manifest (`.json`, `-` for stdin) or Python pipeline script (`.py`).
    manifest: PathBuf,
    #[command(flatten)]
    limits: load::ManifestLimits,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    format: Format,
}

/// Prints the graph as the runtime sees it: nodes, edges, stages.
pub fn run(args: GraphArgs) -> Result<ExitCode, CliError> {
    let pipeline = build(
        load::manifest(&args.manifest, &args.limits)?,
        BuildOptions::default(),
    );
    let description = pipeline.describe();
    output::print(&match args.format {
        Format::Mermaid => description.to_mermaid(),
        Format::Dot => description.to_dot(),
    })?;
    Ok(ExitCode::SUCCESS)
}
