//! `pipeline plan MANIFEST [--hosts FILE]`.

use super::{load, output, CliError};
#[cfg(feature = "distributed")]
use pipeline::distributed::{Assignment, SegmentEntry, Segmentation};
use pipeline::graph::StageEntry;
use pipeline::manifest::LoweredManifest;
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
    #[cfg(feature = "distributed")]
    #[command(flatten)]
    cluster: super::cluster_args::ClusterArgs,
}

/// Prints the host, each node's placement and the stages; exits 1 when a node cannot be placed.
pub fn run(args: PlanArgs) -> Result<ExitCode, CliError> {
    let lowered = load::manifest(&args.manifest, &args.limits)?;
    // With `--hosts`, the workers say what they offer; nothing runs.
    #[cfg(feature = "distributed")]
    let workers = match args.cluster.connect()? {
        Some(mut cluster) => cluster.describe()?,
        None => Vec::new(),
    };
    #[cfg(not(feature = "distributed"))]
    let workers = Vec::new();
    let plan = place_across(&lowered.parsed.manifest, &HostInfo::probe(), &workers);
    let mut text = plan.to_string();
    if plan.workers.is_empty() {
        stages(&lowered, &mut text);
    } else if plan.unsatisfiable().next().is_none() {
        #[cfg(feature = "distributed")]
        segments(&lowered, &plan, &mut text)?;
    }
    output::print(&text)?;
    Ok(if plan.unsatisfiable().next().is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The local run's stages: `stage k (thread, entered at X): nodes`.
fn stages(lowered: &LoweredManifest, text: &mut String) {
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
}

#[cfg(feature = "distributed")]
/// A run across processes: `segment k on P (entered at X): nodes`, each segment a pipeline of its
/// own on its process (or spread over several).
fn segments(
    lowered: &LoweredManifest,
    plan: &pipeline::placement::PlacementPlan,
    text: &mut String,
) -> Result<(), CliError> {
    let assignment = Assignment::from_plan(plan)?;
    let graph = &lowered.graph;
    let split = Segmentation::split(
        graph.graph.nodes.len(),
        &graph.topo,
        &graph.edges,
        graph.outputs.len(),
        &assignment,
    );
    let process = |p: usize| match p {
        0 => "local".to_string(),
        p => plan.workers[p - 1].0.clone(),
    };
    for (k, segment) in split.segments.iter().enumerate() {
        let ids: Vec<&str> = segment.nodes.iter().map(|&i| graph.id(i)).collect();
        let entry = match segment.entry {
            SegmentEntry::Input => "input".to_string(),
            SegmentEntry::Node(i) => graph.id(i).to_string(),
        };
        let places: Vec<String> = segment.processes.iter().map(|&p| process(p)).collect();
        let _ = writeln!(
            text,
            "segment {k} on {} (entered at {entry}): {}",
            places.join(" + "),
            ids.join(", ")
        );
    }
    Ok(())
}
