//! `pipeline run M --hosts FILE`: the same run over this process and the listed workers.
//!
//! This process connects to every worker (token checked both ways), asks each what it offers,
//! places the nodes (local first, see `placement::place_across`), sends every worker the manifest
//! and the placement, and runs its own part on timely: it reads the input and writes the outputs,
//! as `run` does.

use super::across_io::{OutputSink, ParsedInput};
use super::cluster_args::ClusterArgs;
use super::line_chunks::{self, Parse};
use super::run::{open_input, open_output, RunArgs, Writer};
use super::same_file::Source;
use super::{load, output, report, CliError};
use pipeline::distributed::{
    run_process, Assignment, Cluster, ClusterRun, Job, ManifestJob, NodeTotals, Role, RunSummary,
    DEFAULT_BATCH_ITEMS,
};
use pipeline::manifest::{check_plan, LoweredManifest};
use pipeline::placement::{place_across, HostInfo, PlacementPlan};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Connects to the workers of `--hosts` and places `lowered` over them and this host; fails naming
/// each node that fits nowhere. Prints placement warnings.
pub fn place(lowered: &LoweredManifest, cluster: &mut Cluster) -> Result<PlacementPlan, CliError> {
    let workers = cluster.describe()?;
    let plan = place_across(&lowered.parsed.manifest, &HostInfo::probe(), &workers);
    let (plan, warnings) = check_plan(lowered, plan)?;
    report::warnings(&lowered.parsed.file, &lowered.parsed.text, &warnings);
    Ok(plan)
}

/// Runs the manifest across this process and the workers of `cluster_args`.
pub fn run(args: RunArgs, cluster_args: &ClusterArgs) -> Result<ExitCode, CliError> {
    let lowered = load::manifest(&args.manifest, &args.limits)?;
    let mut cluster = cluster_args
        .connect()?
        .expect("run_across is only called with --hosts");
    let plan = place(&lowered, &mut cluster)?;
    let assignment = Assignment::from_plan(&plan)?;
    // Every process loads the same text: the manifest as loaded here, with each `python` node's
    // `file` read into `code`.
    let text = serde_json::to_string(&lowered.parsed.manifest)
        .map_err(|err| CliError::Pipeline(pipeline::Error::msg(err)))?;
    let mut job = ManifestJob::new(&lowered.parsed.file, text, assignment.clone());
    job.batch_items = args.batch_size.clamp(1, DEFAULT_BATCH_ITEMS);
    job.stage_batch_size = args.batch_size;
    job.max_fused_chain = args.limits.max_fused_chain;
    job.max_stages = args.limits.max_stages;
    job.max_ports = args.limits.max_ports;
    job.stats = args.stats;
    let options = job.dataflow_options(args.stats);
    let nodes: Vec<String> = lowered
        .graph
        .graph
        .nodes
        .iter()
        .map(|node| node.id.to_string())
        .collect();
    let places: Vec<String> = std::iter::once("local".to_string())
        .chain(cluster.workers().iter().map(|address| address.to_string()))
        .collect();
    let started = Instant::now();

    let (input, source) = open_input(args.input.as_deref())?;
    let out = open_output(
        args.output.as_deref(),
        &[source, Source::path(&args.manifest)],
    )?;
    let outputs = lowered.graph.outputs.clone();
    let mut writer = Writer::new(
        out,
        args.tag,
        &outputs,
        outputs
            .iter()
            .map(|name| format!("output `{name}`"))
            .collect(),
        output::name(args.output.as_deref()),
    );
    let lines = line_chunks::spawn(input, args.max_line_bytes, Parse::Not);
    let mut items = ParsedInput::spawn(lines, args.max_line_bytes);
    let mut sink = OutputSink {
        writer: &mut writer,
        unwritable: None,
    };
    let outcome = cluster.run_with_summaries(&Job::Manifest(Box::new(job)), |worker| {
        let role = Role::Local {
            input: &mut items,
            sink: &mut sink,
        };
        run_process(worker, lowered, &assignment, role, &options)
    });
    let unwritable = sink.unwritable.take();
    // What was written stays written, whatever stopped the run.
    let flushed = writer.flush();
    if let Some(err) = unwritable {
        return Err(err);
    }
    let run = outcome?;
    flushed?;
    if args.stats {
        print_stats(&nodes, &places, run, started.elapsed());
    }
    match items.bad_line {
        Some(err) => Err(err),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// `--stats` of a run across processes: the local report's table (see `run`'s), each node once
/// with its counters summed over the processes it ran on, and where it ran (`local` or the
/// worker's address; several for a `"distribute": true` node).
fn print_stats(
    nodes: &[String],
    places: &[String],
    run: ClusterRun<RunSummary>,
    elapsed: Duration,
) {
    let ClusterRun { local, workers } = run;
    let (read, written) = (local.items_read, local.items_written);
    let figures = local
        .node_stats
        .into_iter()
        .chain(workers.into_iter().flat_map(|worker| worker.node_stats));
    report::stderr_line(format_args!(
        "{:<20} {:>12} {:>12} {:>12}  where",
        "node", "items in", "items out", "time"
    ));
    for total in NodeTotals::by_node(nodes.iter().map(String::as_str), figures) {
        let places: Vec<&str> = total
            .processes
            .iter()
            .map(|&p| places.get(p).map_or("?", String::as_str))
            .collect();
        report::stderr_line(format_args!(
            "{:<20} {:>12} {:>12} {:>12.3?}  {}",
            total.node,
            total.items_in,
            total.items_out,
            total.time,
            places.join(", ")
        ));
    }
    report::stderr_line(format_args!(
        "{:<20} {read:>12} {written:>12} {elapsed:>12.3?}",
        "(total)"
    ));
}
