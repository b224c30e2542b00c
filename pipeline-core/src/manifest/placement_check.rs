//! Capabilities against a host, as manifest problems: unsatisfiable required nodes are errors at
//! their `capabilities`, CPU fallbacks are warnings.

use super::error::{ManifestError, Problem, ProblemKind};
use super::lower::LoweredGraph;
use crate::placement::{place, HostInfo, Placement, PlacementPlan};

/// Places every node on `host`; fails naming each node that cannot run and its unmet requirement.
/// On success returns the plan and its warnings.
pub fn check_placement<N>(
    lowered: &LoweredGraph<N>,
    host: &HostInfo,
) -> Result<(PlacementPlan, Vec<Problem>), ManifestError> {
    check_plan(lowered, place(&lowered.parsed.manifest, host))
}

/// Checks a plan made for `lowered` (by [`place`] or
/// [`place_across`](crate::placement::place_across)): fails naming each node that cannot run,
/// located at its `capabilities` or `host`; CPU fallbacks are warnings.
pub fn check_plan<N>(
    lowered: &LoweredGraph<N>,
    plan: PlacementPlan,
) -> Result<(PlacementPlan, Vec<Problem>), ManifestError> {
    let parsed = &lowered.parsed;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for n in &plan.nodes {
        let at = |field: &str| parsed.map.locate(&format!("/nodes/{}/{field}", n.index));
        let node = Some(n.node.clone());
        match &n.placement {
            Placement::Local => {}
            Placement::LocalCpuFallback { unmet } => warnings.push(Problem::warning(
                ProblemKind::Note(format!("runs on the CPU: {unmet} (the GPU is optional)")),
                node,
                at("capabilities/gpu"),
            )),
            Placement::Unsatisfiable { unmet } => {
                let pinned = parsed.manifest.nodes[n.index].host.is_some();
                errors.push(Problem::error(
                    ProblemKind::Placement(unmet.clone()),
                    node,
                    at(if pinned { "host" } else { "capabilities" }),
                ))
            }
            Placement::UnlistedHost { host } => errors.push(
                Problem::error(
                    ProblemKind::Placement(format!(
                        "pinned to worker `{host}`, which this run was not given"
                    )),
                    node,
                    at("host"),
                )
                .with_help(Some(format!(
                    "start `pipeline worker --listen {host}` there and list it in the file given to `--hosts`, or remove `host` to run the node locally"
                ))),
            ),
            // Only a run given workers places nodes on them.
            Placement::Worker { .. } | Placement::Spread { .. } => {}
        }
    }
    if errors.is_empty() {
        Ok((plan, warnings))
    } else {
        Err(parsed.error(errors))
    }
}
