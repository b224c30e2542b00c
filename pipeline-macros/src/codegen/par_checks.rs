//! `par(n)` checks that name the node: a replicated node must be `Clone` (each replica is a clone)
//! and `Send` with `Send` items (replicas run on rayon's threads). Without them a node that is
//! neither gets rustc's plain bound errors, quoting `runtime/parallel.rs`.
//!
//! Two traits per parallel node, in the manner of the edge checks ([`super::checks`]): each has a
//! `#[diagnostic::on_unimplemented]` message naming the node and its `par(n)`, one
//! `#[diagnostic::do_not_recommend]` impl (so rustc reports the trait, not the nested bound), and
//! its call is located at the `par` token. The `Clone` check hands the node on through an associated
//! type, so when it fails the `Send` check and the uses of the node see an error type and stay
//! quiet: one error, the one that says what to change.

use super::checks::located_at;
use super::Codegen;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;

impl Codegen<'_> {
    /// Where node `node`'s `par` checks are reported: at `par`, else (a compiled manifest's
    /// `parallelism`) at the node's expression.
    fn par_span(&self, node: usize) -> Span {
        let payload = &self.lowered.graph.graph.nodes[node].payload;
        payload.par_span.unwrap_or_else(|| payload.expr.span())
    }

    fn par_traits(&self, node: usize) -> (Ident, Ident) {
        let clone = self.names.par_clone_trait(node);
        let send = self.names.par_send_trait(node);
        (clone, send)
    }

    /// The check traits of every `par(n)` node.
    pub(super) fn par_checks(&self) -> TokenStream {
        let nodes = &self.lowered.graph.graph.nodes;
        let checks = (0..nodes.len())
            .filter(|&i| nodes[i].parallelism > 1)
            .map(|i| {
                let id = self.lowered.graph.id(i);
                let degree = nodes[i].parallelism;
                let (clone, send) = self.par_traits(i);
                let clone_message = format!(
                    "node `{id}` is `par({degree})`, so `{{Self}}` must implement `Clone`: each of its {degree} replicas is a clone"
                );
                let send_message = format!(
                    "node `{id}` is `par({degree})`, so `{{Self}}` must be a `Node` that implements `Send`, with `Send` input and output items: its replicas run on other threads"
                );
                let clone_label = format!("`{id}` is cloned for `par({degree})`");
                let send_label = format!("`{id}` runs on other threads for `par({degree})`");
                quote! {
                    #[diagnostic::on_unimplemented(message = #clone_message, label = #clone_label)]
                    trait #clone: ::core::marker::Sized {
                        type Replicable;
                        fn replicable(self) -> Self::Replicable;
                    }
                    #[diagnostic::do_not_recommend]
                    impl<N: ::core::clone::Clone> #clone for N {
                        type Replicable = N;
                        #[inline(always)]
                        fn replicable(self) -> N {
                            self
                        }
                    }
                    #[diagnostic::on_unimplemented(message = #send_message, label = #send_label)]
                    trait #send: ::core::marker::Sized {
                        type Parallel;
                        fn parallel(self, degree: usize) -> Self::Parallel;
                    }
                    #[diagnostic::do_not_recommend]
                    impl<N> #send for N
                    where
                        N: ::pipeline::Node + ::core::clone::Clone + ::core::marker::Send,
                        <N as ::pipeline::Node>::Input: ::core::marker::Send,
                        <N as ::pipeline::Node>::Output: ::core::marker::Send,
                    {
                        type Parallel = ::pipeline::runtime::Parallel<N>;
                        #[inline(always)]
                        fn parallel(self, degree: usize) -> Self::Parallel {
                            ::pipeline::runtime::Parallel::new(self, degree)
                        }
                    }
                }
            });
        quote!(#(#checks)*)
    }

    /// `expr` (node `node`'s value) checked and wrapped in `Parallel` with `degree` replicas: the
    /// checks' calls located at `par`.
    pub(super) fn checked_parallel(&self, node: usize, expr: TokenStream) -> TokenStream {
        let (clone, send) = self.par_traits(node);
        let degree = self.lowered.graph.graph.nodes[node].parallelism;
        let at = self.par_span(node);
        let value = format_ident!("__par_node", span = Span::mixed_site());
        let replicable = format_ident!("__par_replicable", span = Span::mixed_site());
        // Bound by `let`s, as the edge checks are: in argument position rustc would read the
        // expected type backwards through the one impl.
        let clone_call = located_at(quote!(<_ as #clone>::replicable(#value)), at);
        let send_call = located_at(quote!(<_ as #send>::parallel(#replicable, #degree)), at);
        quote!({
            let #value = #expr;
            let #replicable = #clone_call;
            #send_call
        })
    }
}
