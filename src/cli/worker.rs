//! `pipeline worker --listen HOST:PORT`: a long-lived worker that serves runs across machines.
//!
//! It prints exactly one line on stdout, `listening on HOST:PORT` (the real port when port 0
//! was asked), once it accepts connections; its log (one line per run or refused connection)
//! goes to stderr.

use super::cluster_args::{seconds, TokenArgs};
use super::{output, CliError};
use pipeline::distributed::{self, WorkerConfig, WorkerServer};
use pipeline::placement::{GpuInfo, GpuKind, HostInfo};
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `worker`.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Where to listen (`127.0.0.1:0`: a free port on loopback, printed on stdout).
    #[arg(long, value_name = "HOST:PORT")]
    listen: String,
    /// A GPU this host offers, as `TYPE` or `TYPE:GB` (cuda, rocm, metal, vulkan); replaces the
    /// probed GPUs. Repeatable.
    #[arg(long, value_name = "TYPE:GB", value_parser = gpu)]
    gpu: Vec<GpuInfo>,
    /// Cores to report instead of the probed count.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    cores: Option<u32>,
    /// Memory to report instead of the probed amount, in GB.
    #[arg(long, value_name = "GB", value_parser = memory_gb)]
    memory_gb: Option<f64>,
    #[command(flatten)]
    token: TokenArgs,
    /// Time for the handshake of an incoming connection and for one attempt of this worker's
    /// own links to other workers, in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = seconds,
          default_value = "5")]
    connect_timeout: Duration,
    /// Connections served at once; more are refused.
    #[arg(long, value_name = "N", default_value_t = distributed::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_connections: usize,
    /// The largest control message accepted (a run's manifest and files), in MiB.
    #[arg(long, value_name = "MIB", default_value_t = (distributed::DEFAULT_MAX_MESSAGE_BYTES >> 20) as u64,
          value_parser = clap::value_parser!(u64).range(1..=4095))]
    max_message_mb: u64,
}

/// `TYPE` or `TYPE:GB`.
fn gpu(text: &str) -> Result<GpuInfo, String> {
    let (kind, memory) = match text.split_once(':') {
        Some((kind, memory)) => (kind, Some(memory_gb(memory)?)),
        None => (text, None),
    };
    let kind = match kind {
        "cuda" => GpuKind::Cuda,
        "rocm" => GpuKind::Rocm,
        "metal" => GpuKind::Metal,
        "vulkan" => GpuKind::Vulkan,
        other => {
            return Err(format!(
                "`{other}` is not a GPU type (cuda, rocm, metal, vulkan)"
            ))
        }
    };
    Ok(GpuInfo {
        kind,
        memory_gb: memory,
    })
}

fn memory_gb(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(gb) if gb > 0.0 && gb.is_finite() => Ok(gb),
        _ => Err(format!("`{text}` is not a positive number of GB")),
    }
}

/// Binds, prints `listening on HOST:PORT`, serves until killed.
pub fn run(args: WorkerArgs) -> Result<ExitCode, CliError> {
    let mut host = HostInfo::probe();
    if !args.gpu.is_empty() {
        host.gpus = args.gpu.clone();
    }
    if let Some(cores) = args.cores {
        host.cores = cores;
    }
    if let Some(memory) = args.memory_gb {
        host.memory_gb = Some(memory);
    }
    let mut config = WorkerConfig::new(host, args.token.secret()?);
    config.options.connect_timeout = args.connect_timeout;
    config.options.max_message_bytes = (args.max_message_mb as usize) << 20;
    config.max_connections = args.max_connections;
    // Manifests are loaded with the node types `pipeline run` has (`python` nodes included).
    config.runner =
        std::sync::Arc::new(|job, worker| job.run_on_worker(worker, &super::registry()));
    let server = WorkerServer::bind(&args.listen, config)?;
    output::print(&format!("listening on {}\n", server.local_addr()))?;
    server.serve()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpus_parse_with_and_without_memory() {
        assert_eq!(
            gpu("cuda:16"),
            Ok(GpuInfo {
                kind: GpuKind::Cuda,
                memory_gb: Some(16.0)
            })
        );
        assert_eq!(gpu("rocm").unwrap().memory_gb, None);
        assert!(gpu("tpu:8").unwrap_err().contains("not a GPU type"));
        assert!(gpu("cuda:-1")
            .unwrap_err()
            .contains("positive number of GB"));
        assert!(gpu("cuda:").is_err());
    }

    #[test]
    fn the_flags_defaults_are_the_librarys() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            worker: WorkerArgs,
        }
        let flags = Flags::parse_from(["test", "--listen", "127.0.0.1:0"]);
        assert_eq!(
            flags.worker.connect_timeout,
            distributed::DEFAULT_CONNECT_TIMEOUT
        );
        assert_eq!(
            flags.worker.max_connections,
            distributed::DEFAULT_MAX_CONNECTIONS
        );
        assert_eq!(
            (flags.worker.max_message_mb as usize) << 20,
            distributed::DEFAULT_MAX_MESSAGE_BYTES
        );
    }
}
