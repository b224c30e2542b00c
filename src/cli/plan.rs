//! `pipeline plan MANIFEST [--hosts FILE]`.

use super::cluster_args::ClusterArgs;
use super::{load, output, CliError};
use pipeline::graph::StageEntry;
use pipeline::placement::{place_across, HostInfo};
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The manifest (`.json`, `-` for stdin) or Python pipeline script (`.py`).
    manifest: PathBuf,
    #[command(flatten)]
    limits: load::ManifestLimits,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Prints the host, each node's placement and the stages; exits 1 when a node cannot be placed.
pub fn run(args: PlanArgs) -> Result<ExitCode, CliError> {
    let lowered = load::manifest(&args.manifest, &args.limits)?;
    // With `--hosts`, the workers say what they offer; nothing runs.
    let workers = match args.cluster.connect()? {
        Some(mut cluster) => cluster.describe()?,
        None => Vec::new(),
    };
    let plan = place_across(&lowered.parsed.manifest, &HostInfo::probe(), &workers);
    let mut text = plan.to_string();
    for (k, stage) in lowered.plan.stages.iter().enumerate() {
        let ids: Vec<&str> = stage.nodes.iter().map(|&i| lowered.graph.id(i)).collect();
        let entry = match stage.entry {
            StageEntry::Input => "input".to_string(),
            StageEntry::Node(i) => lowered.graph.id(i).to_string(),
        };
        let thread = if k == 0 {
            "caller's thread"
        } else {
            "own thread"
        };
        let _ = writeln!(
            text,
            "stage {k} ({thread}, entered at {entry}): {}",
            ids.join(", ")
        );
    }
    output::print(&text)?;
    Ok(if plan.unsatisfiable().next().is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
