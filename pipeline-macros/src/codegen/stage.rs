//! One stage: a state tuple (its nodes, then its outbound senders) and three closures over it.
//!
//! Inside a stage, a node's emitter is a closure that delivers each item along every out-edge: into
//! the next node's `process` (a direct call), into a `=>` sender, or into the output `Vec`. Emitters
//! nest, so a fused chain becomes one inlined call tree with no allocation per item.

use super::Codegen;
use pipeline_core::graph::{EdgeKind, StageEntry, Vertex};
use proc_macro2::TokenStream;
use quote::quote;

impl Codegen<'_> {
    /// `=>` edges leaving stage `k`, by edge index.
    fn stage_exits(&self, k: usize) -> Vec<usize> {
        let plan = &self.lowered.plan;
        self.lowered
            .graph
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == EdgeKind::Stage && plan.stage_of_vertex(e.from) == Some(k))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether stage `k` pushes items to a pipeline output.
    fn stage_outputs(&self, k: usize) -> bool {
        let plan = &self.lowered.plan;
        self.lowered
            .graph
            .edges
            .iter()
            .any(|e| matches!(e.to, Vertex::Output(_)) && plan.stage_of_vertex(e.from) == Some(k))
    }

    /// The `FnStage` expression of stage `k`.
    pub(super) fn stage(&self, k: usize) -> TokenStream {
        let stage = &self.lowered.plan.stages[k];
        let nodes = &stage.nodes;
        let exits = self.stage_exits(k);

        let values = nodes.iter().map(|&i| self.names.node_value(i));
        let exit_vars: Vec<_> = exits.iter().map(|&e| self.names.exit(e)).collect();
        let state_value = quote!((#(#values,)* #(#exit_vars,)*));
        let refs = nodes.iter().map(|&i| self.names.node_ref(i));
        let pattern = quote!((#(#refs,)* #(#exit_vars,)*));
        let markers = nodes.iter().map(|&i| {
            let (m, n) = (self.names.marker(i), self.names.node_ref(i));
            self.node_use(
                i,
                quote!(let #m = ::pipeline::runtime::output_marker(&*#n);),
            )
        });
        let markers = quote!(#(#markers)*);
        let (state, input, out) = (self.names.state(), self.names.input(), self.names.out());

        let entry = match stage.entry {
            StageEntry::Input => self.deliver_all(Vertex::Input, quote!(#input)),
            StageEntry::Node(n) => self.call_process(n, quote!(#input)),
        };
        let finishes = nodes.iter().map(|&n| {
            let node = self.names.node_ref(n);
            let id = self.lowered.graph.id(n);
            let emitter = self.emitter(n);
            let emit = self.names.emit();
            let call = self.node_use(n, quote!(::pipeline::Node::finish(#node, &mut #emit)));
            guarded_call(id, quote!(let mut #emit = #emitter;), call)
        });
        let items = self.names.items();
        let push_batch = self.whole_batch(k, &quote!(#items)).unwrap_or_else(|| {
            // Outputs go through a writer that keeps the `Vec`'s length in a register for the
            // whole batch (`runtime::VecWriter`), where `Vec::push` would store and reload it per
            // item.
            let writer = self
                .stage_outputs(k)
                .then(|| quote!(let #out = &mut ::pipeline::runtime::VecWriter::new(#out);));
            quote! {
                #writer
                for #input in #items.drain(..) {
                    #entry
                }
            }
        });
        let lifecycle = self.lifecycle(nodes, &exit_vars);
        let parallel: Vec<usize> = nodes
            .iter()
            .copied()
            .filter(|&n| self.lowered.graph.graph.nodes[n].parallelism > 1)
            .collect();
        // A flush processes what parallel nodes hold, through their emitters; stages without
        // parallel nodes skip the markers so nothing goes unused.
        let flush_markers = (!parallel.is_empty()).then(|| markers.clone());
        let flush_parallel = parallel.iter().map(|&n| {
            let node = self.names.node_ref(n);
            let id = self.lowered.graph.id(n);
            let emitter = self.emitter(n);
            let emit = self.names.emit();
            guarded_call(
                id,
                quote!(let mut #emit = #emitter;),
                quote!(::pipeline::runtime::Parallel::flush(#node, &mut #emit)),
            )
        });
        let flush_out = if parallel.is_empty() {
            quote!(_)
        } else {
            quote!(#out)
        };
        let flush_parallel = quote! {
            if let ::pipeline::runtime::Lifecycle::Flush = op {
                #(#flush_parallel)*
            }
        };

        quote! {
            ::pipeline::runtime::FnStage::new(
                #state_value,
                move |#state, #input, #out| {
                    #[allow(unused_variables)]
                    let #pattern = #state;
                    #markers
                    #entry
                    ::core::result::Result::Ok(())
                },
                move |#state, #items, #out| {
                    #[allow(unused_variables)]
                    let #pattern = #state;
                    #markers
                    #push_batch
                    ::core::result::Result::Ok(())
                },
                move |#state, #out| {
                    #[allow(unused_variables)]
                    let #pattern = #state;
                    #markers
                    #(#finishes)*
                    #(::pipeline::runtime::BatchSender::finish(#exit_vars)?;)*
                    ::core::result::Result::Ok(())
                },
                move |#state, op, #flush_out| {
                    #[allow(unused_variables)]
                    let #pattern = #state;
                    #flush_markers
                    #flush_parallel
                    #lifecycle
                },
            )
        }
    }

    /// `node.process(value, emitter)`, with errors attributed to the node.
    fn call_process(&self, node: usize, value: TokenStream) -> TokenStream {
        let n = self.names.node_ref(node);
        let id = self.lowered.graph.id(node);
        let emitter = self.emitter(node);
        let (item, emit) = (self.names.item(), self.names.emit());
        let call = self.node_use(
            node,
            quote!(::pipeline::Node::process(#n, #item, &mut #emit)),
        );
        guarded_call(
            id,
            quote!(let #item = #value; let mut #emit = #emitter;),
            call,
        )
    }

    /// The emitter of `node`: a closure delivering each item along every out-edge.
    fn emitter(&self, node: usize) -> TokenStream {
        let marker = self.names.marker(node);
        let value = self.names.emitted(node);
        let deliver = self.deliver_all(Vertex::Node(node), quote!(#value));
        quote! {
            ::pipeline::runtime::emitter(#marker, |#value| {
                #deliver
                ::core::result::Result::Ok(())
            })
        }
    }

    /// Statements sending `value` along every edge out of `from`: copies for all but the last.
    fn deliver_all(&self, from: Vertex, value: TokenStream) -> TokenStream {
        let graph = &self.lowered.graph;
        let edges: Vec<usize> = graph
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.from == from)
            .map(|(i, _)| i)
            .collect();
        let last = edges.len().saturating_sub(1);
        let statements = edges.iter().enumerate().map(|(j, &e)| {
            let item = if j < last {
                self.fan_copy(from, value.clone())
            } else {
                value.clone()
            };
            self.deliver(e, item)
        });
        quote!(#(#statements)*)
    }

    fn deliver(&self, e: usize, item: TokenStream) -> TokenStream {
        let edge = self.lowered.graph.edges[e];
        let cast = self.cast(e, item);
        match (edge.to, edge.kind) {
            (Vertex::Node(target), EdgeKind::Fused) => self.call_process(target, cast),
            (Vertex::Node(_), EdgeKind::Stage) => {
                let exit = self.names.exit(e);
                quote!(::pipeline::Emitter::emit(#exit, #cast)?;)
            }
            (Vertex::Output(o), _) => self.push_output(o, cast),
            (Vertex::Input, _) => unreachable!("validation rejects edges into input"),
        }
    }

    /// Initialize (undoing on failure), flush, disconnect and cleanup.
    fn lifecycle(&self, nodes: &[usize], exits: &[proc_macro2::Ident]) -> TokenStream {
        let id = |n: usize| self.lowered.graph.id(n).to_string();
        let node = |n: usize| self.names.node_ref(n);
        let initialize = nodes.iter().enumerate().map(|(pos, &n)| {
            let (var, id) = (node(n), id(n));
            let undo = nodes[..pos].iter().rev().map(|&m| {
                let var = node(m);
                let call = self.node_use(m, quote!(::pipeline::Node::cleanup(#var)));
                quote!(let _ = #call;)
            });
            let call = self.node_use(
                n,
                quote!(::pipeline::Node::initialize(
                    #var,
                    &::pipeline::NodeContext::new(#id, &::pipeline::Value::Null),
                )),
            );
            quote! {
                if let ::core::result::Result::Err(e) = #call {
                    #(#undo)*
                    return ::core::result::Result::Err(
                        e.in_node(#id).with_kind(::pipeline::ErrorKind::Initialize),
                    );
                }
            }
        });
        let cleanup = nodes.iter().map(|&n| {
            let (var, id) = (node(n), id(n));
            let call = self.node_use(n, quote!(::pipeline::Node::cleanup(#var)));
            quote! {
                if let ::core::result::Result::Err(e) = #call {
                    if first.is_ok() {
                        first = ::core::result::Result::Err(
                            e.in_node(#id).with_kind(::pipeline::ErrorKind::Cleanup),
                        );
                    }
                }
            }
        });
        quote! {
            match op {
                ::pipeline::runtime::Lifecycle::Initialize => {
                    #(#initialize)*
                    ::core::result::Result::Ok(())
                }
                ::pipeline::runtime::Lifecycle::Flush => {
                    #(::pipeline::runtime::BatchSender::flush(#exits)?;)*
                    ::core::result::Result::Ok(())
                }
                ::pipeline::runtime::Lifecycle::Disconnect => {
                    #(::pipeline::runtime::BatchSender::disconnect(#exits);)*
                    ::core::result::Result::Ok(())
                }
                ::pipeline::runtime::Lifecycle::Cleanup => {
                    let mut first: ::pipeline::Result<()> = ::core::result::Result::Ok(());
                    #(#cleanup)*
                    first
                }
            }
        }
    }
}

/// `setup; call`, its error attributed to node `id`.
///
/// No `PanicSite` here, unlike dynamic stages: its landing pad around every fused call measured
/// +50% on `complex/static_fused` (`cargo bench --bench pipeline_execution`), so a panic in a
/// generated stage is attributed to the stage's nodes (exact for a single-node stage).
pub(super) fn guarded_call(id: &str, setup: TokenStream, call: TokenStream) -> TokenStream {
    let result = proc_macro2::Ident::new("__result", proc_macro2::Span::mixed_site());
    quote! {{
        #setup
        let #result = #call;
        #result.map_err(|e| e.in_node(#id))?;
    }}
}
