//! Whether one host meets one node's capabilities: the single check behind every placement.

use super::{Capabilities, GpuKind, HostInfo};

/// How a host meets a node's capabilities.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fit {
    /// Everything asked for is there.
    Fits,
    /// All but an optional GPU: the node can run on this host's CPU.
    WithoutOptionalGpu(String),
    /// A required capability is missing (the text names it).
    Missing(String),
}

fn normalise_arch(arch: &str) -> &str {
    match arch {
        "amd64" | "x64" => "x86_64",
        "arm64" => "aarch64",
        other => other,
    }
}

/// Checks `caps` against `host`; `None` asks for nothing.
pub(crate) fn fit(caps: Option<&Capabilities>, host: &HostInfo) -> Fit {
    let Some(caps) = caps else {
        return Fit::Fits;
    };
    if let Some(cpu) = &caps.cpu {
        if let Some(cores) = cpu.cores {
            if cores > host.cores {
                return Fit::Missing(format!("cpu: needs {cores} cores, host has {}", host.cores));
            }
        }
        if let Some(arch) = &cpu.arch {
            if normalise_arch(arch) != normalise_arch(&host.arch) {
                return Fit::Missing(format!("cpu: needs arch {arch}, host is {}", host.arch));
            }
        }
    }
    if let (Some(need), Some(have)) = (caps.memory_gb, host.memory_gb) {
        if need > have {
            return Fit::Missing(format!("memory: needs {need} GB, host has {have:.1} GB"));
        }
    }
    if let Some(gpu) = &caps.gpu {
        let fits = host.gpus.iter().any(|g| {
            (gpu.kind == GpuKind::Any || g.kind == gpu.kind)
                && match (gpu.min_memory_gb, g.memory_gb) {
                    (Some(need), Some(have)) => have >= need,
                    _ => true,
                }
        });
        if !fits {
            let memory = gpu
                .min_memory_gb
                .map_or(String::new(), |m| format!(" with {m} GB"));
            let unmet = format!(
                "gpu: needs a {} GPU{memory}, host has none",
                gpu.kind.name()
            );
            return if gpu.required {
                Fit::Missing(unmet)
            } else {
                Fit::WithoutOptionalGpu(unmet)
            };
        }
    }
    Fit::Fits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::{GpuInfo, GpuRequirement};

    fn host(gpus: Vec<GpuInfo>) -> HostInfo {
        HostInfo {
            cores: 4,
            arch: "x86_64".into(),
            memory_gb: Some(8.0),
            gpus,
        }
    }

    fn gpu(required: bool) -> Capabilities {
        Capabilities {
            gpu: Some(GpuRequirement {
                kind: GpuKind::Cuda,
                min_memory_gb: Some(4.0),
                required,
            }),
            ..Capabilities::default()
        }
    }

    #[test]
    fn gpu_needs_are_missing_or_optional() {
        assert!(matches!(
            fit(Some(&gpu(true)), &host(vec![])),
            Fit::Missing(_)
        ));
        assert!(matches!(
            fit(Some(&gpu(false)), &host(vec![])),
            Fit::WithoutOptionalGpu(_)
        ));
        let small = GpuInfo {
            kind: GpuKind::Cuda,
            memory_gb: Some(2.0),
        };
        assert!(matches!(
            fit(Some(&gpu(true)), &host(vec![small])),
            Fit::Missing(_)
        ));
        let cuda = GpuInfo {
            kind: GpuKind::Cuda,
            memory_gb: Some(16.0),
        };
        assert_eq!(fit(Some(&gpu(true)), &host(vec![cuda])), Fit::Fits);
    }

    #[test]
    fn cpu_and_memory_are_checked() {
        let caps = |json: &str| serde_json::from_str::<Capabilities>(json).unwrap();
        assert_eq!(
            fit(
                Some(&caps(r#"{"cpu": {"arch": "amd64", "cores": 2}}"#)),
                &host(vec![])
            ),
            Fit::Fits
        );
        assert!(matches!(
            fit(Some(&caps(r#"{"cpu": {"arch": "arm64"}}"#)), &host(vec![])),
            Fit::Missing(_)
        ));
        assert!(matches!(
            fit(Some(&caps(r#"{"memory_gb": 64}"#)), &host(vec![])),
            Fit::Missing(_)
        ));
    }
}
