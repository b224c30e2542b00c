//! The placement plan: each node on the local host (maybe on its CPU instead of a GPU), on a worker,
//! spread over several processes, or nowhere.

use super::fit::{fit, Fit};
use super::HostInfo;
use crate::manifest::{Manifest, NodeSpec};
use serde::Serialize;
use std::fmt;

/// Where one node runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "placement", rename_all = "snake_case")]
pub enum Placement {
    /// On this host.
    Local,
    /// On this host's CPU: its optional GPU requirement is met by no host of the run.
    LocalCpuFallback {
        /// The unmet requirement.
        unmet: String,
    },
    /// On a `pipeline worker` of the hosts file.
    Worker {
        /// `host:port`, as the hosts file lists it.
        host: String,
        /// The run's process index: 0 is the local process, 1.. the workers in file order.
        process: usize,
        /// Why not locally: pinned by `host`, or the local host lacks something.
        reason: String,
    },
    /// A `"distribute": true` node: its replicas run on every process able to run it.
    Spread {
        /// `local` and the workers' `host:port`s.
        hosts: Vec<String>,
        /// Their process indices, ascending.
        processes: Vec<usize>,
    },
    /// Pinned by `host` to a worker the run was not given.
    UnlistedHost {
        /// The `host` field.
        host: String,
    },
    /// Nowhere: a required capability is missing on every host.
    Unsatisfiable {
        /// The unmet requirement.
        unmet: String,
    },
}

impl Placement {
    /// The process the node runs on (the first one for a spread node); `None` when it cannot run.
    ///
    /// ```
    /// use pipeline_core::placement::Placement;
    /// assert_eq!(Placement::Local.process(), Some(0));
    /// assert_eq!(Placement::UnlistedHost { host: "gpu:7001".into() }.process(), None);
    /// ```
    pub fn process(&self) -> Option<usize> {
        match self {
            Placement::Local | Placement::LocalCpuFallback { .. } => Some(0),
            Placement::Worker { process, .. } => Some(*process),
            Placement::Spread { processes, .. } => processes.first().copied(),
            Placement::UnlistedHost { .. } | Placement::Unsatisfiable { .. } => None,
        }
    }
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
    /// The workers of the run (`--hosts`), `(host:port, what it reported)`, in file order: process
    /// `i + 1` is `workers[i]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<(String, HostInfo)>,
    /// One entry per node, in manifest order.
    pub nodes: Vec<NodePlacement>,
}

impl PlacementPlan {
    /// The nodes that cannot run.
    pub fn unsatisfiable(&self) -> impl Iterator<Item = &NodePlacement> {
        self.nodes.iter().filter(|n| {
            matches!(
                n.placement,
                Placement::Unsatisfiable { .. } | Placement::UnlistedHost { .. }
            )
        })
    }
}

/// `2 cores, x86_64, memory 7.8 GB, gpu none`.
fn describe_host(h: &HostInfo) -> String {
    let memory = h
        .memory_gb
        .map_or("unknown".to_string(), |m| format!("{m:.1} GB"));
    let gpus = if h.gpus.is_empty() {
        "none".to_string()
    } else {
        h.gpus
            .iter()
            .map(|g| match g.memory_gb {
                Some(gb) => format!("{}:{gb}", g.kind.name()),
                None => g.kind.name().to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{} cores, {}, memory {memory}, gpu {gpus}", h.cores, h.arch)
}

impl fmt::Display for PlacementPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "host: {}", describe_host(&self.host))?;
        for (i, (address, info)) in self.workers.iter().enumerate() {
            writeln!(f, "worker {} {address}: {}", i + 1, describe_host(info))?;
        }
        for n in &self.nodes {
            let node = &n.node;
            match &n.placement {
                Placement::Local => writeln!(f, "  {node}: local")?,
                Placement::LocalCpuFallback { unmet } => {
                    writeln!(f, "  {node}: local (cpu fallback: {unmet})")?
                }
                Placement::Worker { host, reason, .. } => {
                    writeln!(f, "  {node}: worker {host} ({reason})")?
                }
                Placement::Spread { hosts, .. } => {
                    writeln!(f, "  {node}: spread over {}", hosts.join(", "))?
                }
                Placement::UnlistedHost { host } => writeln!(
                    f,
                    "  {node}: UNSATISFIABLE: pinned to worker {host}, which the run was not given (--hosts)"
                )?,
                Placement::Unsatisfiable { unmet } => {
                    writeln!(f, "  {node}: UNSATISFIABLE: {unmet}")?
                }
            }
        }
        Ok(())
    }
}

/// Places every node of `manifest` on `host` alone (no workers): [`place_across`] with none.
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
    place_across(manifest, host, &[])
}

/// Places every node of `manifest` on the local host or one of `workers` (`host:port` and what
/// each reported), local first:
///
/// 1. `host` pins a node to that worker (it must be listed, and meet the node's required
///    capabilities; a missing optional GPU runs it on the worker's CPU);
/// 2. `"distribute": true` spreads the node over every process that meets its capabilities (when
///    more than one does), each running it with its own `"parallelism"`;
/// 3. otherwise the first process, the local one and then the workers in file order, that meets
///    every capability; else the first that meets all but an optional GPU (CPU fallback, local
///    first); else nowhere, naming what the local host lacks.
///
/// ```
/// use pipeline_core::manifest::Manifest;
/// use pipeline_core::placement::{place_across, GpuInfo, GpuKind, HostInfo, Placement};
/// let m: Manifest = serde_json::from_str(r#"{"version": "v1", "metadata": {"name": "m"},
///     "nodes": [{"id": "read", "node_type": "PassThrough"},
///               {"id": "infer", "node_type": "PassThrough", "capabilities": {"gpu": {"type": "cuda", "min_memory_gb": 8}}}],
///     "connections": [{"from": "read", "to": "infer"}]}"#).unwrap();
/// let cpu_only = HostInfo { cores: 2, arch: "x86_64".into(), memory_gb: Some(8.0), gpus: vec![] };
/// let gpu_box = HostInfo { gpus: vec![GpuInfo { kind: GpuKind::Cuda, memory_gb: Some(16.0) }], ..cpu_only.clone() };
/// let plan = place_across(&m, &cpu_only, &[("10.0.0.7:7001".into(), gpu_box)]);
/// assert_eq!(plan.nodes[0].placement, Placement::Local);
/// assert_eq!(plan.nodes[1].placement.process(), Some(1));
/// ```
pub fn place_across(
    manifest: &Manifest,
    local: &HostInfo,
    workers: &[(String, HostInfo)],
) -> PlacementPlan {
    let nodes = manifest
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| NodePlacement {
            node: node.id.to_string(),
            index,
            placement: decide(node, local, workers),
        })
        .collect();
    PlacementPlan {
        host: local.clone(),
        workers: workers.to_vec(),
        nodes,
    }
}

/// `local` for process 0, else the worker's `host:port`.
fn process_name(process: usize, workers: &[(String, HostInfo)]) -> String {
    match process {
        0 => "local".to_string(),
        p => workers[p - 1].0.clone(),
    }
}

fn decide(node: &NodeSpec, local: &HostInfo, workers: &[(String, HostInfo)]) -> Placement {
    let caps = node.capabilities.as_deref();
    if let Some(pinned) = &node.host {
        let Some(i) = workers.iter().position(|(address, _)| address == pinned) else {
            return Placement::UnlistedHost {
                host: pinned.clone(),
            };
        };
        let reason = match fit(caps, &workers[i].1) {
            Fit::Fits => "pinned by `host`".to_string(),
            Fit::WithoutOptionalGpu(unmet) => format!("pinned by `host`; on its cpu: {unmet}"),
            Fit::Missing(unmet) => {
                return Placement::Unsatisfiable {
                    unmet: format!("{unmet} (on {pinned}, where `host` pins it)"),
                }
            }
        };
        return Placement::Worker {
            host: pinned.clone(),
            process: i + 1,
            reason,
        };
    }
    let fits: Vec<Fit> = std::iter::once(local)
        .chain(workers.iter().map(|(_, info)| info))
        .map(|host| fit(caps, host))
        .collect();
    if node.distribute {
        let processes: Vec<usize> = (0..fits.len()).filter(|&p| fits[p] == Fit::Fits).collect();
        if processes.len() > 1 {
            return Placement::Spread {
                hosts: processes
                    .iter()
                    .map(|&p| process_name(p, workers))
                    .collect(),
                processes,
            };
        }
    }
    let local_unmet = match &fits[0] {
        Fit::Fits => return Placement::Local,
        Fit::WithoutOptionalGpu(unmet) | Fit::Missing(unmet) => unmet,
    };
    if let Some(p) = fits.iter().position(|f| *f == Fit::Fits) {
        return Placement::Worker {
            host: process_name(p, workers),
            process: p,
            reason: format!("local {local_unmet}"),
        };
    }
    match fits
        .iter()
        .position(|f| matches!(f, Fit::WithoutOptionalGpu(_)))
    {
        Some(0) => Placement::LocalCpuFallback {
            unmet: local_unmet.clone(),
        },
        Some(p) => Placement::Worker {
            host: process_name(p, workers),
            process: p,
            reason: format!("local {local_unmet}; on its cpu: the optional gpu is on no host"),
        },
        None if workers.is_empty() => Placement::Unsatisfiable {
            unmet: local_unmet.clone(),
        },
        None => Placement::Unsatisfiable {
            unmet: format!("{local_unmet}, and no worker of the run meets it"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::{GpuInfo, GpuKind};

    fn host(gpus: Vec<GpuInfo>) -> HostInfo {
        HostInfo {
            cores: 4,
            arch: "x86_64".into(),
            memory_gb: Some(8.0),
            gpus,
        }
    }

    fn cuda(gb: f64) -> GpuInfo {
        GpuInfo {
            kind: GpuKind::Cuda,
            memory_gb: Some(gb),
        }
    }

    /// One node with these extra fields.
    fn manifest(fields: &str) -> Manifest {
        serde_json::from_str(&format!(
            r#"{{"version": "v1", "metadata": {{"name": "m"}},
              "nodes": [{{"id": "n", "node_type": "PassThrough"{fields}}}], "connections": []}}"#
        ))
        .unwrap()
    }

    fn placed(fields: &str, workers: &[(String, HostInfo)]) -> Placement {
        place_across(&manifest(fields), &host(vec![]), workers)
            .nodes
            .remove(0)
            .placement
    }

    fn workers() -> Vec<(String, HostInfo)> {
        vec![
            ("w1:7001".into(), host(vec![])),
            ("w2:7002".into(), host(vec![cuda(16.0)])),
        ]
    }

    const NEEDS_CUDA: &str = r#", "capabilities": {"gpu": {"type": "cuda", "min_memory_gb": 8}}"#;
    const WANTS_CUDA: &str =
        r#", "capabilities": {"gpu": {"type": "cuda", "min_memory_gb": 8, "required": false}}"#;

    #[test]
    fn nodes_stay_local_when_the_local_host_fits() {
        assert_eq!(placed("", &workers()), Placement::Local);
        assert_eq!(
            placed(r#", "capabilities": {"cpu": {"cores": 2}}"#, &workers()),
            Placement::Local
        );
    }

    #[test]
    fn a_gpu_node_goes_to_the_worker_with_the_gpu_and_nowhere_else() {
        let placement = placed(NEEDS_CUDA, &workers());
        assert_eq!(placement.process(), Some(2));
        assert!(
            matches!(&placement, Placement::Worker { host, reason, .. } if host == "w2:7002" && reason.contains("cuda")),
            "{placement:?}"
        );
        // An optional GPU also prefers the worker that has it over the local CPU.
        assert_eq!(placed(WANTS_CUDA, &workers()).process(), Some(2));
    }

    #[test]
    fn an_optional_gpu_no_host_has_falls_back_to_the_local_cpu() {
        let only_cpu = vec![("w1:7001".to_string(), host(vec![]))];
        assert!(matches!(
            placed(WANTS_CUDA, &only_cpu),
            Placement::LocalCpuFallback { .. }
        ));
    }

    #[test]
    fn a_required_capability_no_host_has_is_unsatisfiable_naming_it() {
        let only_cpu = vec![("w1:7001".to_string(), host(vec![]))];
        let Placement::Unsatisfiable { unmet } = placed(NEEDS_CUDA, &only_cpu) else {
            panic!("expected unsatisfiable")
        };
        assert!(
            unmet.contains("cuda") && unmet.contains("no worker"),
            "{unmet}"
        );
        let Placement::Unsatisfiable { unmet } = placed(NEEDS_CUDA, &[]) else {
            panic!("expected unsatisfiable")
        };
        assert!(!unmet.contains("worker"), "{unmet}");
    }

    #[test]
    fn host_pins_to_a_listed_worker_only() {
        assert_eq!(
            placed(r#", "host": "w1:7001""#, &workers()),
            Placement::Worker {
                host: "w1:7001".into(),
                process: 1,
                reason: "pinned by `host`".into()
            }
        );
        assert_eq!(
            placed(r#", "host": "w9:7009""#, &workers()),
            Placement::UnlistedHost {
                host: "w9:7009".into()
            }
        );
        // Pinned to a worker without the required GPU: nowhere, naming the worker.
        let Placement::Unsatisfiable { unmet } =
            placed(&format!(r#", "host": "w1:7001"{NEEDS_CUDA}"#), &workers())
        else {
            panic!("expected unsatisfiable")
        };
        assert!(unmet.contains("w1:7001"), "{unmet}");
    }

    #[test]
    fn distribute_spreads_over_every_capable_process() {
        let all = placed(r#", "parallelism": 2, "distribute": true"#, &workers());
        assert_eq!(
            all,
            Placement::Spread {
                hosts: vec!["local".into(), "w1:7001".into(), "w2:7002".into()],
                processes: vec![0, 1, 2]
            }
        );
        // Only one process can run it: no spread.
        let gpu_only = placed(&format!(r#", "distribute": true{NEEDS_CUDA}"#), &workers());
        assert_eq!(gpu_only.process(), Some(2));
        assert!(matches!(gpu_only, Placement::Worker { .. }));
    }

    #[test]
    fn the_plan_prints_workers_and_reasons() {
        let m = manifest(NEEDS_CUDA);
        let text = place_across(&m, &host(vec![]), &workers()).to_string();
        assert!(
            text.contains("worker 2 w2:7002: 4 cores, x86_64, memory 8.0 GB, gpu cuda:16"),
            "{text}"
        );
        assert!(
            text.contains(
                "  n: worker w2:7002 (local gpu: needs a cuda GPU with 8 GB, host has none)"
            ),
            "{text}"
        );
    }
}
