//! The isolated Python worker: hidden subcommands, and the `--python-*` limit flags with which
//! the CLI installs isolation before it loads anything.
//!
//! `pipeline __python-worker` is what the CLI starts (itself, confined) for each stage with
//! Python nodes and for each script it describes; `pipeline __python-sandbox-check` starts one as
//! a run would and prints the worker's report on its own confinement (JSON), for tests and for
//! checking a host.

use super::CliError;
use std::process::ExitCode;

#[cfg(feature = "python")]
use pipeline::python::isolate as limit_defaults;

/// Without Python support the limit flags are accepted and unused (there are no Python nodes).
#[cfg(not(feature = "python"))]
mod limit_defaults {
    pub const DEFAULT_MEMORY_MB: u64 = 0;
    pub const DEFAULT_CPU_SECONDS: u64 = 0;
    pub const DEFAULT_ITEM_TIMEOUT_MS: u64 = 0;
}

/// The subcommand name of the worker.
#[cfg(feature = "python")]
pub const WORKER_SUBCOMMAND: &str = "__python-worker";

/// Limits of isolated Python nodes (per-node `"limits"` in a manifest override them).
#[derive(Debug, Clone, clap::Args)]
pub struct PythonLimitArgs {
    /// Address-space limit of each Python worker process, in MiB (0: none).
    #[arg(long, global = true, value_name = "MIB",
          default_value_t = limit_defaults::DEFAULT_MEMORY_MB)]
    python_memory_mb: u64,
    /// CPU time each Python worker process may use over the run, in seconds (0: none).
    #[arg(long, global = true, value_name = "SECONDS",
          default_value_t = limit_defaults::DEFAULT_CPU_SECONDS)]
    python_cpu_seconds: u64,
    /// Wall-clock time a Python node may spend on one item without returning or yielding, in
    /// milliseconds (0: none); also bounds evaluating a pipeline script.
    #[arg(long, global = true, value_name = "MS",
          default_value_t = limit_defaults::DEFAULT_ITEM_TIMEOUT_MS)]
    python_timeout_ms: u64,
    /// Run Python nodes inside this process instead of isolated workers (trusted code only: no
    /// process limits, no system-call filter).
    #[arg(long, global = true)]
    python_in_process: bool,
}

/// Arguments of the hidden worker subcommand (whatever follows it).
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
}

/// Makes this process run Python nodes isolated, in `pipeline __python-worker` children, unless
/// `--python-in-process`.
pub fn install(args: &PythonLimitArgs) -> Result<(), CliError> {
    #[cfg(feature = "python")]
    {
        use pipeline::python::isolate::{self, IsolationConfig, Limits};
        if args.python_in_process {
            isolate::install(None);
            return Ok(());
        }
        let program = std::env::current_exe().map_err(|source| CliError::Io {
            path: "/proc/self/exe".into(),
            source,
        })?;
        isolate::install(IsolationConfig {
            program,
            args: vec![WORKER_SUBCOMMAND.into()],
            limits: Limits {
                memory_mb: args.python_memory_mb,
                cpu_seconds: args.python_cpu_seconds,
                item_timeout_ms: args.python_timeout_ms,
            },
        });
    }
    #[cfg(not(feature = "python"))]
    let _ = args;
    Ok(())
}

/// `pipeline __python-worker`: serve the parent until it closes stdin.
pub fn worker(args: WorkerArgs) -> ExitCode {
    #[cfg(feature = "python")]
    return pipeline::python::isolate::worker_main(&args.args);
    #[cfg(not(feature = "python"))]
    {
        let _ = args;
        ExitCode::FAILURE
    }
}

/// `pipeline __python-sandbox-check`: start a worker as a run would and print its report.
pub fn sandbox_check() -> Result<ExitCode, CliError> {
    #[cfg(feature = "python")]
    {
        let config = pipeline::python::isolate::installed().ok_or_else(|| {
            CliError::Pipeline(pipeline::Error::msg(
                "isolation is off (--python-in-process)",
            ))
        })?;
        let report = pipeline::python::isolate::self_check(&config)?;
        println!("{report}");
        Ok(ExitCode::SUCCESS)
    }
    #[cfg(not(feature = "python"))]
    Err(CliError::Pipeline(pipeline::Error::msg(
        "this build has no Python support (feature `python`)",
    )))
}
