//! Whole-batch stages: when a stage is one node (or just the pipeline input) with one way out, a
//! batch goes through it in one call instead of item by item.
//!
//! The node's [`process_batch`](pipeline_core::Node::process_batch) pushes its outputs straight
//! onto the batch its `=>` sender is filling, or onto the pipeline's output `Vec`: a pass-through
//! hands the buffer on without touching an item, a calculator computes in place. A stage of the
//! pipeline input alone hands its items to the sender as a whole. Every other stage runs its items
//! one by one through the fused call tree (`stage.rs`).

use super::stage::guarded_call;
use super::Codegen;
use pipeline_core::graph::{EdgeKind, StageEntry, Vertex};
use proc_macro2::TokenStream;
use quote::quote;

impl Codegen<'_> {
    /// The body of stage `k`'s `push_batch` closure over `items` when the stage can take a batch
    /// whole; `None` when its items must go one by one.
    pub(super) fn whole_batch(&self, k: usize, items: &TokenStream) -> Option<TokenStream> {
        let graph = &self.lowered.graph;
        let stage = &self.lowered.plan.stages[k];
        let source = match (stage.entry, stage.nodes.as_slice()) {
            (StageEntry::Input, []) => Vertex::Input,
            (StageEntry::Node(n), [m]) if n == *m && graph.graph.nodes[n].parallelism <= 1 => {
                Vertex::Node(n)
            }
            _ => return None,
        };
        let mut exits = graph
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.from == source);
        let (e, edge) = match (exits.next(), exits.next()) {
            // A port's items are picked out of the node's one by one.
            (Some(only), None) if only.1.port.is_none() => only,
            _ => return None,
        };
        let out = self.names.out();
        match (source, edge.to, edge.kind) {
            (Vertex::Input, Vertex::Node(_), EdgeKind::Stage) => {
                let exit = self.names.exit(e);
                let checked = self.cast_items(e, quote!(#items));
                Some(quote!(::pipeline::runtime::BatchSender::emit_all(#exit, #checked)?;))
            }
            (Vertex::Node(n), Vertex::Node(_), EdgeKind::Stage) => {
                let exit = self.names.exit(e);
                let buffer = self.names.buffer();
                let process = self.process_batch(n, e, items, quote!(#buffer));
                let fill =
                    quote!(::pipeline::runtime::BatchSender::fill_with(#exit, |#buffer| #process));
                Some(guarded_call(graph.id(n), quote!(), fill))
            }
            (Vertex::Node(n), Vertex::Output(_), _) if !self.is_multi_output() => {
                let process = self.process_batch(n, e, items, quote!(#out));
                Some(guarded_call(graph.id(n), quote!(), process))
            }
            _ => None,
        }
    }

    /// `node.process_batch(items, buffer)`, the buffer checked against edge `e`'s target type.
    fn process_batch(
        &self,
        node: usize,
        e: usize,
        items: &TokenStream,
        buffer: TokenStream,
    ) -> TokenStream {
        let n = self.names.node_ref(node);
        let marker = self.node_use(node, quote!(::pipeline::runtime::output_marker(&*#n)));
        let checked = self.names.checked();
        let cast = self.cast_buffer(e, marker, buffer);
        let call = self.node_use(
            node,
            quote!(::pipeline::Node::process_batch(#n, #items, #checked)),
        );
        quote!({
            let #checked = #cast;
            #call
        })
    }
}
