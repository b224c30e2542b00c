//! The syntax of a `pipeline!` body, as written.
//!
//! ```text
//! body      := statement*
//! statement := node | chain
//! node      := IDENT '=' EXPR ';'                  // any Rust expression implementing Node
//! chain     := endpoint (arrow endpoint)+ ';'
//! arrow     := '->'                                 // fused: a direct call on the same thread
//!            | '=>'                                 // stage boundary: a channel to another thread
//! endpoint  := 'input' | 'output' ('.' IDENT)? | IDENT
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

/// `name = expr;`
pub struct NodeDef {
    pub name: Ident,
    pub expr: Expr,
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
}

impl EndpointRef {
    pub fn span(&self) -> Span {
        match self {
            EndpointRef::Input(i) | EndpointRef::Node(i) | EndpointRef::Output(i, None) => i.span(),
            EndpointRef::Output(_, Some(name)) => name.span(),
        }
    }
}
