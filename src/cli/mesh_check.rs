//! `pipeline __mesh-check --hosts FILE`: a self-test of a cluster. This process and the listed
//! workers run a small real dataflow (numbers exchanged between every pair of processes and
//! summed here); it prints the workers' hosts and the sum as JSON, and fails like a run would.

use super::cluster_args::ClusterArgs;
use super::{output, CliError};
use pipeline::distributed::{ExchangeSum, Job};
use std::process::ExitCode;

/// Arguments of the hidden mesh check.
#[derive(Debug, clap::Args)]
pub struct MeshCheckArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Rounds (timely epochs).
    #[arg(long, default_value_t = 10)]
    rounds: u64,
    /// Numbers each process sends per round.
    #[arg(long, default_value_t = 100)]
    per_round: u64,
    /// Pause of every worker after each of its rounds, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// A number that node `check` refuses (to see a node's error reported).
    #[arg(long)]
    fail_on: Option<u64>,
}

/// Runs the check; exits 1 on any failure.
pub fn run(args: MeshCheckArgs) -> Result<ExitCode, CliError> {
    let Some(mut cluster) = args.cluster.connect()? else {
        return Err(pipeline::Error::new(
            pipeline::ErrorKind::Cluster,
            "the mesh check needs --hosts FILE",
        )
        .into());
    };
    let hosts = cluster.describe()?;
    let job = ExchangeSum {
        rounds: args.rounds,
        per_round: args.per_round,
        delay_ms: args.delay_ms,
        fail_on: args.fail_on,
    };
    let processes = hosts.len() as u64 + 1;
    let sum = cluster.run(&Job::ExchangeSum(job.clone()), |worker| job.run(worker))?;
    let expected = job.expected(processes);
    let report = serde_json::json!({
        "processes": processes,
        "workers": hosts.iter().map(|(address, host)| serde_json::json!({
            "address": address,
            "host": serde_json::to_value(host).unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "sum": sum,
        "expected": expected,
    });
    output::print(&format!("{report}\n"))?;
    if sum != expected {
        return Err(pipeline::Error::new(
            pipeline::ErrorKind::Cluster,
            format_args!("the mesh lost numbers: the sum is {sum}, not {expected}"),
        )
        .into());
    }
    Ok(ExitCode::SUCCESS)
}
