//! Type checks that read like the graph: one identity trait per edge and per fan-out, with a
//! `#[diagnostic::on_unimplemented]` message naming the nodes, called at the arrow's span.
//!
//! Four details make the message show, once, at the arrow (each has a compile-fail test):
//! - an edge check takes the item *and* a marker of the target's type (a node's input type, or an
//!   output's shared marker) as one tuple, with the trait's `Self` one of the two. A where-clause
//!   on `()` with one identity impl would *guide inference* (rustc fills the target type in from
//!   the source) and report a generic "mismatched types" at the next call, spanning the whole
//!   macro;
//! - the checked item is bound by a `let` before it is used: in argument position rustc would solve
//!   the check backwards from the expected argument type;
//! - the fan-out impl is `#[diagnostic::do_not_recommend]`, so rustc reports our trait (with our
//!   message) rather than the nested `T: Clone` it requires;
//! - every token of a check call is *located* at the arrow ([`located_at`]): rustc points a failed
//!   bound at the argument that carries the type, and generated argument tokens would otherwise
//!   span the whole macro.

use super::Codegen;
use pipeline_core::graph::{ResolvedEdge, Vertex};
use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::quote;

impl Codegen<'_> {
    pub(super) fn checks(&self) -> TokenStream {
        let graph = &self.lowered.graph;
        let edges = graph
            .edges
            .iter()
            .enumerate()
            .map(|(e, edge)| self.edge_check(e, edge));
        let mut sources = vec![(Vertex::Input, None)];
        for (i, node) in graph.graph.nodes.iter().enumerate() {
            if node.ports.is_empty() {
                sources.push((Vertex::Node(i), None));
            }
            sources.extend((0..node.ports.len()).map(|p| (Vertex::Node(i), Some(p))));
        }
        let fans = sources
            .into_iter()
            .filter(|&(v, port)| self.leaving_by(v, port).len() > 1)
            .map(|(v, port)| self.fan_check(v, port));
        let ports = (0..graph.graph.nodes.len())
            .filter(|&i| !graph.graph.nodes[i].ports.is_empty())
            .map(|i| self.ports_check(i));
        quote! { #(#edges)* #(#fans)* #(#ports)* }
    }

    /// The source of edge `e` as written: `split.true` for a port, else its vertex's name.
    pub(super) fn source_name(&self, edge: &ResolvedEdge) -> String {
        let graph = &self.lowered.graph;
        let name = graph.vertex_name(edge.from);
        match (edge.from, edge.port) {
            (Vertex::Node(i), Some(p)) => format!("{name}.{}", graph.graph.nodes[i].ports[p].name),
            _ => name.to_string(),
        }
    }

    /// The trait saying that node `node`, whose edges name ports, must emit a [`Ports`] type (with
    /// a message at the first port named, rather than "no method named `port_x`" alone).
    ///
    /// [`Ports`]: pipeline_core::node::Ports
    fn ports_check(&self, node: usize) -> TokenStream {
        let graph = &self.lowered.graph;
        let decl = &graph.graph.nodes[node];
        let id = &*decl.id;
        let port = &decl.ports[0].name;
        let message = format!(
            "`{id}.{port}` names an output port, but `{id}` has one output: its items `{{Self}}` do not implement `Ports`"
        );
        let label = format!("`{id}` has no ports; connect `{id} -> ...`");
        let note = "a node has named outputs when its `Output` type implements `pipeline::node::Ports`, e.g. an enum with `#[derive(Ports)]`";
        let trait_name = self.names.ports_trait(node);
        quote! {
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            trait #trait_name: ::core::marker::Sized {
                fn check(marker: ::pipeline::runtime::Marker<Self>);
            }
            #[diagnostic::do_not_recommend]
            impl<T: ::pipeline::node::Ports> #trait_name for T {
                #[inline(always)]
                fn check(_: ::pipeline::runtime::Marker<T>) {}
            }
        }
    }

    /// The call of node `node`'s [`ports_check`](Self::ports_check) trait on its output marker,
    /// located at the first port named. `node_<id>` is the node's value.
    pub(super) fn ports_check_call(&self, node: usize) -> Option<TokenStream> {
        if self.lowered.graph.graph.nodes[node].ports.is_empty() {
            return None;
        }
        let t = self.names.ports_trait(node);
        let var = self.names.node_value(node);
        let marker = self.node_use(node, quote!(::pipeline::runtime::output_marker(&#var)));
        Some(located_at(
            quote!(<_ as #t>::check(#marker);),
            self.port_span(node, 0),
        ))
    }

    /// Where port `port` of `node` is written: its first use (`true` of `split.true`), or the node
    /// when the front end has no port token.
    pub(super) fn port_span(&self, node: usize, port: usize) -> Span {
        let decl = &self.lowered.graph.graph.nodes[node];
        decl.payload
            .port_spans
            .get(port)
            .copied()
            .unwrap_or(decl.loc)
    }

    fn edge_check(&self, e: usize, edge: &ResolvedEdge) -> TokenStream {
        let graph = &self.lowered.graph;
        let from = self.source_name(edge);
        let to = graph.vertex_name(edge.to);
        let fan_in = match edge.to {
            Vertex::Node(t) => self.entering[t].len() > 1,
            _ => graph.in_edges(edge.to).count() > 1,
        };
        let arrow = edge.kind.arrow();
        // The trait's `Self` is the source type. `Self` unknown means "ambiguous, wait"; `Self`
        // known with one impl fills in an unknown target (a `PassThrough::new()`, an output), and
        // two known sides are checked.
        let (source, target) = ("{Self}", "{B}");
        let message = match (edge.from, edge.to) {
            (Vertex::Input, _) => format!(
                "type mismatch at `input {arrow} {to}`: the pipeline's input items are `{source}` but `{to}` accepts `{target}`"
            ),
            (_, Vertex::Output(_)) => format!(
                "type mismatch at `{from} {arrow} {to}`: `{from}` emits `{source}` but output `{to}` carries `{target}`"
            ),
            _ if fan_in => format!(
                "type mismatch at `{from} {arrow} {to}`: `{from}` emits `{source}` but `{to}` accepts `{target}` (every stream merged into `{to}` must carry `{target}`)"
            ),
            _ => format!(
                "type mismatch at `{from} {arrow} {to}`: `{from}` emits `{source}` but `{to}` accepts `{target}`"
            ),
        };
        let label = format!("`{from}` to `{to}`");
        let trait_name = self.names.edge_trait(e);
        quote! {
            #[diagnostic::on_unimplemented(message = #message, label = #label)]
            trait #trait_name<B>: ::core::marker::Sized {
                fn cast(pair: (Self, ::pipeline::runtime::Marker<B>)) -> B;
                // The same check for a whole batch, either way along the edge (see `batch.rs`).
                #[allow(dead_code)]
                fn cast_items(
                    pair: (&mut ::std::vec::Vec<Self>, ::pipeline::runtime::Marker<B>),
                ) -> &mut ::std::vec::Vec<B>;
                #[allow(dead_code)]
                fn cast_buffer(
                    pair: (::pipeline::runtime::Marker<Self>, &mut ::std::vec::Vec<B>),
                ) -> &mut ::std::vec::Vec<Self>;
            }
            impl<T> #trait_name<T> for T {
                #[inline(always)]
                fn cast(pair: (T, ::pipeline::runtime::Marker<T>)) -> T {
                    pair.0
                }
                #[inline(always)]
                fn cast_items(
                    pair: (&mut ::std::vec::Vec<T>, ::pipeline::runtime::Marker<T>),
                ) -> &mut ::std::vec::Vec<T> {
                    pair.0
                }
                #[inline(always)]
                fn cast_buffer(
                    pair: (::pipeline::runtime::Marker<T>, &mut ::std::vec::Vec<T>),
                ) -> &mut ::std::vec::Vec<T> {
                    pair.1
                }
            }
        }
    }

    fn fan_check(&self, source: Vertex, port: Option<usize>) -> TokenStream {
        let graph = &self.lowered.graph;
        let node = match source {
            Vertex::Node(i) => Some(i),
            _ => None,
        };
        let leaving = self.leaving_by(source, port);
        let name = self.source_name(&graph.edges[leaving[0]]);
        let targets: Vec<String> = leaving
            .iter()
            .map(|&e| format!("`{}`", graph.vertex_name(graph.edges[e].to)))
            .collect();
        let message = format!(
            "`{name}` fans out to {}, so its items `{{Self}}` must implement `Clone`",
            targets.join(" and ")
        );
        let trait_name = self.names.fan_trait(node, port);
        // The item is the trait's `Self` and the copy a trait method called at the arrow (no
        // generic helper function): rustc then names the item type and adds no "required by a
        // bound in" note spanning the whole macro.
        quote! {
            #[diagnostic::on_unimplemented(message = #message, label = "each target gets its own copy")]
            trait #trait_name: ::core::marker::Sized {
                fn copy(item: &Self) -> Self;
            }
            #[diagnostic::do_not_recommend]
            impl<T: ::core::clone::Clone> #trait_name for T {
                #[inline(always)]
                fn copy(item: &T) -> T {
                    ::core::clone::Clone::clone(item)
                }
            }
        }
    }

    /// `value` sent along edge `e`, type-checked at the arrow against the target's input type, or
    /// for an output against the output's marker (whose type the first edge into it decides).
    pub(super) fn cast(&self, e: usize, value: TokenStream) -> TokenStream {
        let target = self.target_marker(e);
        // Bound to a `let` without a type: in argument position rustc would take the expected
        // argument type as a hint, solve the check backwards through the identity impl, and report
        // a generic "mismatched types" instead of our message.
        let checked = self.names.checked();
        // One tuple argument, built by a `let` (no expected type): both types are fixed by the same
        // coercion, before rustc tries the check, so it cannot fill one side in from the other and
        // miss the mismatch.
        let pair = self.names.pair();
        let call = self.edge_call(e, quote!(cast(#pair)));
        quote!({
            let #pair = (#value, #target);
            let #checked = #call;
            #checked
        })
    }

    /// `items` (a `&mut Vec` of the source's items) as a `&mut Vec` of edge `e`'s target type,
    /// checked like [`cast`](Self::cast): the same trait, so a mismatch is the same one error.
    pub(super) fn cast_items(&self, e: usize, items: TokenStream) -> TokenStream {
        let (target, pair) = (self.target_marker(e), self.names.pair());
        let call = self.edge_call(e, quote!(cast_items(#pair)));
        quote!({
            let #pair = (#items, #target);
            #call
        })
    }

    /// `buffer` (a `&mut Vec` of edge `e`'s target type) as a `&mut Vec` of the items that
    /// `source_marker` describes, for a node to push its outputs straight onto; checked like
    /// [`cast`](Self::cast).
    pub(super) fn cast_buffer(
        &self,
        e: usize,
        source_marker: TokenStream,
        buffer: TokenStream,
    ) -> TokenStream {
        let pair = self.names.pair();
        let call = self.edge_call(e, quote!(cast_buffer(#pair)));
        quote!({
            let #pair = (#source_marker, #buffer);
            #call
        })
    }

    /// A call of edge `e`'s check trait, located at the edge's arrow.
    fn edge_call(&self, e: usize, call: TokenStream) -> TokenStream {
        let edge = self.lowered.graph.edges[e];
        let span = self.lowered.graph.graph.edges[edge.decl].loc;
        let t = self.names.edge_trait(e);
        located_at(quote!(<_ as #t<_>>::#call), span)
    }

    /// The marker of the type edge `e` delivers to: its target node's input type, or its
    /// output's shared marker (whose type the first edge into it decides).
    pub(super) fn target_marker(&self, e: usize) -> TokenStream {
        match self.lowered.graph.edges[e].to {
            Vertex::Node(n) => {
                let marker = self.names.input_marker(n);
                quote!(#marker)
            }
            Vertex::Output(o) => {
                let marker = self.names.output_item_marker(o);
                quote!(#marker)
            }
            Vertex::Input => unreachable!("validation rejects edges into input"),
        }
    }

    /// `tokens`, a use of node `node` as a `Node`, placed at the node's expression with one
    /// hygiene. Every use of a node then has the same span, so when the expression is not a node
    /// rustc reports `X: Node` once (it drops repeats of an error at the same span) instead of
    /// once per generated call, and at the expression instead of the whole macro.
    pub(super) fn node_use(&self, node: usize, tokens: TokenStream) -> TokenStream {
        use syn::spanned::Spanned;
        let at = Span::mixed_site().located_at(self.node_expr(node).span());
        respan(tokens, at)
    }

    /// A copy of `value` for one more target of a fan-out from `source` (by `port`), checked at
    /// the second edge's arrow.
    pub(super) fn fan_copy(
        &self,
        source: Vertex,
        port: Option<usize>,
        value: TokenStream,
    ) -> TokenStream {
        let graph = &self.lowered.graph;
        let second = self.leaving_by(source, port)[1];
        let span = graph.graph.edges[graph.edges[second].decl].loc;
        let node = match source {
            Vertex::Node(i) => Some(i),
            _ => None,
        };
        let t = self.names.fan_trait(node, port);
        located_at(quote!(<_ as #t>::copy(&#value)), span)
    }
}

/// `tokens` with every token moved to `span`'s location but keeping its own hygiene, so generated
/// names still resolve as generated names while rustc reports errors about them at `span`.
pub(super) fn located_at(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let mut moved = Group::new(group.delimiter(), located_at(group.stream(), span));
                moved.set_span(group.span().located_at(span));
                TokenTree::Group(moved)
            }
            mut other => {
                other.set_span(other.span().located_at(span));
                other
            }
        })
        .collect()
}

/// `tokens` with every token's span replaced by `span` (location and hygiene).
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let mut moved = Group::new(group.delimiter(), respan(group.stream(), span));
                moved.set_span(span);
                TokenTree::Group(moved)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}
