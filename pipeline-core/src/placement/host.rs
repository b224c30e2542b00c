//! What this machine offers: cores, architecture, memory, GPUs.

use super::GpuKind;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A GPU found on the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    /// Its API.
    pub kind: GpuKind,
    /// Device memory in GB, when known.
    pub memory_gb: Option<f64>,
}

/// A host's resources: this machine's, or a `pipeline worker`'s as it reports them (hence `Deserialize`).
///
/// ```
/// use pipeline_core::placement::HostInfo;
/// let host = HostInfo::probe();
/// assert!(host.cores >= 1);
/// assert_eq!(host.arch, std::env::consts::ARCH);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    /// Logical cores available to this process.
    pub cores: u32,
    /// CPU architecture (`x86_64`, `aarch64`, ...).
    pub arch: String,
    /// Total memory in GB, when known.
    pub memory_gb: Option<f64>,
    /// GPUs found.
    pub gpus: Vec<GpuInfo>,
}

impl HostInfo {
    /// Probes this machine: `available_parallelism`, the compile-time arch, `/proc/meminfo`, and GPU
    /// device nodes or driver files (`/dev/nvidia0`, `/proc/driver/nvidia/version`, `/dev/kfd`).
    pub fn probe() -> HostInfo {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let memory_gb = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| mem_total_gb(&text));
        let mut gpus = Vec::new();
        if Path::new("/dev/nvidia0").exists() || Path::new("/proc/driver/nvidia/version").exists() {
            gpus.push(GpuInfo {
                kind: GpuKind::Cuda,
                memory_gb: None,
            });
        }
        if Path::new("/dev/kfd").exists() {
            gpus.push(GpuInfo {
                kind: GpuKind::Rocm,
                memory_gb: None,
            });
        }
        HostInfo {
            cores,
            arch: std::env::consts::ARCH.to_string(),
            memory_gb,
            gpus,
        }
    }
}

/// `MemTotal` of a `/proc/meminfo` text, in GB.
fn mem_total_gb(meminfo: &str) -> Option<f64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_is_read_in_gb() {
        let text = "MemTotal:       16777216 kB\nMemFree: 1 kB\n";
        assert_eq!(mem_total_gb(text), Some(16.0));
        assert_eq!(mem_total_gb("nothing"), None);
    }
}
