//! Each node of a compiled manifest as a Rust expression: built-ins as their concrete typed nodes
//! (the same constructors the registry calls), mapped user types from their params.
//!
//! Item type: by default `pipeline::Value`, so every built-in keeps the seed's semantics exactly
//! (numeric strings computed on, whole results as ints...) and outputs equal the dynamic loader's;
//! typed built-ins such as `Sum` are wrapped in `OnValues`, the static twin of the registry's
//! conversions. `item = i64` (any primitive number) instantiates the built-ins at that type instead:
//! the code a hand-written `pipeline!` over `i64` gets, at the price of the type's own semantics
//! (integer division truncates) and of `Echo`, whose items are maps.

use crate::manifest_catalog::{Builtin, CompiledNode};
use crate::manifest_input::NodeMapping;
use pipeline_core::manifest::builtin_types::{CalculatorParams, OperationName};
use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use syn::{Lifetime, Type};

/// The item type of a compiled manifest.
pub enum ItemType {
    /// `pipeline::Value`: the seed's semantics.
    Value,
    /// A primitive integer type.
    Int(Type),
    /// A primitive float type.
    Float(Type),
}

impl ItemType {
    /// From the invocation's `item = T`; `Err` names what is accepted.
    pub fn from_option(item: Option<&Type>) -> syn::Result<ItemType> {
        let Some(ty) = item else {
            return Ok(ItemType::Value);
        };
        let last = match ty {
            Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        match last.as_deref() {
            Some("Value") => Ok(ItemType::Value),
            Some(
                "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
                | "u128" | "usize",
            ) => Ok(ItemType::Int(ty.clone())),
            Some("f32" | "f64") => Ok(ItemType::Float(ty.clone())),
            _ => Err(syn::Error::new_spanned(
                ty,
                "the item type of a compiled manifest is `pipeline::Value` (the default) or a primitive number (`i64`, `f64`, ...)",
            )),
        }
    }

    /// The type's tokens.
    pub fn tokens(&self) -> TokenStream {
        match self {
            ItemType::Value => quote!(::pipeline::Value),
            ItemType::Int(t) | ItemType::Float(t) => quote!(#t),
        }
    }

    fn is_value(&self) -> bool {
        matches!(self, ItemType::Value)
    }
}

/// Why a node cannot be compiled: a message and the JSON pointer (under the node) it is about.
pub struct NodeCodeError {
    pub message: String,
    pub field: &'static str,
}

/// Everything about one node that its expression needs.
pub struct NodeSource<'a> {
    pub id: &'a str,
    pub node_type: &'a str,
    pub params: &'a serde_json::Map<String, serde_json::Value>,
    pub compiled: &'a CompiledNode,
}

/// The node's construction expression. `fail` is the label of the block that returns the
/// pipeline's `Result`; a user node with bad params breaks out of it with the error.
pub fn node_expr(
    node: &NodeSource<'_>,
    item: &ItemType,
    mappings: &[NodeMapping],
    fail: &Lifetime,
    span: Span,
) -> Result<TokenStream, NodeCodeError> {
    let builtins = quote!(::pipeline::builtins);
    let t = item.tokens();
    let on_values = |node: TokenStream| {
        if item.is_value() {
            quote!(#builtins::OnValues(#node))
        } else {
            node
        }
    };
    let builtin = match node.compiled {
        CompiledNode::Mapped(i) => return Ok(mapped_expr(node, &mappings[*i], fail, span)),
        CompiledNode::Builtin(builtin) => builtin,
    };
    Ok(match builtin {
        Builtin::PassThrough => quote!(#builtins::PassThrough::<#t>::new()),
        Builtin::Merge => quote!(#builtins::Merge::<#t>::new()),
        Builtin::Calculator(params) => calculator(params, item, node.id)?,
        Builtin::Echo if item.is_value() => quote!(#builtins::Echo::new()),
        Builtin::Echo => {
            return Err(NodeCodeError {
                message: format!(
                    "node `{}`: `Echo` emits maps, so it needs the default item type `pipeline::Value` (drop `item = ...`)",
                    node.id
                ),
                field: "/node_type",
            })
        }
        Builtin::Count => on_values(quote!(#builtins::Count::<#t>::new())),
        Builtin::Sum if item.is_value() => on_values(quote!(#builtins::Sum::<i64>::new())),
        Builtin::Sum => quote!(#builtins::Sum::<#t>::new()),
        Builtin::Batch(params) => {
            let size = params.size.get();
            on_values(quote!(#builtins::Batch::<#t>::new(#size)))
        }
        Builtin::Unbatch => on_values(quote!(
            #builtins::Unbatch::<::std::vec::Vec<#t>>::new()
        )),
    })
}

/// A `Calculator` with its operation fixed at compile time (a zero-sized kind, as
/// `Calculator::add(1)` written by hand) and its operand a literal of the item type.
fn calculator(
    params: &CalculatorParams,
    item: &ItemType,
    id: &str,
) -> Result<TokenStream, NodeCodeError> {
    let (kind, constructor) = match params.operation {
        OperationName::Add => (quote!(Add), quote!(add)),
        OperationName::Subtract => (quote!(Subtract), quote!(subtract)),
        OperationName::Multiply => (quote!(Multiply), quote!(multiply)),
        OperationName::Divide => (quote!(Divide), quote!(divide)),
    };
    let n = &params.operand;
    let operand = match item {
        // Exactly `Value::from(&serde_json::Value::Number(n))`, as the registry builds it.
        ItemType::Value => match n.as_i64() {
            Some(i) => quote!(::pipeline::Value::Int(#i)),
            None => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                quote!(::pipeline::Value::Float(#f))
            }
        },
        ItemType::Int(t) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Literal::i64_unsuffixed(i).into_token_stream_as(t),
            (None, Some(u)) => Literal::u64_unsuffixed(u).into_token_stream_as(t),
            _ => {
                return Err(NodeCodeError {
                    message: format!(
                        "node `{id}`: operand {n} is not an integer, but the manifest is compiled with `item = {}`",
                        quote!(#t)
                    ),
                    field: "/params/operand",
                })
            }
        },
        ItemType::Float(t) => {
            Literal::f64_unsuffixed(n.as_f64().unwrap_or(f64::NAN)).into_token_stream_as(t)
        }
    };
    let t = item.tokens();
    Ok(quote!(
        ::pipeline::builtins::Calculator::<#t, ::pipeline::builtins::ops::#kind>::#constructor(#operand)
    ))
}

trait TypedLiteral {
    fn into_token_stream_as(self, ty: &Type) -> TokenStream;
}

impl TypedLiteral for Literal {
    /// `{ let operand: T = 1; operand }`: the literal checked against the item type by rustc.
    fn into_token_stream_as(self, ty: &Type) -> TokenStream {
        quote!({ let operand: #ty = #self; operand })
    }
}

/// A mapped user node: its params, as written in the file, deserialised when the pipeline is built
/// (into the type itself for a path, into the closure's argument for a closure).
fn mapped_expr(
    node: &NodeSource<'_>,
    mapping: &NodeMapping,
    fail: &Lifetime,
    span: Span,
) -> TokenStream {
    let (id, node_type) = (node.id, node.node_type);
    let json = serde_json::Value::Object(node.params.clone()).to_string();
    let params = quote::quote_spanned! {span=>
        match ::pipeline::manifest::node_from_params(#id, #node_type, #json) {
            ::core::result::Result::Ok(params) => params,
            ::core::result::Result::Err(error) => break #fail ::core::result::Result::Err(error),
        }
    };
    match &mapping.target {
        syn::Expr::Closure(closure) => quote!((#closure)(#params)),
        path => quote!({ let node: #path = #params; node }),
    }
}

/// The node's manifest entry as the file wrote it, for `to_manifest()`.
pub fn export_entry(node: &NodeSource<'_>) -> TokenStream {
    let node_type = node.node_type;
    let json = serde_json::Value::Object(node.params.clone()).to_string();
    quote!(::pipeline::manifest::manifest_node_from_json(#node_type, #json))
}
