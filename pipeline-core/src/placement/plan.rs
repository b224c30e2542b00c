//! The placement plan: each node local, local on the CPU instead of a GPU, remote, or unsatisfiable.

use super::{Capabilities, GpuKind, HostInfo};
use crate::manifest::Manifest;
use serde::Serialize;
use std::fmt;

/// Where one node runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "placement", rename_all = "snake_case")]
pub enum Placement {
    /// On this host.
    Local,
    /// On this host's CPU: its optional GPU requirement is not met.
    LocalCpuFallback {
        /// The unmet requirement.
        unmet: String,
    },
    /// On a remote executor (`host` in the manifest); planned, not yet executed.
    Remote {
        /// `host:port`.
        host: String,
    },
    /// Nowhere: a required capability is missing.
    Unsatisfiable {
        /// The unmet requirement.
        unmet: String,
    },
}

/// One node's placement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodePlacement {
    /// Node id.
    pub node: String,
    /// Index of the node in the manifest.
    pub index: usize,
    /// The decision.
    #[serde(flatten)]
    pub placement: Placement,
}

/// Placements of every node, with the host they were made for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlacementPlan {
    /// The probed host.
    pub host: HostInfo,
    /// One entry per node, in manifest order.
    pub nodes: Vec<NodePlacement>,
}

impl PlacementPlan {
    /// The nodes that cannot run.
    pub fn unsatisfiable(&self) -> impl Iterator<Item = &NodePlacement> {
        self.nodes.iter().filter(|n| {
            matches!(
                n.placement,
                Placement::Unsatisfiable { .. } | Placement::Remote { .. }
            )
        })
    }
}

impl fmt::Display for PlacementPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.host;
        let memory = h
            .memory_gb
            .map_or("unknown".to_string(), |m| format!("{m:.1} GB"));
        let gpus = if h.gpus.is_empty() {
            "none".to_string()
        } else {
            h.gpus
                .iter()
                .map(|g| g.kind.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "host: {} cores, {}, memory {memory}, gpu {gpus}",
            h.cores, h.arch
        )?;
        for n in &self.nodes {
            match &n.placement {
                Placement::Local => writeln!(f, "  {}: local", n.node)?,
                Placement::LocalCpuFallback { unmet } => {
                    writeln!(f, "  {}: local (cpu fallback: {unmet})", n.node)?
                }
                Placement::Remote { host } => {
                    writeln!(f, "  {}: remote {host} (not supported yet)", n.node)?
                }
                Placement::Unsatisfiable { unmet } => {
                    writeln!(f, "  {}: UNSATISFIABLE: {unmet}", n.node)?
                }
            }
        }
        Ok(())
    }
}

/// Places every node of `manifest` on `host`.
///
/// ```
/// use pipeline_core::manifest::Manifest;
/// use pipeline_core::placement::{place, HostInfo, Placement};
/// let m: Manifest = serde_json::from_str(r#"{"version": "v1", "metadata": {"name": "m"},
///     "nodes": [{"id": "a", "node_type": "PassThrough", "capabilities": {"cpu": {"cores": 9999}}}],
///     "connections": []}"#).unwrap();
/// let plan = place(&m, &HostInfo::probe());
/// assert!(matches!(&plan.nodes[0].placement, Placement::Unsatisfiable { unmet } if unmet.contains("9999 cores")));
/// ```
pub fn place(manifest: &Manifest, host: &HostInfo) -> PlacementPlan {
    let nodes = manifest
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| NodePlacement {
            node: node.id.to_string(),
            index,
            placement: match &node.host {
                Some(remote) => Placement::Remote {
                    host: remote.clone(),
                },
                None => place_locally(node.capabilities.as_ref(), host),
            },
        })
        .collect();
    PlacementPlan {
        host: host.clone(),
        nodes,
    }
}

fn normalise_arch(arch: &str) -> &str {
    match arch {
        "amd64" | "x64" => "x86_64",
        "arm64" => "aarch64",
        other => other,
    }
}

fn place_locally(caps: Option<&Capabilities>, host: &HostInfo) -> Placement {
    let Some(caps) = caps else {
        return Placement::Local;
    };
    if let Some(cpu) = &caps.cpu {
        if let Some(cores) = cpu.cores {
            if cores > host.cores {
                return Placement::Unsatisfiable {
                    unmet: format!("cpu: needs {cores} cores, host has {}", host.cores),
                };
            }
        }
        if let Some(arch) = &cpu.arch {
            if normalise_arch(arch) != normalise_arch(&host.arch) {
                return Placement::Unsatisfiable {
                    unmet: format!("cpu: needs arch {arch}, host is {}", host.arch),
                };
            }
        }
    }
    if let (Some(need), Some(have)) = (caps.memory_gb, host.memory_gb) {
        if need > have {
            return Placement::Unsatisfiable {
                unmet: format!("memory: needs {need} GB, host has {have:.1} GB"),
            };
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
                Placement::Unsatisfiable { unmet }
            } else {
                Placement::LocalCpuFallback { unmet }
            };
        }
    }
    Placement::Local
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
    fn gpu_needs_fail_or_fall_back() {
        assert!(matches!(
            place_locally(Some(&gpu(true)), &host(vec![])),
            Placement::Unsatisfiable { .. }
        ));
        assert!(matches!(
            place_locally(Some(&gpu(false)), &host(vec![])),
            Placement::LocalCpuFallback { .. }
        ));
        let cuda = GpuInfo {
            kind: GpuKind::Cuda,
            memory_gb: Some(16.0),
        };
        assert_eq!(
            place_locally(Some(&gpu(true)), &host(vec![cuda])),
            Placement::Local
        );
    }

    #[test]
    fn cpu_and_memory_are_checked() {
        let caps = |json: &str| serde_json::from_str::<Capabilities>(json).unwrap();
        assert_eq!(
            place_locally(
                Some(&caps(r#"{"cpu": {"arch": "amd64", "cores": 2}}"#)),
                &host(vec![])
            ),
            Placement::Local
        );
        assert!(matches!(
            place_locally(Some(&caps(r#"{"cpu": {"arch": "arm64"}}"#)), &host(vec![])),
            Placement::Unsatisfiable { .. }
        ));
        assert!(matches!(
            place_locally(Some(&caps(r#"{"memory_gb": 64}"#)), &host(vec![])),
            Placement::Unsatisfiable { .. }
        ));
    }
}
