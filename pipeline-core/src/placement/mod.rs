//! Capability-aware placement: what each node needs, what each host has (this one and
//! the workers of a run), and where each node runs.

mod fit;
mod host;
mod plan;
mod requirements;

pub use host::{GpuInfo, HostInfo};
pub use plan::{place, place_across, NodePlacement, Placement, PlacementPlan};
pub use requirements::{Capabilities, CpuRequirement, GpuKind, GpuRequirement};
