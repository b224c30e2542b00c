//! Capability-aware placement: what each node needs, what this host has, and where each node runs.

mod host;
mod plan;
mod requirements;

pub use host::{GpuInfo, HostInfo};
pub use plan::{place, NodePlacement, Placement, PlacementPlan};
pub use requirements::{Capabilities, CpuRequirement, GpuKind, GpuRequirement};
