//! A stage that is one fused line from its entry to the pipeline's one output tries each batch
//! through its nodes' pure functions first ([`Node::pure_fn`]): one loop over the batch with no
//! branch per node, which the compiler can vectorise. Whether every node offers one is known to
//! the compiler once the node types are (a node without one returns a constant `None`), so a
//! line that cannot take this path compiles to the item-by-item loop alone.
//!
//! [`Node::pure_fn`]: pipeline_core::Node::pure_fn

use super::Codegen;
use pipeline_core::graph::{EdgeKind, StageEntry, Vertex};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// Stage nodes in line order, with the edge into each (`None` for a worker stage's entry node,
/// whose items arrive as they are), and the edge to the output.
struct Line {
    nodes: Vec<(usize, Option<usize>)>,
    to_output: usize,
}

impl Codegen<'_> {
    /// Stage `k` as a line, when it is one: every node has one edge in and one out, fused, with no
    /// ports or replicas, in order from the entry to the pipeline's only output.
    fn line(&self, k: usize) -> Option<Line> {
        if self.is_multi_output() {
            return None;
        }
        let graph = &self.lowered.graph;
        let stage = &self.lowered.plan.stages[k];
        let only = |edges: &[usize]| match edges {
            &[e] if graph.edges[e].port.is_none() && graph.edges[e].kind == EdgeKind::Fused => {
                Some(e)
            }
            _ => None,
        };
        let (mut node, mut into) = match stage.entry {
            StageEntry::Input => {
                let e = only(self.leaving(Vertex::Input))?;
                match graph.edges[e].to {
                    Vertex::Node(n) => (n, Some(e)),
                    _ => return None,
                }
            }
            StageEntry::Node(n) => (n, None),
        };
        let mut nodes = Vec::new();
        loop {
            let decl = &graph.graph.nodes[node];
            if !decl.ports.is_empty() || decl.parallelism > 1 || self.entering[node].len() != 1 {
                return None;
            }
            nodes.push((node, into));
            let e = only(self.leaving(Vertex::Node(node)))?;
            match graph.edges[e].to {
                Vertex::Node(next) => (node, into) = (next, Some(e)),
                Vertex::Output(_) => {
                    // The line is the whole stage, so the stage has no other work.
                    return (nodes.len() == stage.nodes.len()).then_some(Line {
                        nodes,
                        to_output: e,
                    });
                }
                Vertex::Input => return None,
            }
        }
    }

    /// For stage `k`, when it is a line: an expression that runs `items` through the nodes' pure
    /// functions onto `out` and is `true`, or is `false` and leaves both as they were, for the
    /// item-by-item path. `bind` binds the nodes.
    pub(super) fn pure_line(&self, k: usize, bind: &TokenStream) -> Option<TokenStream> {
        let line = self.line(k)?;
        let (items, out) = (self.names.items(), self.names.out());
        let local = |name: String| Ident::new(&name, Span::mixed_site());
        let fns: Vec<Ident> = (0..line.nodes.len())
            .map(|i| local(format!("__pure_fn{i}")))
            .collect();
        let flags: Vec<Ident> = (0..line.nodes.len())
            .map(|i| local(format!("__pure_flag{i}")))
            .collect();
        let value = local("__pure_value".into());
        let offers = line.nodes.iter().map(|&(n, _)| {
            let node = self.names.node_ref(n);
            self.node_use(n, quote!(::pipeline::Node::pure_fn(&*#node)))
        });
        // Each step through the edge's type check, as item by item: a mismatch is the same error.
        let steps = line
            .nodes
            .iter()
            .zip(&fns)
            .zip(&flags)
            .map(|((&(_, into), f), flag)| {
                let arg = match into {
                    Some(e) => self.cast(e, quote!(#value)),
                    None => quote!(#value),
                };
                quote!(let (#value, #flag) = #f(#arg);)
            });
        let output = self.cast(line.to_output, quote!(#value));
        Some(quote! {{
            #bind
            match (#(#offers,)*) {
                (#(::core::option::Option::Some(#fns),)*) => {
                    #(::pipeline::runtime::drop_free(&#fns) &&)*
                    ::pipeline::runtime::run_pure_line(#items, #out, |#value| {
                        #(#steps)*
                        (#output, 0 #(| #flags)*)
                    })
                }
                _ => false,
            }
        }})
    }
}
