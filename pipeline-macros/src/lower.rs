//! [`PipelineDef`] → the shared graph model, then validation and planning, both from
//! `pipeline_core::graph` so the macro and the manifest loader apply the same rules.

use crate::ast::*;
use crate::diagnostics::to_syn_error;
use pipeline_core::graph::{
    EdgeDecl, EdgeKind, Endpoint, Graph, OutputPort, Plan, PortType, ValidGraph, OUTPUT,
};
use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;

/// The checked graph, its nodes carrying their payloads, and its plan: everything code generation
/// reads. Locations are token spans.
pub struct Lowered {
    pub graph: ValidGraph<Span, NodePayload>,
    pub plan: Plan,
}

/// What a node is made of, carried by the graph: the expression that builds it and, when the front end knows the
/// node's manifest entry better than the node does (a compiled manifest keeps the entry as
/// written), that entry's `Option<ManifestNode>` expression for `to_manifest()`.
pub struct NodePayload {
    pub expr: syn::Expr,
    pub export: Option<proc_macro2::TokenStream>,
    /// Where each of the node's [`ports`](pipeline_core::graph::NodeDecl::ports) is first named
    /// (`true` of `split.true`), so errors about a port point at it; empty when the front end has
    /// no such token (errors then point at the node).
    pub port_spans: Vec<Span>,
    /// Where `par(n)` is written, if it is: what the node's `par` checks point at.
    pub par_span: Option<Span>,
}

fn endpoint(e: &EndpointRef) -> Endpoint {
    match e {
        EndpointRef::Input(_) => Endpoint::Input,
        EndpointRef::Output(_, None) => Endpoint::output(OUTPUT),
        EndpointRef::Output(_, Some(name)) => Endpoint::output(name.to_string()),
        EndpointRef::Node(name) | EndpointRef::Port(name, _) => Endpoint::node(name.to_string()),
    }
}

/// The port a link leaves by: `true` of `split.true`.
fn port(e: &EndpointRef) -> Option<pipeline_core::graph::Name> {
    match e {
        EndpointRef::Port(_, port) => Some(port.unraw().to_string().into()),
        _ => None,
    }
}

/// The macro does not know node types, so each node's ports are the ones its edges name (in the
/// order first named, typed `Any`): rustc checks that they exist and what they carry (`port_<name>`
/// accessors, one type check per edge), and the shared validation still rejects a node used both
/// with and without a port. `port_locs[e]` is where edge `e`'s port is written.
fn declare_named_ports(graph: &mut Graph<Span, NodePayload>, port_locs: &[Option<Span>]) {
    let index: std::collections::HashMap<pipeline_core::graph::Name, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.clone(), i))
        .collect();
    for (edge, loc) in graph.edges.iter().zip(port_locs) {
        let (Endpoint::Node(id), Some(port), Some(loc)) = (&edge.from, &edge.port, loc) else {
            continue;
        };
        if let Some(&i) = index.get(id) {
            let node = &mut graph.nodes[i];
            if !node.ports.iter().any(|p| p.name == *port) {
                node.ports
                    .push(OutputPort::new(port.clone(), PortType::Any));
                node.payload.port_spans.push(*loc);
            }
        }
    }
}

/// Builds, validates and plans the graph; the node expressions become the nodes' payloads.
pub fn lower(def: PipelineDef) -> syn::Result<Lowered> {
    let mut graph = Graph::carrying(Span::call_site());
    let mut port_locs = Vec::new();
    for statement in def.statements {
        match statement {
            Statement::Node(node) => {
                let type_name = node.expr.to_token_stream().to_string();
                let payload = NodePayload {
                    expr: node.expr,
                    export: None,
                    port_spans: Vec::new(),
                    par_span: node.tuning.par_span,
                };
                graph.add_node_with(node.name.to_string(), type_name, node.name.span(), payload);
                let decl = graph.nodes.last_mut().expect("just added");
                decl.parallelism = node.tuning.parallelism.unwrap_or(1);
                decl.ordered = !node.tuning.unordered;
                decl.batch_size = node.tuning.batch_size;
                decl.capacity = node.tuning.capacity;
            }
            Statement::Chain(chain) => {
                let mut from = &chain.first;
                for (arrow, to) in &chain.links {
                    graph.edges.push(EdgeDecl {
                        from: endpoint(from),
                        port: port(from),
                        to: endpoint(to),
                        kind: match arrow {
                            Arrow::Fused(_) => EdgeKind::Fused,
                            Arrow::Stage(_) => EdgeKind::Stage,
                        },
                        from_loc: from.span(),
                        to_loc: to.span(),
                        loc: arrow.span(),
                    });
                    port_locs.push(match from {
                        EndpointRef::Port(_, port) => Some(port.span()),
                        _ => None,
                    });
                    from = to;
                }
            }
        }
    }
    declare_named_ports(&mut graph, &port_locs);
    let graph = graph.validate().map_err(to_syn_error)?;
    let plan = graph.plan().map_err(to_syn_error)?;
    Ok(Lowered { graph, plan })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn lower_tokens(tokens: proc_macro2::TokenStream) -> syn::Result<Lowered> {
        lower(syn::parse2(tokens).unwrap())
    }

    #[test]
    fn chains_become_edges_and_stages() {
        let lowered = lower_tokens(quote! {
            a = PassThrough::new();
            b = PassThrough::new();
            input -> a => b -> output;
        })
        .unwrap();
        assert_eq!(lowered.graph.edges.len(), 3);
        assert_eq!(lowered.plan.stages.len(), 2);
        let exprs: Vec<String> = lowered
            .graph
            .graph
            .nodes
            .iter()
            .map(|node| node.payload.expr.to_token_stream().to_string())
            .collect();
        assert_eq!(exprs, ["PassThrough :: new ()", "PassThrough :: new ()"]);
    }

    #[test]
    fn tuning_is_checked_by_the_shared_rules() {
        let err = lower_tokens(quote! {
            add = Calculator::add(1) @ capacity(8);
            input -> add -> output;
        })
        .err()
        .unwrap();
        assert!(
            err.to_string().starts_with(
                "node `add` sets a channel capacity, but no stage boundary leads into it, so it has no channel"
            ),
            "{err}"
        );
        let err = lower_tokens(quote! {
            add = Calculator::add(1) @ par(0);
            input -> add -> output;
        })
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "node `add` has parallelism 0; use 1 or more"
        );
    }

    #[test]
    fn ports_are_the_ones_edges_name() {
        let lowered = lower_tokens(quote! {
            split = Partition::new(|x: &i64| *x > 0);
            input -> split;
            split.r#false -> output.negative;
            split.true -> a -> output;
            split.true -> output.positive;
            a = PassThrough::new();
        })
        .unwrap();
        let split = &lowered.graph.graph.nodes[0];
        let ports: Vec<&str> = split.ports.iter().map(|p| &*p.name).collect();
        assert_eq!(ports, ["false", "true"]);
        assert_eq!(split.payload.port_spans.len(), 2);
        let edge_ports: Vec<Option<usize>> = lowered.graph.edges.iter().map(|e| e.port).collect();
        assert_eq!(edge_ports, [None, Some(0), Some(1), None, Some(1)]);
    }

    #[test]
    fn a_node_with_ports_needs_a_port_on_every_edge() {
        let err = lower_tokens(quote! {
            split = Partition::new(|x: &i64| *x > 0);
            input -> split;
            split.true -> output.positive;
            split -> output.all;
        })
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "`split` has several outputs (`true`): name the one this edge leaves by, e.g. `split.true`"
        );
    }

    #[test]
    fn validation_errors_come_from_the_shared_rules() {
        let err = lower_tokens(quote! {
            add = Calculator::add(1);
            input -> ad -> output;
        })
        .err()
        .unwrap();
        assert_eq!(err.to_string(), "unknown node `ad` (did you mean `add`?)");
    }
}
