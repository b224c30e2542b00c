//! A [`Description`] as plain text, in the `pipeline!` syntax: what `println!("{}", p.describe())`
//! prints. (Mermaid and DOT, for drawing, are `to_mermaid()` and `to_dot()`.)

use super::describe::Description;
use super::model::{EdgeKind, Endpoint, OUTPUT};
use std::fmt;

/// One line per node (`id: type` and its stage), then one per edge (`from -> to`, `=>` for a stage
/// boundary), ports and outputs written as in `pipeline!` (`split.true`, `output.<name>`).
///
/// ```
/// use pipeline_core::graph::{Description, EdgeInfo, EdgeKind, Endpoint, NodeInfo};
/// let d = Description {
///     nodes: vec![NodeInfo { id: "add".into(), type_name: "Calculator".into(), stage: 1 }],
///     edges: vec![
///         EdgeInfo { from: Endpoint::Input, port: None, to: Endpoint::node("add"), kind: EdgeKind::Stage },
///         EdgeInfo { from: Endpoint::node("add"), port: None, to: Endpoint::output("output"), kind: EdgeKind::Fused },
///         EdgeInfo {
///             from: Endpoint::node("add"), port: Some("big".into()),
///             to: Endpoint::output("big"), kind: EdgeKind::Fused,
///         },
///     ],
///     outputs: vec!["output".into(), "big".into()],
/// };
/// assert_eq!(
///     d.to_string(),
///     "add: Calculator (stage 1)\ninput => add\nadd -> output\nadd.big -> output.big\n"
/// );
/// ```
impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for node in &self.nodes {
            writeln!(f, "{}: {} (stage {})", node.id, node.type_name, node.stage)?;
        }
        for edge in &self.edges {
            let arrow = match edge.kind {
                EdgeKind::Fused => "->",
                EdgeKind::Stage => "=>",
            };
            let from = match &edge.port {
                Some(port) => format!("{}.{port}", end(&edge.from)),
                None => end(&edge.from),
            };
            writeln!(f, "{from} {arrow} {}", end(&edge.to))?;
        }
        Ok(())
    }
}

/// An edge end as `pipeline!` writes it.
fn end(endpoint: &Endpoint) -> String {
    match endpoint {
        Endpoint::Output(name) if &**name != OUTPUT => format!("{OUTPUT}.{name}"),
        other => other.to_string(),
    }
}
