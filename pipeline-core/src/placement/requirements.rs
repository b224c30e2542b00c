//! What a node asks of the machine it runs on (the seed's `capabilities`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A node's hardware requirements.
///
/// ```
/// use pipeline_core::placement::Capabilities;
/// let caps: Capabilities = serde_json::from_str(r#"{"gpu": {"type": "cuda", "min_memory_gb": 8}}"#).unwrap();
/// assert!(caps.gpu.unwrap().required);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "A node's hardware requirements.")]
pub struct Capabilities {
    /// A GPU of some kind and size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuRequirement>,
    /// CPU cores and architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuRequirement>,
    /// Total memory in GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gb: Option<f64>,
}

/// A GPU requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GpuRequirement {
    /// Which GPU API.
    #[serde(rename = "type")]
    pub kind: GpuKind,
    /// Device memory in GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_memory_gb: Option<f64>,
    /// When false, the node falls back to the CPU (with a warning) if no GPU fits.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// GPU APIs a node can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GpuKind {
    /// NVIDIA CUDA.
    Cuda,
    /// AMD ROCm.
    Rocm,
    /// Apple Metal.
    Metal,
    /// Vulkan compute.
    Vulkan,
    /// Any GPU.
    Any,
}

impl GpuKind {
    /// The manifest spelling.
    pub fn name(self) -> &'static str {
        match self {
            GpuKind::Cuda => "cuda",
            GpuKind::Rocm => "rocm",
            GpuKind::Metal => "metal",
            GpuKind::Vulkan => "vulkan",
            GpuKind::Any => "any",
        }
    }
}

/// A CPU requirement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CpuRequirement {
    /// Minimum number of cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<u32>,
    /// Architecture (`x86_64`, `aarch64`; `amd64` and `arm64` are accepted as aliases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
}
