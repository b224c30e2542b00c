//! The syntax of a `pipeline!` body, as written.
//!
//! ```text
//! body      := statement*
//! statement := node | chain
//! node      := IDENT '=' EXPR ('@' option (',' option)*)? ';'
//!                                                   // EXPR: any Rust expression implementing Node
//! option    := 'par' '(' INT (',' 'unordered')? ')' // data-parallel: INT replicas on rayon's pool
//!            | 'batch' '(' INT ')'                  // items per batch (channel in, parallel batches)
//!            | 'capacity' '(' INT ')'               // batches the `=>` channel into the node holds
//! chain     := endpoint (arrow endpoint)+ ';'
//! arrow     := '->'                                 // fused: a direct call on the same thread
//!            | '=>'                                 // stage boundary: a channel to another thread
//! endpoint  := 'input' | 'output' ('.' IDENT)? | IDENT ('.' PORT)?
//!                                                   // `node.port`: only where a link starts
//! ```

use proc_macro2::Span;
use syn::{Expr, Ident};

/// A whole macro body.
pub struct PipelineDef {
    pub statements: Vec<Statement>,
}

pub enum Statement {
    Node(NodeDef),
    Chain(Chain),
}

/// `name = expr @ options;`
pub struct NodeDef {
    pub name: Ident,
    pub expr: Expr,
    pub tuning: Tuning,
}

/// The options after `@`; `None` where not given.
#[derive(Default)]
pub struct Tuning {
    /// `par(n)`: the degree.
    pub parallelism: Option<usize>,
    /// Where `par` is written: its type checks (`Clone`, `Send`) are reported there.
    pub par_span: Option<Span>,
    /// `par(n, unordered)`.
    pub unordered: bool,
    /// `batch(n)`.
    pub batch_size: Option<usize>,
    /// `capacity(n)`.
    pub capacity: Option<usize>,
}

/// `a -> b => c;`
pub struct Chain {
    pub first: EndpointRef,
    pub links: Vec<(Arrow, EndpointRef)>,
}

#[derive(Clone, Copy)]
pub enum Arrow {
    Fused(Span),
    Stage(Span),
}

impl Arrow {
    pub fn span(self) -> Span {
        match self {
            Arrow::Fused(s) | Arrow::Stage(s) => s,
        }
    }
}

#[derive(Clone)]
pub enum EndpointRef {
    Input(Ident),
    /// `output` (name `None`) or `output.name`.
    Output(Ident, Option<Ident>),
    Node(Ident),
    /// `node.port`: an output port of a node, where a link starts (`split.true -> evens`). The
    /// port is any identifier, keywords included (`true`, `false`).
    Port(Ident, Ident),
}

impl EndpointRef {
    pub fn span(&self) -> Span {
        match self {
            EndpointRef::Input(i) | EndpointRef::Node(i) | EndpointRef::Output(i, None) => i.span(),
            EndpointRef::Output(_, Some(name)) => name.span(),
            EndpointRef::Port(node, _) => node.span(),
        }
    }
}
