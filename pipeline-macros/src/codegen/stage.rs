//! One stage: a state struct (per node a field `node_<id>`: a `RefCell` of the node and its `=>`
//! senders) and four closures over it (push, push batch, finish, lifecycle).
//!
//! Each node's delivery code (its `process` call and the routing of what it emits) is emitted once
//! per context, so the expansion grows with nodes + edges, never with the number of paths:
//!
//! - **Hot path** (push, push batch): the graph splits into *regions*, each rooted at the stage's
//!   entry or at a fan-in node (one with several in-edges), and holding the nodes reached from the
//!   root through nodes of one parent. A region is one inlined call tree, as hand-written nested
//!   loops would be: a node's emitter is a closure that calls the next node's `process` directly. A
//!   fan-in node is called from several places, so its region is a closure, `deliver_<id>`,
//!   borrowing its nodes' cells for the call; the entry region binds its nodes once per batch.
//! - **Finish and flush**: every node with a parent gets a closure `deliver_<id>` that processes one
//!   item and hands what the node emits to its children's closures; each node's `finish` (and a
//!   parallel node's flush) emits into those. These run once per stream, so a call per node costs
//!   nothing that matters.
//!
//! The `RefCell`s let the closures share the state; a cell is never borrowed twice at once (the
//! graph is acyclic, so no delivery re-enters its own node), and the hot path of the entry region
//! takes its nodes with `get_mut`, without a borrow flag.

use super::Codegen;
use pipeline_core::graph::{EdgeKind, StageEntry, Vertex};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// Where delivery code runs: the item path, or the once-per-stream finish and flush.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    Hot,
    Cold,
}

/// How stage code reaches a node's cell.
#[derive(Clone, Copy)]
enum Access {
    /// `RefCell::get_mut` on the `&mut` state: no borrow flag.
    Owned,
    /// `RefCell::borrow_mut` from a closure sharing the state.
    Shared,
}

impl Codegen<'_> {
    /// Edges leaving `v`, by edge index, in declaration order.
    pub(super) fn leaving(&self, v: Vertex) -> &[usize] {
        let slot = match v {
            Vertex::Node(i) => i,
            Vertex::Input => self.lowered.graph.graph.nodes.len(),
            Vertex::Output(_) => return &[],
        };
        &self.leaving[slot]
    }

    /// Edges leaving `v` by `port` (`None`: by its one output), in declaration order.
    pub(super) fn leaving_by(&self, v: Vertex, port: Option<usize>) -> Vec<usize> {
        self.leaving(v)
            .iter()
            .copied()
            .filter(|&e| self.lowered.graph.edges[e].port == port)
            .collect()
    }

    /// Whether `node` roots a region of stage code: the stage's entry, or a fan-in node.
    fn is_region_root(&self, node: usize) -> bool {
        let stage = &self.lowered.plan.stages[self.lowered.plan.stage_of[node]];
        stage.entry == StageEntry::Node(node) || self.entering[node].len() > 1
    }

    /// The nodes of stage `k` that root a fan-in region (the entry's region is inline).
    fn fan_in_roots(&self, k: usize) -> Vec<usize> {
        let stage = &self.lowered.plan.stages[k];
        stage
            .nodes
            .iter()
            .copied()
            .filter(|&n| stage.entry != StageEntry::Node(n) && self.is_region_root(n))
            .collect()
    }

    /// The nodes of the region rooted at `root` (the input or a node), in topological order.
    fn region(&self, root: Vertex) -> Vec<usize> {
        let mut nodes = Vec::new();
        let mut pending = vec![root];
        if let Vertex::Node(n) = root {
            nodes.push(n);
        }
        while let Some(v) = pending.pop() {
            for &e in self.leaving(v) {
                let edge = self.lowered.graph.edges[e];
                if let (Vertex::Node(t), EdgeKind::Fused) = (edge.to, edge.kind) {
                    if !self.is_region_root(t) {
                        nodes.push(t);
                        pending.push(Vertex::Node(t));
                    }
                }
            }
        }
        nodes
    }

    /// `=>` edges leaving `v`, by edge index.
    fn exits_of(&self, v: Vertex) -> Vec<Ident> {
        self.leaving(v)
            .iter()
            .filter(|&&e| self.lowered.graph.edges[e].kind == EdgeKind::Stage)
            .map(|&e| self.names.exit(e))
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

    /// The state struct of stage `k` (generic over its fields' types, which are unnameable).
    pub(super) fn stage_struct(&self, k: usize) -> TokenStream {
        let fields = self.state_fields(k);
        let params: Vec<Ident> = (0..fields.len())
            .map(|i| quote::format_ident!("T{}", i))
            .collect();
        let name = self.names.stage_struct(k);
        quote! {
            struct #name<#(#params),*> {
                #(#fields: #params,)*
            }
        }
    }

    fn state_fields(&self, k: usize) -> Vec<Ident> {
        let stage = &self.lowered.plan.stages[k];
        let mut fields: Vec<Ident> = stage
            .nodes
            .iter()
            .map(|&n| self.names.node_value(n))
            .collect();
        if self.has_input_exits(k) {
            fields.push(self.names.input_exits());
        }
        fields
    }

    /// The value of stage `k`'s state: each node in a `RefCell` with its `=>` senders.
    fn state_value(&self, k: usize) -> TokenStream {
        let stage = &self.lowered.plan.stages[k];
        let name = self.names.stage_struct(k);
        let cells = stage.nodes.iter().map(|&n| {
            let field = self.names.node_value(n);
            let exits = self.exits_of(Vertex::Node(n));
            quote!(#field: ::core::cell::RefCell::new((#field, #(#exits,)*)))
        });
        let input = self.has_input_exits(k).then(|| {
            let field = self.names.input_exits();
            let exits = self.exits_of(Vertex::Input);
            quote!(#field: (#(#exits,)*),)
        });
        quote!(#name { #(#cells,)* #input })
    }

    /// Whether stage `k` is entered at the input and sends input items over `=>` edges.
    fn has_input_exits(&self, k: usize) -> bool {
        self.lowered.plan.stages[k].entry == StageEntry::Input
            && !self.exits_of(Vertex::Input).is_empty()
    }

    /// Binds `n_<id>` and the node's senders from its cell.
    fn bind_node(&self, node: usize, access: Access) -> TokenStream {
        let state = self.names.state();
        let field = self.names.node_value(node);
        let n = self.names.node_ref(node);
        let exits = self.exits_of(Vertex::Node(node));
        match access {
            Access::Owned => quote! {
                #[allow(unused_variables)]
                let (#n, #(#exits,)*) = ::core::cell::RefCell::get_mut(&mut #state.#field);
            },
            Access::Shared => {
                let guard = self.names.guard(node);
                quote! {
                    let mut #guard = ::core::cell::RefCell::borrow_mut(&#state.#field);
                    #[allow(unused_variables)]
                    let (#n, #(#exits,)*) = &mut *#guard;
                }
            }
        }
    }

    /// Binds the senders of `input => ...` edges (stage 0 only).
    fn bind_input_exits(&self) -> TokenStream {
        let state = self.names.state();
        let field = self.names.input_exits();
        let exits = self.exits_of(Vertex::Input);
        if exits.is_empty() {
            return TokenStream::new();
        }
        quote! {
            #[allow(unused_variables)]
            let (#(#exits,)*) = &mut #state.#field;
        }
    }

    /// Binds every node of the region rooted at `root`.
    fn bind_region(&self, root: Vertex, access: Access) -> TokenStream {
        let input = (root == Vertex::Input).then(|| self.bind_input_exits());
        let nodes = self.region(root);
        let nodes = nodes.iter().map(|&n| self.bind_node(n, access));
        quote!(#input #(#nodes)*)
    }

    /// The type of the output buffer delivery closures get.
    fn out_type(&self, writer: bool) -> TokenStream {
        if writer {
            quote!(::pipeline::runtime::VecWriter<'_, _>)
        } else {
            quote!(::std::vec::Vec<_>)
        }
    }

    /// `deliver_<id>` of every fan-in node of stage `k`: its region inlined, its cells borrowed for
    /// the call. Downstream regions first, so each closure can call the ones it feeds.
    fn hot_closures(&self, k: usize, writer: bool) -> TokenStream {
        let out = self.names.out();
        let out_type = self.out_type(writer);
        let item = self.names.item();
        let stage = &self.lowered.plan.stages[k];
        // Which region each node is in, to count the closures calling each fan-in closure.
        let mut region_of = vec![usize::MAX; self.entering.len()];
        let roots = self.fan_in_roots(k);
        for &j in &roots {
            for n in self.region(Vertex::Node(j)) {
                region_of[n] = j;
            }
        }
        let closures = roots.iter().rev().map(|&j| {
            let name = self.names.deliver(j);
            let bind = self.bind_region(Vertex::Node(j), Access::Shared);
            let process = self.process(j, quote!(#item), Path::Hot);
            let mut callers: Vec<usize> = self.entering[j]
                .iter()
                .filter_map(|&e| match self.lowered.graph.edges[e].from {
                    Vertex::Node(p) if stage.entry != StageEntry::Node(region_of[p]) => {
                        Some(region_of[p]).filter(|&r| r != usize::MAX)
                    }
                    _ => None,
                })
                .collect();
            callers.sort_unstable();
            callers.dedup();
            closure(
                &name,
                callers.len() > 1,
                &out,
                &out_type,
                &item,
                quote!(#bind #process),
            )
        });
        quote!(#(#closures)*)
    }

    /// `deliver_<id>` of every node below `sources` (nodes of stage `k` whose emitters the context
    /// uses): one item in, what the node emits handed to its children's closures. Children first.
    fn cold_closures(&self, k: usize, sources: &[usize]) -> TokenStream {
        let stage = &self.lowered.plan.stages[k];
        let mut below = vec![false; self.entering.len()];
        let mut pending = sources.to_vec();
        while let Some(n) = pending.pop() {
            for &e in self.leaving(Vertex::Node(n)) {
                let edge = self.lowered.graph.edges[e];
                if let (Vertex::Node(t), EdgeKind::Fused) = (edge.to, edge.kind) {
                    if !below[t] {
                        below[t] = true;
                        pending.push(t);
                    }
                }
            }
        }
        let out = self.names.out();
        let out_type = self.out_type(false);
        let item = self.names.item();
        let closures = stage.nodes.iter().rev().filter(|&&n| below[n]).map(|&t| {
            let name = self.names.deliver(t);
            let bind = self.bind_node(t, Access::Shared);
            let process = self.process(t, quote!(#item), Path::Cold);
            let callers = self.entering[t]
                .iter()
                .filter(
                    |&&e| matches!(self.lowered.graph.edges[e].from, Vertex::Node(p) if below[p]),
                )
                .count();
            closure(
                &name,
                callers > 1,
                &out,
                &out_type,
                &item,
                quote!(#bind #process),
            )
        });
        quote!(#(#closures)*)
    }

    /// The `FnStage` expression of stage `k`.
    pub(super) fn stage(&self, k: usize) -> TokenStream {
        let stage = &self.lowered.plan.stages[k];
        let nodes = &stage.nodes;
        let (state, input, out) = (self.names.state(), self.names.input(), self.names.out());
        let state_value = self.state_value(k);

        let root = match stage.entry {
            StageEntry::Input => Vertex::Input,
            StageEntry::Node(n) => Vertex::Node(n),
        };
        let bind_entry = self.bind_region(root, Access::Owned);
        let entry = match stage.entry {
            StageEntry::Input => self.deliver_all(Vertex::Input, None, quote!(#input), Path::Hot),
            StageEntry::Node(n) => self.process(n, quote!(#input), Path::Hot),
        };

        let items = self.names.items();
        let whole = self.whole_batch(k, &quote!(#items));
        let whole = whole.map(|body| quote!(#bind_entry #body));
        let push_batch = whole.unwrap_or_else(|| {
            // Outputs go through a writer that keeps the `Vec`'s length in a register for the
            // whole batch (`runtime::VecWriter`), where `Vec::push` would store and reload it per
            // item.
            let writer = self.stage_outputs(k);
            let wrap =
                writer.then(|| quote!(let #out = &mut ::pipeline::runtime::VecWriter::new(#out);));
            let closures = self.hot_closures(k, writer);
            // Each item by value with the loop's position in a register (`runtime::drain_each`):
            // `Vec::drain`'s position lived in memory, stored and loaded again per item.
            let item_by_item = quote! {
                #wrap
                #closures
                #bind_entry
                ::pipeline::runtime::drain_each(#items, |#input| {
                    #entry
                    ::core::result::Result::Ok::<(), ::pipeline::Error>(())
                })?;
            };
            // A line of pure functions first (`pure_line.rs`), item by item if it declines.
            match self.pure_line(k, &bind_entry) {
                Some(pure) => {
                    let done = Ident::new("__pure_done", proc_macro2::Span::mixed_site());
                    quote! {
                        let #done: bool = #pure;
                        if !#done {
                            #item_by_item
                        }
                    }
                }
                None => item_by_item,
            }
        });
        let push_closures = self.hot_closures(k, false);

        let finishes = nodes.iter().map(|&n| {
            let node = self.names.node_ref(n);
            let bind = self.bind_node(n, Access::Shared);
            let emit = self.names.emit();
            let emitter = self.emitter(n, Path::Cold);
            let call = self.node_use(n, quote!(::pipeline::Node::finish(#node, &mut #emit)));
            let finish = guarded_call(
                self.lowered.graph.id(n),
                quote!(let mut #emit = #emitter;),
                call,
            );
            quote!({ #bind #finish })
        });
        let finish_closures = self.cold_closures(k, nodes);
        let all_exits = self.bind_exits(nodes, stage.entry);
        let all_nodes = self.bind_all(nodes, stage.entry);
        let exit_vars = self.stage_exits(k);

        let parallel: Vec<usize> = nodes
            .iter()
            .copied()
            .filter(|&n| self.lowered.graph.graph.nodes[n].parallelism > 1)
            .collect();
        // A flush processes what parallel nodes hold, through their emitters; stages without
        // parallel nodes skip the closures so nothing goes unused.
        let flush_out = if parallel.is_empty() {
            quote!(_)
        } else {
            quote!(#out)
        };
        let flush_parallel = (!parallel.is_empty()).then(|| {
            let cold_closures = self.cold_closures(k, &parallel);
            let flushes = parallel.iter().map(|&n| {
                let node = self.names.node_ref(n);
                let bind = self.bind_node(n, Access::Shared);
                let emit = self.names.emit();
                let emitter = self.emitter(n, Path::Cold);
                let flush = guarded_call(
                    self.lowered.graph.id(n),
                    quote!(let mut #emit = #emitter;),
                    quote!(::pipeline::runtime::Parallel::flush(#node, &mut #emit)),
                );
                quote!({ #bind #flush })
            });
            quote! {
                if let ::pipeline::runtime::Lifecycle::Flush = op {
                    #cold_closures
                    #(#flushes)*
                }
            }
        });
        let lifecycle = self.lifecycle(nodes, &exit_vars);

        quote! {
            ::pipeline::runtime::FnStage::new(
                #state_value,
                move |#state, #input, #out| {
                    #push_closures
                    #bind_entry
                    #entry
                    ::core::result::Result::Ok(())
                },
                move |#state, #items, #out| {
                    #push_batch
                    ::core::result::Result::Ok(())
                },
                move |#state, #out| {
                    {
                        #finish_closures
                        #(#finishes)*
                    }
                    #all_exits
                    #(::pipeline::runtime::BatchSender::finish(#exit_vars)?;)*
                    ::core::result::Result::Ok(())
                },
                move |#state, op, #flush_out| {
                    #flush_parallel
                    #all_nodes
                    #lifecycle
                },
            )
        }
    }

    /// Binds every node of a stage and every sender, without borrow flags.
    fn bind_all(&self, nodes: &[usize], entry: StageEntry) -> TokenStream {
        let input = (entry == StageEntry::Input).then(|| self.bind_input_exits());
        let nodes = nodes.iter().map(|&n| self.bind_node(n, Access::Owned));
        quote!(#input #(#nodes)*)
    }

    /// Binds every sender of a stage, without borrow flags.
    fn bind_exits(&self, nodes: &[usize], entry: StageEntry) -> TokenStream {
        let state = self.names.state();
        let input = (entry == StageEntry::Input).then(|| self.bind_input_exits());
        let nodes = nodes.iter().filter_map(|&n| {
            let exits = self.exits_of(Vertex::Node(n));
            let field = self.names.node_value(n);
            (!exits.is_empty()).then(|| {
                quote! {
                    let (_, #(#exits,)*) = ::core::cell::RefCell::get_mut(&mut #state.#field);
                }
            })
        });
        quote!(#input #(#nodes)*)
    }

    /// The senders of every `=>` edge leaving stage `k`.
    fn stage_exits(&self, k: usize) -> Vec<Ident> {
        let stage = &self.lowered.plan.stages[k];
        let mut exits = Vec::new();
        if stage.entry == StageEntry::Input {
            exits.extend(self.exits_of(Vertex::Input));
        }
        for &n in &stage.nodes {
            exits.extend(self.exits_of(Vertex::Node(n)));
        }
        exits
    }

    /// `node.process(value, emitter)`, with errors attributed to the node. `n_<id>` is bound.
    fn process(&self, node: usize, value: TokenStream, path: Path) -> TokenStream {
        let n = self.names.node_ref(node);
        let id = self.lowered.graph.id(node);
        let emitter = self.emitter(node, path);
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

    /// The emitter of `node`: a closure delivering each item along every out-edge (of the item's
    /// port, for a node with ports).
    fn emitter(&self, node: usize, path: Path) -> TokenStream {
        let n = self.names.node_ref(node);
        let marker = self.node_use(node, quote!(::pipeline::runtime::output_marker(&*#n)));
        let value = self.names.emitted(node);
        let deliver = if self.lowered.graph.graph.nodes[node].ports.is_empty() {
            self.deliver_all(Vertex::Node(node), None, quote!(#value), path)
        } else {
            self.deliver_ports(node, &value, path)
        };
        quote! {
            ::pipeline::runtime::emitter(#marker, |#value| {
                #deliver
                ::core::result::Result::Ok(())
            })
        }
    }

    /// Statements routing `value`, an item of `node` (which has ports), to the edges of its port:
    /// each connected port's accessor (`port_<name>`, written at the port's token so a misspelt
    /// port is an error there) either yields the item, which goes along that port's edges, or
    /// hands it back for the next port. An item no accessor takes leaves by an unconnected port
    /// and is dropped (here, at the end of the emitter).
    fn deliver_ports(&self, node: usize, value: &Ident, path: Path) -> TokenStream {
        let ports = &self.lowered.graph.graph.nodes[node].ports;
        let from = Vertex::Node(node);
        let routes = (0..ports.len()).filter_map(|p| {
            if self.leaving_by(from, Some(p)).is_empty() {
                return None;
            }
            let name = ports[p].name.strip_prefix("r#").unwrap_or(&ports[p].name);
            // At the port's token (errors point there), with the macro's hygiene: rustc then
            // offers no "similar name" rewrite of the token, which would read `split.port_false`.
            let span = proc_macro2::Span::mixed_site().located_at(self.port_span(node, p));
            let accessor = Ident::new(&format!("port_{name}"), span);
            let item = self.names.port_item();
            let deliver = self.deliver_all(from, Some(p), quote!(#item), path);
            Some(quote! {
                let #value = match #value.#accessor() {
                    ::core::result::Result::Ok(#item) => {
                        #deliver
                        return ::core::result::Result::Ok(());
                    }
                    ::core::result::Result::Err(#value) => #value,
                };
            })
        });
        quote! {
            #(#routes)*
            let _ = #value;
        }
    }

    /// Statements sending `value` along every edge out of `from` by `port`: copies for all but the
    /// last.
    fn deliver_all(
        &self,
        from: Vertex,
        port: Option<usize>,
        value: TokenStream,
        path: Path,
    ) -> TokenStream {
        let edges = self.leaving_by(from, port);
        let last = edges.len().saturating_sub(1);
        let statements = edges.iter().enumerate().map(|(j, &e)| {
            let item = if j < last {
                self.fan_copy(from, port, value.clone())
            } else {
                value.clone()
            };
            self.deliver(e, item, path)
        });
        quote!(#(#statements)*)
    }

    /// `item` sent along edge `e`: inline into a node of the same region on the hot path, through
    /// the target's `deliver_<id>` closure otherwise, into a sender, or into the output.
    fn deliver(&self, e: usize, item: TokenStream, path: Path) -> TokenStream {
        let edge = self.lowered.graph.edges[e];
        let cast = self.cast(e, item);
        match (edge.to, edge.kind) {
            (Vertex::Node(target), EdgeKind::Fused) => {
                if path == Path::Hot && !self.is_region_root(target) {
                    self.process(target, cast, path)
                } else {
                    let deliver = self.names.deliver(target);
                    let out = self.names.out();
                    quote!(#deliver(#out, #cast)?;)
                }
            }
            (Vertex::Node(_), EdgeKind::Stage) => {
                let exit = self.names.exit(e);
                quote!(::pipeline::Emitter::emit(#exit, #cast)?;)
            }
            (Vertex::Output(o), _) => self.push_output(o, cast),
            (Vertex::Input, _) => unreachable!("validation rejects edges into input"),
        }
    }

    /// Initialize (undoing on failure), flush, disconnect and cleanup.
    fn lifecycle(&self, nodes: &[usize], exits: &[Ident]) -> TokenStream {
        let id = |n: usize| self.lowered.graph.id(n).to_string();
        let node = |n: usize| self.names.node_ref(n);
        // Nodes initialize in order; when one fails, the ones before it are cleaned up in reverse.
        // One statement per node both ways (a cleanup list per failure point would be quadratic).
        let initialized = Ident::new("__initialized", proc_macro2::Span::mixed_site());
        let initialize = nodes.iter().enumerate().map(|(pos, &n)| {
            let (var, id) = (node(n), id(n));
            let call = self.node_use(
                n,
                quote!(::pipeline::Node::initialize(
                    #var,
                    &::pipeline::NodeContext::new(#id, &::pipeline::Value::Null),
                )),
            );
            quote! {
                if let ::core::result::Result::Err(e) = #call {
                    break 'initialize ::core::result::Result::Err(
                        e.in_node(#id).with_kind(::pipeline::ErrorKind::Initialize),
                    );
                }
                #initialized = #pos + 1;
            }
        });
        let undo = nodes.iter().enumerate().rev().map(|(pos, &m)| {
            let var = node(m);
            let call = self.node_use(m, quote!(::pipeline::Node::cleanup(#var)));
            quote! {
                if #initialized > #pos {
                    let _ = #call;
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
                    #[allow(unused_mut)]
                    let mut #initialized: usize = 0;
                    #[allow(unused_assignments)]
                    let outcome: ::pipeline::Result<()> = 'initialize: {
                        #(#initialize)*
                        ::core::result::Result::Ok(())
                    };
                    if outcome.is_err() {
                        #(#undo)*
                    }
                    outcome
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

/// `let name = |out, item| { body; Ok(()) };`, the closure delivering one item into a node.
///
/// A closure that several other closures call is bound as `&dyn Fn`: a closure's type holds the
/// types of the closures it captures, and rustc's borrow checker walks that type as a tree, so
/// where two callers capture the same callee (a diamond) the walk would double per diamond
/// (ten stacked diamonds: minutes). Through `&dyn Fn` every type stays the size of its own
/// captures; the call is indirect, which only closures called from several places pay.
fn closure(
    name: &Ident,
    shared: bool,
    out: &Ident,
    out_type: &TokenStream,
    item: &Ident,
    body: TokenStream,
) -> TokenStream {
    let value = quote! {
        |#out: &mut #out_type, #item| -> ::pipeline::Result<()> {
            #body
            ::core::result::Result::Ok(())
        }
    };
    if shared {
        quote! {
            let #name: &dyn ::core::ops::Fn(&mut #out_type, _) -> ::pipeline::Result<()> = &#value;
        }
    } else {
        quote!(let #name = #value;)
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
