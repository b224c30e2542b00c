//! A validated, planned graph → Rust code: concrete node types, direct calls inside a stage,
//! channels only at `=>` boundaries.
//!
//! The expansion is one block expression:
//!
//! 1. type checks: a tiny trait per edge (and per fan-out) whose only impl is the identity on the
//!    right type, so a mismatch is one error, at the arrow, naming both nodes ([`checks`]);
//! 2. node values, in declaration order, from the user's expressions (evaluated in the user's scope);
//! 3. the graph's description (ids, runtime type names, edges, stages) for introspection;
//! 4. channels for stages 1.. and one sender per `=>` edge;
//! 5. per stage, a state struct (a field per node: the node and its outbound senders) and closures
//!    for push, finish and the lifecycle ([`stage`]); stage 0 runs on the caller's thread, the
//!    others become workers;
//! 6. the `Pipeline` value.

mod batch;
mod checks;
mod export;
pub(crate) mod names;
mod outputs;
mod par_checks;
mod pure_line;
mod stage;

#[cfg(test)]
mod expansion_tests;

use crate::lower::Lowered;
use names::Names;
use pipeline_core::graph::{EdgeKind, StageEntry, Vertex};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// Generates the pipeline expression from the graph, its plan and the nodes' payloads.
pub fn generate(lowered: &Lowered) -> syn::Result<TokenStream> {
    let graph = &lowered.graph;
    let nodes = graph.graph.nodes.len();
    // Per node (and the input, last), its out-edges; per node, its in-edges.
    let mut leaving = vec![Vec::new(); nodes + 1];
    let mut entering = vec![Vec::new(); nodes];
    for (e, edge) in graph.edges.iter().enumerate() {
        match edge.from {
            Vertex::Node(i) => leaving[i].push(e),
            Vertex::Input => leaving[nodes].push(e),
            Vertex::Output(_) => {}
        }
        if let Vertex::Node(t) = edge.to {
            entering[t].push(e);
        }
    }
    let gen = Codegen {
        lowered,
        names: Names::new(graph),
        leaving,
        entering,
    };
    Ok(gen.pipeline())
}

pub(crate) struct Codegen<'a> {
    pub lowered: &'a Lowered,
    pub names: Names,
    /// Per node (by index; the input after the last node), the edges leaving it.
    leaving: Vec<Vec<usize>>,
    /// Per node, the edges entering it.
    entering: Vec<Vec<usize>>,
}

impl Codegen<'_> {
    pub(super) fn node_expr(&self, node: usize) -> &syn::Expr {
        &self.lowered.graph.graph.nodes[node].payload.expr
    }

    fn pipeline(&self) -> TokenStream {
        let graph = &self.lowered.graph;
        let plan = &self.lowered.plan;
        let checks = self.checks();
        let par_checks = self.par_checks();
        let output_types = self.output_types();

        let node_values = (0..graph.graph.nodes.len()).map(|i| {
            let var = self.names.node_value(i);
            let marker = self.names.input_marker(i);
            let expr = self.node_expr(i);
            // The marker is the first use of the value as a `Node`: an expression that is not a
            // node fails here, underlined at the expression itself.
            // A `Node` method first: a value that is not a node then fails at a trait method,
            // which rustc reports without quoting the runtime's `input_marker` (the same error at
            // the same place from `input_marker` is then dropped as a repeat).
            let take_marker = self.node_use(
                i,
                quote! {
                    let _ = ::pipeline::Node::type_name(&#var);
                    let #marker = ::pipeline::runtime::input_marker(&#var);
                },
            );
            let value = self.parallel_wrapper(i, quote!(#expr));
            let ports_check = self.ports_check_call(i);
            quote_spanned! {expr.span()=>
                let mut #var = #value;
                #take_marker
                #ports_check
            }
        });
        let output_markers = (0..graph.outputs.len()).map(|o| {
            let marker = self.names.output_item_marker(o);
            quote!(let #marker = ::pipeline::runtime::Marker::new();)
        });
        let description = self.description();
        let export = self.export();

        let channels = plan.stages.iter().enumerate().skip(1).map(|(k, stage)| {
            let (tx, rx) = (self.names.stage_tx(k), self.names.stage_rx(k));
            let (batch_size, capacity) = graph.stage_tuning(stage);
            let default = quote!(::pipeline::runtime::StageConfig::default());
            let batch_size = batch_size.map_or(quote!(#default.batch_size), |n| quote!(#n));
            let capacity = capacity.map_or(quote!(#default.capacity), |n| quote!(#n));
            quote! {
                let (#tx, #rx) = ::pipeline::runtime::stage_channel(
                    ::pipeline::runtime::StageConfig {
                        batch_size: #batch_size,
                        capacity: #capacity,
                    },
                );
            }
        });
        let exits = graph
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == EdgeKind::Stage)
            .map(|(e, edge)| {
                let Vertex::Node(target) = edge.to else {
                    unreachable!("validation rejects `=>` into outputs")
                };
                let tx = self.names.stage_tx(plan.stage_of[target]);
                let exit = self.names.exit(e);
                quote!(let mut #exit = ::core::clone::Clone::clone(&#tx);)
            });
        let drop_originals = (1..plan.stages.len()).map(|k| {
            let tx = self.names.stage_tx(k);
            quote!(::core::mem::drop(#tx);)
        });

        let stage_structs = (0..plan.stages.len()).map(|k| self.stage_struct(k));
        let head = self.stage(0);
        let workers = (1..plan.stages.len()).map(|k| {
            let stage = self.stage(k);
            let rx = self.names.stage_rx(k);
            let inbound = plan.stages[k].inbound;
            let label = self.stage_label(k);
            quote! {
                ::pipeline::runtime::Worker::new(#stage, #rx, #inbound, #label).boxed()
            }
        });
        let collect = self.collect_type();
        let pin_input = self.pin_input();

        quote! {{
            #checks
            #par_checks
            #output_types
            #(#node_values)*
            #(#output_markers)*
            let __pipeline_description = #description;
            let __pipeline_export = #export;
            #(#channels)*
            #(#exits)*
            #(#drop_originals)*
            #(#stage_structs)*
            let __pipeline_head = #head;
            #pin_input
            ::pipeline::runtime::Pipeline::<_, #collect>::new(
                __pipeline_head,
                ::std::vec![#(#workers),*],
                __pipeline_description,
            )
            .with_export(__pipeline_export)
        }}
    }

    /// Makes the pipeline's input type the first input edge's target type when nothing else (a
    /// `run`, a `push`) decides it, so a pipeline that is only described compiles (see
    /// `runtime::default_input`).
    fn pin_input(&self) -> TokenStream {
        let Some(&first) = self.leaving(Vertex::Input).first() else {
            return TokenStream::new();
        };
        let target = self.target_marker(first);
        let edge = self.lowered.graph.edges[first];
        let input = self.lowered.graph.graph.edges[edge.decl].from_loc;
        // Spanned at the user's `input` token with its hygiene, so rustc (which does not point
        // into macro-generated code) picks this call to say which type is missing.
        let head = quote!(__pipeline_head);
        let name = quote_spanned!(input=> ::pipeline::runtime::pipeline_input(::pipeline::runtime::stage_input(&#head)));
        quote! {
            ::pipeline::runtime::default_input(&__pipeline_head, 0, #target);
            #name;
        }
    }

    /// A node's value: its expression, or for `par(n)` the expression checked (`Clone`, `Send`, at
    /// `par`) and wrapped in `Parallel`.
    fn parallel_wrapper(&self, node: usize, expr: TokenStream) -> TokenStream {
        let decl = &self.lowered.graph.graph.nodes[node];
        if decl.parallelism <= 1 {
            return expr;
        }
        let unordered = (!decl.ordered).then(|| quote!(.unordered()));
        let batch = decl.batch_size.map(|n| quote!(.batch_size(#n)));
        let parallel = self.checked_parallel(node, expr);
        quote!(#parallel #unordered #batch)
    }

    /// Thread name / panic label of a stage: its node ids.
    fn stage_label(&self, k: usize) -> String {
        let stage = &self.lowered.plan.stages[k];
        let ids: Vec<&str> = stage
            .nodes
            .iter()
            .map(|&i| self.lowered.graph.id(i))
            .collect();
        match stage.entry {
            StageEntry::Input | StageEntry::Node(_) => ids.join(","),
        }
    }

    fn description(&self) -> TokenStream {
        let graph = &self.lowered.graph;
        let plan = &self.lowered.plan;
        let nodes = graph.graph.nodes.iter().enumerate().map(|(i, node)| {
            let id = &*node.id;
            let var = self.names.node_value(i);
            let stage = plan.stage_of[i];
            let type_name = self.node_use(i, quote!(::pipeline::Node::type_name(&#var)));
            quote! {
                ::pipeline::graph::NodeInfo {
                    id: ::pipeline::graph::Name::from(#id),
                    type_name: ::pipeline::graph::Name::from(#type_name),
                    stage: #stage,
                }
            }
        });
        // Ends keep their kind: an output may share its name with a node.
        let endpoint = |v: Vertex| {
            let name = graph.vertex_name(v);
            match v {
                Vertex::Input => quote!(::pipeline::graph::Endpoint::Input),
                Vertex::Output(_) => quote!(::pipeline::graph::Endpoint::Output(
                    ::pipeline::graph::Name::from(#name)
                )),
                Vertex::Node(_) => quote!(::pipeline::graph::Endpoint::Node(
                    ::pipeline::graph::Name::from(#name)
                )),
            }
        };
        let edges = graph.edges.iter().map(|e| {
            let from = endpoint(e.from);
            let to = endpoint(e.to);
            let port = match (e.from, e.port) {
                (Vertex::Node(i), Some(p)) => {
                    let name = &*graph.graph.nodes[i].ports[p].name;
                    quote!(::std::option::Option::Some(::pipeline::graph::Name::from(#name)))
                }
                _ => quote!(::std::option::Option::None),
            };
            let kind = match e.kind {
                EdgeKind::Fused => quote!(::pipeline::graph::EdgeKind::Fused),
                EdgeKind::Stage => quote!(::pipeline::graph::EdgeKind::Stage),
            };
            quote! {
                ::pipeline::graph::EdgeInfo {
                    from: #from,
                    port: #port,
                    to: #to,
                    kind: #kind,
                }
            }
        });
        let outputs = graph.outputs.iter().map(|name| &**name);
        quote! {
            ::pipeline::graph::Description {
                nodes: ::std::vec![#(#nodes),*],
                edges: ::std::vec![#(#edges),*],
                outputs: ::std::vec![#(::pipeline::graph::Name::from(#outputs)),*],
            }
        }
    }
}
