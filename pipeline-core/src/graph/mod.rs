//! The graph model shared by the `pipeline!` macro and the manifest loader.
//!
//! Front ends lower their syntax into a [`Graph`], tagging every element with a location of their
//! own kind (a token span in the macro, a JSON path and line:column in a manifest), and every node
//! with a payload of the front end's own (the macro's node expression; none for a manifest checked
//! at run time), carried untouched to code generation. [`validate`]
//! checks it with one set of rules and [`plan`] splits it into fused stages, so an error reads the
//! same whichever way the graph was written.
//!
//! ```
//! use pipeline_core::graph::{Endpoint, EdgeKind, Graph};
//!
//! let mut graph = Graph::new(());
//! graph.add_node("add", "Calculator", ());
//! graph.add_edge(Endpoint::Input, Endpoint::node("add"), EdgeKind::Fused, ());
//! graph.add_edge(Endpoint::node("add"), Endpoint::output("output"), EdgeKind::Fused, ());
//! let valid = graph.validate().unwrap();
//! let plan = valid.plan().unwrap();
//! assert_eq!(plan.stages.len(), 1);
//! ```

pub(crate) mod adjacency;
mod describe;
mod describe_text;
mod error;
mod export;
pub(crate) mod fast_hash;
pub(crate) mod filled;
mod id_index;
mod limits;
mod model;
mod name;
pub mod plan;
mod ports;
mod relocate;
pub mod tuning;
pub mod validate;

pub use describe::{Description, EdgeInfo, NodeInfo};
pub use error::{GraphError, GraphErrorKind};
pub use export::{ExportedNode, GraphExport};
pub use limits::{GraphLimits, DEFAULT_MAX_FUSED_CHAIN, DEFAULT_MAX_PORTS, DEFAULT_MAX_STAGES};
pub use model::{EdgeDecl, EdgeKind, Endpoint, Graph, Name, NodeDecl, OutputPort, INPUT, OUTPUT};
pub use plan::{Plan, Stage, StageEntry};
pub use ports::PortType;
pub use validate::{ResolvedEdge, ValidGraph, Vertex};
