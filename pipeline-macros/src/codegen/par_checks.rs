//! `par(n)` checks that name the node: a replicated node must be `Clone` (each replica is a clone)
//! and `Send` with `Send` items (replicas run on rayon's threads). Without them a node that is
//! neither gets rustc's plain bound errors, quoting `runtime/parallel.rs`.
//!
//! Two traits per parallel node, in the manner of the edge checks ([`super::checks`]): each has a
//! `#[diagnostic::on_unimplemented]` message naming the node and its `par(n)`,
//! `#[diagnostic::do_not_recommend]` impls (so rustc reports the trait, not the nested bound), and
//! its call is located at the `par` token.
//!
//! Each check hands the node on through an associated type, and each trait has two impls, told
//! apart by a parameter that an integer literal fills in: the real one (`i32`, with the bounds) and
//! one that never applies (`u8`, bounded by a trait nothing implements). With one impl, rustc would
//! take its associated type even when the bounds fail, and every later use of the node would fail
//! again in `runtime/parallel.rs`; with two, a failed check leaves no impl, the node's type stays
//! unknown, and rustc keeps quiet about the uses: one error, the one that says what to change.

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
                let never = quote::format_ident!("{}_never", send);
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
                    trait #clone<Candidate>: ::core::marker::Sized {
                        type Replicable;
                        fn replicable(self, candidate: Candidate) -> Self::Replicable;
                    }
                    #[diagnostic::do_not_recommend]
                    impl<N: ::core::clone::Clone> #clone<i32> for N {
                        type Replicable = N;
                        #[inline(always)]
                        fn replicable(self, _: i32) -> N {
                            self
                        }
                    }
                    #[diagnostic::do_not_recommend]
                    impl<N: #never> #clone<u8> for N {
                        type Replicable = N;
                        fn replicable(self, _: u8) -> N {
                            self
                        }
                    }
                    #[diagnostic::on_unimplemented(message = #send_message, label = #send_label)]
                    trait #send<Candidate>: ::core::marker::Sized {
                        type Parallel;
                        fn parallel(self, candidate: Candidate, degree: usize) -> Self::Parallel;
                    }
                    #[diagnostic::do_not_recommend]
                    impl<N> #send<i32> for N
                    where
                        N: ::pipeline::Node + ::core::clone::Clone + ::core::marker::Send,
                        <N as ::pipeline::Node>::Input: ::core::marker::Send,
                        <N as ::pipeline::Node>::Output: ::core::marker::Send,
                    {
                        type Parallel = ::pipeline::runtime::Parallel<N>;
                        #[inline(always)]
                        fn parallel(self, _: i32, degree: usize) -> Self::Parallel {
                            ::pipeline::runtime::Parallel::new(self, degree)
                        }
                    }
                    trait #never {}
                    #[diagnostic::do_not_recommend]
                    impl<N: #never> #send<u8> for N {
                        type Parallel = N;
                        fn parallel(self, _: u8, _: usize) -> N {
                            self
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
        let clone_call = located_at(quote!(<_ as #clone<_>>::replicable(#value, 0)), at);
        let send_call = located_at(
            quote!(<_ as #send<_>>::parallel(#replicable, 0, #degree)),
            at,
        );
        quote!({
            let #value = #expr;
            let #replicable = #clone_call;
            #send_call
        })
    }
}
