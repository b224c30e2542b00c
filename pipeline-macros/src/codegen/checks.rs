//! Type checks that read like the graph: one identity trait per edge and per fan-out, with a
//! `#[diagnostic::on_unimplemented]` message naming the nodes, called at the arrow's span.

use super::Codegen;
use pipeline_core::graph::{ResolvedEdge, Vertex};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

impl Codegen<'_> {
    pub(super) fn checks(&self) -> TokenStream {
        let graph = &self.lowered.graph;
        let edges = graph
            .edges
            .iter()
            .enumerate()
            .map(|(e, edge)| self.edge_check(e, edge));
        let mut sources = vec![Vertex::Input];
        sources.extend((0..graph.graph.nodes.len()).map(Vertex::Node));
        let fans = sources
            .into_iter()
            .filter(|&v| graph.out_edges(v).count() > 1)
            .map(|v| self.fan_check(v));
        quote! { #(#edges)* #(#fans)* }
    }

    fn edge_check(&self, e: usize, edge: &ResolvedEdge) -> TokenStream {
        let graph = &self.lowered.graph;
        let from = graph.vertex_name(edge.from);
        let to = graph.vertex_name(edge.to);
        let fan_in = graph.in_edges(edge.to).count() > 1;
        let message = match (edge.from, edge.to) {
            (Vertex::Input, _) => format!(
                "type mismatch at `input -> {to}`: the pipeline's input items are `{{A}}` but `{to}` accepts `{{B}}`"
            ),
            (_, Vertex::Output(_)) => format!(
                "type mismatch at `{from} -> {to}`: `{from}` emits `{{A}}` but output `{to}` carries `{{B}}`"
            ),
            _ if fan_in => format!(
                "type mismatch at `{from} -> {to}`: `{from}` emits `{{A}}` but `{to}` accepts `{{B}}` (every stream merged into `{to}` must carry `{{B}}`)"
            ),
            _ => format!(
                "type mismatch at `{from} -> {to}`: `{from}` emits `{{A}}` but `{to}` accepts `{{B}}`"
            ),
        };
        let label = format!("`{from}` to `{to}`");
        let trait_name = self.names.edge_trait(e);
        let fn_name = self.names.edge_fn(e);
        quote! {
            #[diagnostic::on_unimplemented(message = #message, label = #label)]
            trait #trait_name<A, B> {
                fn cast(item: A) -> B;
            }
            impl<T> #trait_name<T, T> for () {
                #[inline(always)]
                fn cast(item: T) -> T {
                    item
                }
            }
            #[inline(always)]
            fn #fn_name<A, B>(item: A) -> B
            where
                (): #trait_name<A, B>,
            {
                <() as #trait_name<A, B>>::cast(item)
            }
        }
    }

    fn fan_check(&self, source: Vertex) -> TokenStream {
        let graph = &self.lowered.graph;
        let node = match source {
            Vertex::Node(i) => Some(i),
            _ => None,
        };
        let name = graph.vertex_name(source);
        let targets: Vec<String> = graph
            .out_edges(source)
            .map(|e| format!("`{}`", graph.vertex_name(e.to)))
            .collect();
        let message = format!(
            "`{name}` fans out to {}, so its items `{{T}}` must implement `Clone`",
            targets.join(" and ")
        );
        let trait_name = self.names.fan_trait(node);
        let fn_name = self.names.fan_fn(node);
        quote! {
            #[diagnostic::on_unimplemented(message = #message, label = "each target gets its own copy")]
            trait #trait_name<T> {
                fn copy(item: &T) -> T;
            }
            impl<T: ::core::clone::Clone> #trait_name<T> for () {
                #[inline(always)]
                fn copy(item: &T) -> T {
                    ::core::clone::Clone::clone(item)
                }
            }
            #[inline(always)]
            fn #fn_name<T>(item: &T) -> T
            where
                (): #trait_name<T>,
            {
                <() as #trait_name<T>>::copy(item)
            }
        }
    }

    /// `value` sent along edge `e`, type-checked at the arrow.
    pub(super) fn cast(&self, e: usize, value: TokenStream) -> TokenStream {
        let span = self.lowered.graph.graph.edges[self.lowered.graph.edges[e].decl].loc;
        let f = self.names.edge_fn(e);
        quote_spanned!(span=> #f(#value))
    }

    /// A copy of `value` for one more target of a fan-out, checked at the second edge's arrow.
    pub(super) fn fan_copy(&self, source: Vertex, value: TokenStream) -> TokenStream {
        let graph = &self.lowered.graph;
        let second = graph
            .out_edges(source)
            .nth(1)
            .expect("a fan-out has two edges");
        let span = graph.graph.edges[second.decl].loc;
        let f = self.names.fan_fn(match source {
            Vertex::Node(i) => Some(i),
            _ => None,
        });
        quote_spanned!(span=> #f(&#value))
    }
}
