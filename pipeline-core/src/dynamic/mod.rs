//! Dynamic graphs: nodes over [`Value`](crate::Value) behind an object-safe trait, a registry of
//! node types, and stages the shared runtime runs exactly like the ones `pipeline!` generates.

mod build;
mod builtins;
mod dyn_node;
mod output_spares;
mod parallel;
mod params;
mod pipeline;
mod registry;
mod stage;
mod stats;
mod stream;
mod typed_ports;

pub use build::{build, BuildOptions};
pub use builtins::{register_builtins, BatchParams, CalculatorParams, NoParams, OperationName};
pub use dyn_node::{DynNode, Typed};
pub use parallel::ParallelDyn;
pub use pipeline::DynamicPipeline;
pub use registry::{NodeType, ParamError, ParamInfo, Registry};
pub use stage::{DynStage, OutputBatch, Tagged};
pub use stats::NodeStats;
pub use stream::DynamicStream;
pub use typed_ports::TypedPorts;
