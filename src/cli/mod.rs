//! Command-line dispatch: one file per subcommand. A new subcommand is a file, a variant of
//! [`Command`] and a line in [`main`].

#[cfg(feature = "distributed")]
mod across_io;
mod bench;
#[cfg(feature = "distributed")]
pub mod cluster_args;
mod error;
mod export;
mod graph;
mod line_chunks;
mod load;
#[cfg(feature = "distributed")]
mod mesh_check;
mod newlines;
mod nodes;
mod output;
mod panic_hook;
mod plan;
mod python_worker;
mod report;
mod run;
#[cfg(feature = "distributed")]
mod run_across;
mod same_file;
mod schema;
mod tag_prefix;
mod validate;
#[cfg(feature = "distributed")]
mod worker;

use clap::{Parser, Subcommand};
pub use error::CliError;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

/// Node-graph pipelines from JSON manifests or Python scripts.
#[derive(Debug, Parser)]
#[command(name = "pipeline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    python: python_worker::PythonLimitArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Benchmark every workload in every mode against a CPython run of the same workload.
    Bench(bench::BenchArgs),
    /// Write the JSON manifest a Python pipeline script describes.
    Export(export::ExportArgs),
    /// Run a manifest (or Python script) over JSON Lines (one JSON value per line) from stdin or a file.
    Run(run::RunArgs),
    /// Check a manifest: shape, node types, params, graph rules.
    Validate(validate::ValidateArgs),
    /// Print a manifest's graph as Mermaid or Graphviz DOT.
    Graph(graph::GraphArgs),
    /// List the registered node types with their params and port types.
    Nodes(nodes::NodesArgs),
    /// Show where each node runs given its capabilities and this host.
    Plan(plan::PlanArgs),
    /// Print the manifest's JSON Schema.
    Schema(schema::SchemaArgs),
    /// Serve runs across machines: a long-lived worker that `run --hosts` sends nodes to.
    #[cfg(feature = "distributed")]
    Worker(worker::WorkerArgs),
    /// Run a small dataflow across this process and the listed workers, and print the result.
    #[cfg(feature = "distributed")]
    #[command(name = "__mesh-check", hide = true)]
    MeshCheck(mesh_check::MeshCheckArgs),
    /// The isolated Python worker (started by the CLI itself).
    #[command(name = "__python-worker", hide = true)]
    PythonWorker(python_worker::WorkerArgs),
    /// Start a Python worker as a run would and print its report on its own confinement.
    #[command(name = "__python-sandbox-check", hide = true)]
    PythonSandboxCheck,
}

/// The node types the CLI knows.
pub fn registry() -> pipeline::dynamic::Registry {
    #[allow(unused_mut)]
    let mut registry = pipeline::dynamic::Registry::with_builtins();
    #[cfg(feature = "python")]
    pipeline::python::register_python(&mut registry);
    registry
}

/// Parses the arguments, runs the subcommand, reports any error on stderr.
///
/// A closed output ends the command quietly with status 0 (see `output`); a panic that escapes
/// the subcommand is an internal error, status 101 (see `panic_hook`).
pub fn main() -> ExitCode {
    panic_hook::install();
    let cli = Cli::parse();
    if let Command::PythonWorker(args) = cli.command {
        return python_worker::worker(args);
    }
    report::install_handler();
    if let Err(err) = python_worker::install(&cli.python) {
        report::error(&err);
        return ExitCode::FAILURE;
    }
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| dispatch(cli.command)));
    match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(CliError::OutputClosed)) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            report::error(&err);
            ExitCode::FAILURE
        }
        Err(payload) => panic_hook::report_uncaught(&*payload),
    }
}

fn dispatch(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Bench(args) => bench::run(args),
        Command::Export(args) => export::run(args),
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Nodes(args) => nodes::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Schema(args) => schema::run(args),
        #[cfg(feature = "distributed")]
        Command::Worker(args) => worker::run(args),
        #[cfg(feature = "distributed")]
        Command::MeshCheck(args) => mesh_check::run(args),
        Command::PythonSandboxCheck => python_worker::sandbox_check(),
        Command::PythonWorker(_) => unreachable!("served in main"),
    }
}
