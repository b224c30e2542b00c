//! Names of generated items. All use `Span::mixed_site()`, so they never clash with the user's
//! variables that node expressions capture.

use proc_macro2::{Ident, Span};

pub(crate) struct Names;

fn ident(name: String) -> Ident {
    Ident::new(&name, Span::mixed_site())
}

impl Names {
    /// The value a node's expression evaluates to.
    pub fn node_value(&self, node: usize) -> Ident {
        ident(format!("__node{node}"))
    }
    /// The `&mut` binding of a node inside stage closures.
    pub fn node_ref(&self, node: usize) -> Ident {
        ident(format!("__n{node}"))
    }
    /// The output-type marker of a node.
    pub fn marker(&self, node: usize) -> Ident {
        ident(format!("__m{node}"))
    }
    /// An emitter closure's argument: the item `node` emitted.
    pub fn emitted(&self, node: usize) -> Ident {
        ident(format!("__v{node}"))
    }
    /// The input-type marker of a node, taken before the node moves into its stage.
    pub fn input_marker(&self, node: usize) -> Ident {
        ident(format!("__im{node}"))
    }
    /// The item-type marker of output `index`, shared by every edge into it.
    pub fn output_item_marker(&self, index: usize) -> Ident {
        ident(format!("__om{index}"))
    }
    /// The sender of a `=>` edge.
    pub fn exit(&self, edge: usize) -> Ident {
        ident(format!("__x{edge}"))
    }
    pub fn stage_tx(&self, stage: usize) -> Ident {
        ident(format!("__tx{stage}"))
    }
    pub fn stage_rx(&self, stage: usize) -> Ident {
        ident(format!("__rx{stage}"))
    }
    /// The identity-cast trait that type-checks an edge.
    pub fn edge_trait(&self, edge: usize) -> Ident {
        ident(format!("__Edge{edge}"))
    }
    /// The clone function of a fan-out source (`None`: the input).
    pub fn fan_fn(&self, node: Option<usize>) -> Ident {
        ident(match node {
            Some(n) => format!("__fan{n}"),
            None => "__fan_input".into(),
        })
    }
    pub fn fan_trait(&self, node: Option<usize>) -> Ident {
        ident(match node {
            Some(n) => format!("__Fan{n}"),
            None => "__FanInput".into(),
        })
    }
    /// An item and its target's type marker, about to be checked.
    pub fn pair(&self) -> Ident {
        ident("__pair".into())
    }
    /// An item after its edge's type check.
    pub fn checked(&self) -> Ident {
        ident("__checked".into())
    }
    /// An item about to enter a node.
    pub fn item(&self) -> Ident {
        ident("__item".into())
    }
    /// A node's emitter, bound before the call that uses it.
    pub fn emit(&self) -> Ident {
        ident("__emit".into())
    }
    /// The batch a stage's `push_batch` gets.
    pub fn items(&self) -> Ident {
        ident("__items".into())
    }
    /// The batch a `=>` sender is filling, lent to a node's `process_batch`.
    pub fn buffer(&self) -> Ident {
        ident("__buffer".into())
    }
    pub fn input(&self) -> Ident {
        ident("__input".into())
    }
    pub fn out(&self) -> Ident {
        ident("__out".into())
    }
    pub fn state(&self) -> Ident {
        ident("__state".into())
    }
    /// The enum tagging items of several outputs.
    pub fn item_enum(&self) -> Ident {
        ident("__PipelineItem".into())
    }
}
