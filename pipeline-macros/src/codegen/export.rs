//! The graph a pipeline records for `to_manifest()`: per node its manifest entry (asked of the node
//! itself, `Node::manifest_node`, or for a compiled manifest the entry as the file wrote it), stage
//! flag and parallelism; the edges with typed endpoints, decided here where `output.x` and node `x`
//! are still told apart.

use super::Codegen;
use pipeline_core::graph::{EdgeKind, Vertex};
use proc_macro2::TokenStream;
use quote::quote;

impl Codegen<'_> {
    /// The `GraphExport` expression; evaluated before the nodes move into their stages.
    pub(super) fn export(&self) -> TokenStream {
        let graph = &self.lowered.graph;
        let nodes = graph.graph.nodes.iter().enumerate().map(|(i, node)| {
            let id = node.id.as_str();
            let var = self.names.node_value(i);
            let type_name = self.node_use(i, quote!(::pipeline::Node::type_name(&#var)));
            let manifest = match &node.payload.export {
                Some(entry) => entry.clone(),
                None => self.node_use(i, quote!(::pipeline::Node::manifest_node(&#var))),
            };
            let stage = graph
                .edges
                .iter()
                .any(|e| e.kind == EdgeKind::Stage && e.to == Vertex::Node(i));
            let parallelism = node.parallelism;
            let ordered = node.ordered;
            let option = |v: Option<usize>| match v {
                Some(n) => quote!(::core::option::Option::Some(#n)),
                None => quote!(::core::option::Option::None),
            };
            let (batch_size, capacity) = (option(node.batch_size), option(node.capacity));
            quote! {
                ::pipeline::graph::ExportedNode {
                    id: ::std::string::String::from(#id),
                    type_name: ::std::string::String::from(#type_name),
                    manifest: #manifest,
                    stage: #stage,
                    parallelism: #parallelism,
                    ordered: #ordered,
                    batch_size: #batch_size,
                    capacity: #capacity,
                }
            }
        });
        let endpoint = |v: Vertex| {
            let name = graph.vertex_name(v);
            match v {
                Vertex::Input => quote!(::pipeline::graph::Endpoint::Input),
                Vertex::Output(_) => {
                    quote!(::pipeline::graph::Endpoint::output(#name))
                }
                Vertex::Node(_) => {
                    quote!(::pipeline::graph::Endpoint::node(#name))
                }
            }
        };
        let edges = graph.edges.iter().map(|e| {
            let from = match (e.from, e.port) {
                // The source as a manifest writes it.
                (Vertex::Node(_), Some(_)) => {
                    let source = self.source_name(e);
                    quote!(::pipeline::graph::Endpoint::node(#source))
                }
                _ => endpoint(e.from),
            };
            let to = endpoint(e.to);
            quote!((#from, #to))
        });
        quote! {
            ::pipeline::graph::GraphExport {
                nodes: ::std::vec![#(#nodes),*],
                edges: ::std::vec![#(#edges),*],
            }
        }
    }
}
