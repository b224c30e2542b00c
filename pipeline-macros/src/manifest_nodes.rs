//! Each node of a compiled manifest as a Rust expression: built-ins as the constructor their spec
//! describes (`pipeline_core::builtin_specs`, rendered here as tokens), mapped user types from their
//! params.
//!
//! Item type: by default `pipeline::Value`, so every built-in keeps the seed's semantics exactly
//! (numeric strings computed on, whole results as ints...) and outputs equal the dynamic loader's;
//! typed built-ins such as `Sum` are wrapped in `OnValues`, the static twin of the registry's
//! conversions. `item = i64` (any primitive number) instantiates the built-ins at that type instead:
//! the code a hand-written `pipeline!` over `i64` gets, at the price of the type's own semantics
//! (integer division truncates) and of `Echo`, whose items are maps.
//!
//! `python` nodes become the RustPython bridge's `Python<T, T>` at the item type, built as the
//! run-time loader builds its node (source, entry point, args, traceback file name), with a `file`
//! embedded by `include_str!` (so editing the `.py` rebuilds the crate) and inline `code` as a string
//! literal. The expression goes through the facade's `__manifest_python_node!`, which is the node
//! itself when the facade has its `python` feature and a compile error naming the node otherwise.

use crate::manifest_catalog::{CheckedBuiltin, CompiledNode};
use crate::manifest_input::NodeMapping;
use pipeline_core::builtin_specs::{Arg, CompareOp, Constructor, ItemKind, TypeArg};
use pipeline_core::python_params::{PythonEntry, PythonSpec};
use proc_macro2::{Ident, Literal, Span, TokenStream};
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

    /// What a built-in's spec needs to know of it.
    fn kind(&self) -> ItemKind {
        match self {
            ItemType::Value => ItemKind::Value,
            ItemType::Int(_) => ItemKind::Int,
            ItemType::Float(_) => ItemKind::Float,
        }
    }

    /// Whether items of this type cross into Python: they convert through `IntoValue` and
    /// `FromValue`, which `Value`, `i64` and `f64` implement.
    fn crosses_into_python(&self) -> bool {
        let last = |t: &Type| match t {
            Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        match self {
            ItemType::Value => true,
            ItemType::Int(t) => last(t).as_deref() == Some("i64"),
            ItemType::Float(t) => last(t).as_deref() == Some("f64"),
        }
    }
}

/// Why a node cannot be compiled: a message and the JSON pointer (under the node) it is about.
pub struct NodeCodeError {
    pub message: String,
    pub field: String,
}

/// Everything about one node that its expression needs.
pub struct NodeSource<'a> {
    pub id: &'a str,
    pub node_type: &'a str,
    pub params: &'a serde_json::Map<String, serde_json::Value>,
    pub compiled: &'a CompiledNode,
    /// For a `python` node: where its source came from and what a build without Python says.
    pub python: Option<PythonOrigin>,
}

/// What a `python` node's expression needs beyond its checked params.
pub struct PythonOrigin {
    /// The absolute path of its `file`, embedded with `include_str!`; `None` for inline `code`.
    pub file: Option<String>,
    /// The compile error of a facade built without its `python` feature: names the node and its
    /// place in the manifest.
    pub without_feature: String,
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
    let builtin = match node.compiled {
        CompiledNode::Mapped(i) => return Ok(mapped_expr(node, &mappings[*i], fail, span)),
        CompiledNode::Python(spec) => return python_expr(node, spec, item, fail, span),
        CompiledNode::Builtin(builtin) => builtin,
    };
    builtin_expr(builtin, item, node.id)
}

/// A built-in: the constructor its spec gives for the item type, as tokens.
fn builtin_expr(
    builtin: &CheckedBuiltin,
    item: &ItemType,
    id: &str,
) -> Result<TokenStream, NodeCodeError> {
    let constructor = builtin
        .spec
        .constructor(&builtin.params, item.kind())
        .map_err(|err| NodeCodeError {
            message: format!("node `{id}`: {}", err.message),
            field: err.field,
        })?;
    constructor_expr(&constructor, builtin.spec.name, item, id)
}

/// `::pipeline::builtins::Path::<Args>::function(args)`, in `OnValues` if asked.
fn constructor_expr(
    constructor: &Constructor,
    name: &str,
    item: &ItemType,
    id: &str,
) -> Result<TokenStream, NodeCodeError> {
    let builtins = quote!(::pipeline::builtins);
    let not_rust = |what: &str| NodeCodeError {
        message: format!(
            "node `{id}`: the spec of built-in `{name}` gives `{what}` where a Rust path belongs"
        ),
        field: "/node_type".to_string(),
    };
    let path = |path: &str| syn::parse_str::<syn::Path>(path).map_err(|_| not_rust(path));
    let ty = path(constructor.path)?;
    let type_args = constructor
        .type_args
        .iter()
        .map(|arg| {
            Ok(match arg {
                TypeArg::Item => item.tokens(),
                TypeArg::ListOfItem => {
                    let t = item.tokens();
                    quote!(::std::vec::Vec<#t>)
                }
                TypeArg::Builtin(p) => {
                    let p = path(p)?;
                    quote!(#builtins::#p)
                }
                TypeArg::Primitive(p) => {
                    let p = path(p)?;
                    quote!(#p)
                }
                TypeArg::Inferred => quote!(_),
            })
        })
        .collect::<Result<Vec<_>, NodeCodeError>>()?;
    let generics = if type_args.is_empty() {
        quote!()
    } else {
        quote!(::<#(#type_args),*>)
    };
    let function = syn::parse_str::<syn::Ident>(constructor.function)
        .map_err(|_| not_rust(constructor.function))?;
    let args = constructor
        .args
        .iter()
        .map(|arg| arg_expr(arg, item, id))
        .collect::<Result<Vec<_>, NodeCodeError>>()?;
    let node = quote!(#builtins::#ty #generics::#function(#(#args),*));
    Ok(match (&constructor.indexed_ports, constructor.on_values) {
        (Some(names), _) => indexed_ports_expr(node, names, id),
        (None, true) => quote!(#builtins::OnValues(#node)),
        (None, false) => node,
    })
}

/// `node`, whose items carry the index of their port (`Routed`), with its items given a port type
/// of their own, `Ports_<id>`: `Ports` with the node's port names, and an accessor `port_<name>`
/// per port, which the generated delivery code calls as it does on any node with ports. Defined
/// in the node's expression: inherent methods and impls are found wherever its items go.
fn indexed_ports_expr(node: TokenStream, names: &[String], id: &str) -> TokenStream {
    let ty = Ident::new(
        &format!("Ports_{}", crate::codegen::names::fragment(id)),
        Span::mixed_site(),
    );
    let routed = quote!(::pipeline::builtins::Routed);
    let accessors = names.iter().enumerate().map(|(index, name)| {
        let accessor = Ident::new(&format!("port_{name}"), Span::mixed_site());
        quote! {
            #[inline(always)]
            fn #accessor(self) -> ::core::result::Result<::pipeline::Value, Self> {
                if self.0.port == #index {
                    ::core::result::Result::Ok(self.0.value)
                } else {
                    ::core::result::Result::Err(self)
                }
            }
        }
    });
    let doc = format!("The items of node `{id}`, each with the index of its port.");
    quote!({
        #[doc = #doc]
        #[allow(non_camel_case_types, dead_code)]
        struct #ty(#routed);
        impl ::core::convert::From<#routed> for #ty {
            #[inline(always)]
            fn from(routed: #routed) -> Self {
                #ty(routed)
            }
        }
        impl ::pipeline::node::Ports for #ty {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            #[inline(always)]
            fn port(&self) -> usize {
                self.0.port
            }
        }
        #[allow(dead_code)]
        impl #ty {
            #(#accessors)*
        }
        #node.with_ports::<#ty>()
    })
}

/// A constructor's argument. A number of the item type is a literal of that type: for `Value`
/// items exactly `Value::from(&serde_json::Value::Number(n))`, as the registry builds it.
fn arg_expr(arg: &Arg, item: &ItemType, id: &str) -> Result<TokenStream, NodeCodeError> {
    let (param, n) = match arg {
        Arg::Usize(n) => return Ok(quote!(#n)),
        Arg::Str(s) => return Ok(quote!(#s)),
        Arg::Strs(strings) => return Ok(quote!([#(#strings),*])),
        Arg::ItemNumber { param, value } => (param, value),
        Arg::ValueTest { op, value, field } => return Ok(value_test_expr(*op, value, field)),
    };
    Ok(match item {
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
                        "node `{id}`: {param} {n} is not an integer, but the manifest is compiled with `item = {}`",
                        quote!(#t)
                    ),
                    field: format!("/params/{param}"),
                })
            }
        },
        ItemType::Float(t) => {
            Literal::f64_unsuffixed(n.as_f64().unwrap_or(f64::NAN)).into_token_stream_as(t)
        }
    })
}

/// `ValueTest::new(op, value, field).predicate()`, its value the `Value` the registry makes of it.
fn value_test_expr(
    op: CompareOp,
    value: &Option<serde_json::Value>,
    field: &Option<String>,
) -> TokenStream {
    let specs = quote!(::pipeline::builtin_specs);
    let op = Ident::new(&format!("{op:?}"), Span::call_site());
    let value = match value {
        Some(value) => {
            let value = value_tokens(value);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    };
    let field = match field {
        Some(field) => quote!(::core::option::Option::Some(#field)),
        None => quote!(::core::option::Option::None),
    };
    quote!(#specs::ValueTest::new(#specs::CompareOp::#op, #value, #field).predicate())
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

/// A `python` node: `Python::<T, T>` built as the loader builds its `PythonNode` and with its
/// source checked as the loader checks it (`checked`, breaking out of `fail` with the error),
/// inside the facade's `__manifest_python_node!` so that a facade without Python gives a clear
/// compile error.
fn python_expr(
    node: &NodeSource<'_>,
    spec: &PythonSpec,
    item: &ItemType,
    fail: &Lifetime,
    span: Span,
) -> Result<TokenStream, NodeCodeError> {
    if !item.crosses_into_python() {
        let t = item.tokens();
        return Err(NodeCodeError {
            message: format!(
                "node `{}`: a `python` node exchanges items with Python as `pipeline::Value`, `i64` or `f64`, not `{}` (drop `item = ...`, or use `item = i64` or `item = f64`)",
                node.id,
                quote!(#t)
            ),
            field: "/node_type".to_string(),
        });
    }
    let origin = node.python.as_ref();
    let source = match origin.and_then(|o| o.file.as_deref()) {
        Some(path) => quote!(::core::include_str!(#path)),
        None => {
            let code = &spec.code;
            quote!(#code)
        }
    };
    let (constructor, name) = match &spec.entry {
        PythonEntry::Class(name) => (quote!(class), name),
        PythonEntry::Function(name) => (quote!(function), name),
    };
    let t = item.tokens();
    let mut expr = quote!(::pipeline::python::Python::<#t, #t>::#constructor(#source, #name));
    if let Some(args) = &spec.args {
        let args = value_tokens(&serde_json::Value::Object(args.clone()));
        expr = quote!(#expr.with_args(#args));
    }
    if let Some(filename) = &spec.filename {
        expr = quote!(#expr.with_filename(#filename));
    }
    // The source is checked as the loader checks it (the macro has no Python parser): a syntax
    // error or a missing entry point fails the build, naming the node.
    let id = node.id;
    let expr = quote!(match #expr.checked(#id) {
        ::core::result::Result::Ok(node) => node,
        ::core::result::Result::Err(error) => break #fail ::core::result::Result::Err(error),
    });
    let without_feature = origin.map_or_else(
        || {
            format!(
                "node `{}`: a `python` node needs the `python` feature of the `pipeline` crate",
                node.id
            )
        },
        |o| o.without_feature.clone(),
    );
    Ok(quote::quote_spanned!(span=> ::pipeline::__manifest_python_node!(#without_feature, #expr)))
}

/// A JSON value as the `pipeline::Value` expression `Value::from(&json)` gives at run time.
fn value_tokens(json: &serde_json::Value) -> TokenStream {
    let value = quote!(::pipeline::Value);
    match json {
        serde_json::Value::Null => quote!(#value::Null),
        serde_json::Value::Bool(b) => quote!(#value::Bool(#b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => quote!(#value::Int(#i)),
            None => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                quote!(#value::Float(#f))
            }
        },
        serde_json::Value::String(s) => quote!(#value::from(#s)),
        serde_json::Value::Array(items) => {
            let items = items.iter().map(value_tokens);
            quote!(#value::list(::std::vec::Vec::<#value>::from([#(#items),*])))
        }
        serde_json::Value::Object(map) => {
            let entries = map.iter().map(|(k, v)| {
                let v = value_tokens(v);
                quote!((#k, #v))
            });
            quote!(#value::map(::std::vec::Vec::<(&str, #value)>::from([#(#entries),*])))
        }
    }
}

/// The node's manifest entry as the file wrote it, for `to_manifest()`.
pub fn export_entry(node: &NodeSource<'_>) -> TokenStream {
    let node_type = node.node_type;
    let json = serde_json::Value::Object(node.params.clone()).to_string();
    quote!(::pipeline::manifest::manifest_node_from_json(#node_type, #json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline_core::python_params::PythonParams;

    fn python(params: serde_json::Value) -> CompiledNode {
        let params: PythonParams = serde_json::from_value(params).unwrap();
        CompiledNode::Python(params.check().unwrap())
    }

    fn expr(
        compiled: &CompiledNode,
        file: Option<&str>,
        item: &ItemType,
    ) -> Result<String, NodeCodeError> {
        let params = serde_json::Map::new();
        let node = NodeSource {
            id: "scale",
            node_type: "python",
            params: &params,
            compiled,
            python: Some(PythonOrigin {
                file: file.map(str::to_string),
                without_feature: "needs python".to_string(),
            }),
        };
        let fail = Lifetime::new("'fail", Span::call_site());
        node_expr(&node, item, &[], &fail, Span::call_site()).map(|t| t.to_string())
    }

    fn builtin(
        node_type: &str,
        params: serde_json::Value,
        item: &str,
    ) -> Result<String, NodeCodeError> {
        let compiled = CompiledNode::Builtin(CheckedBuiltin {
            spec: pipeline_core::builtin_specs::builtin_spec(node_type).unwrap(),
            params,
        });
        let item = ItemType::from_option(Some(&syn::parse_str(item).unwrap()))
            .ok()
            .unwrap();
        let params = serde_json::Map::new();
        let node = NodeSource {
            id: "calc",
            node_type,
            params: &params,
            compiled: &compiled,
            python: None,
        };
        let fail = Lifetime::new("'fail", Span::call_site());
        node_expr(&node, &item, &[], &fail, Span::call_site()).map(|t| t.to_string())
    }

    /// Tokens as text without spacing, which depends on how the tokens were made.
    fn unspaced(tokens: &str) -> String {
        tokens.split_whitespace().collect()
    }

    #[test]
    fn builtins_become_the_constructor_their_spec_gives() {
        let cases = [
            (
                "CalculatorNode",
                serde_json::json!({"operation": "multiply", "operand": 3}),
                "pipeline::Value",
                "::pipeline::builtins::Calculator::<::pipeline::Value, ::pipeline::builtins::ops::Multiply>::multiply(::pipeline::Value::Int(3i64))",
            ),
            (
                "Calculator",
                serde_json::json!({"operand": 2}),
                "u8",
                "::pipeline::builtins::Calculator::<u8, ::pipeline::builtins::ops::Add>::add({ let operand: u8 = 2; operand })",
            ),
            // A typed node on `Value` items goes through the registry's conversions.
            (
                "Sum",
                serde_json::Value::Null,
                "pipeline::Value",
                "::pipeline::builtins::OnValues(::pipeline::builtins::Sum::<i64>::new())",
            ),
            (
                "Unbatch",
                serde_json::Value::Null,
                "i64",
                "::pipeline::builtins::Unbatch::<::std::vec::Vec<i64>>::new()",
            ),
            (
                "Batch",
                serde_json::json!({"size": 4}),
                "pipeline::Value",
                "::pipeline::builtins::OnValues(::pipeline::builtins::Batch::<::pipeline::Value>::new(4usize))",
            ),
            // Its predicate a closure whose type rustc infers; `even` takes no value.
            (
                "Partition",
                serde_json::json!({"op": "even"}),
                "pipeline::Value",
                "::pipeline::builtins::Partition::<_, ::pipeline::Value>::new(::pipeline::builtin_specs::ValueTest::new(::pipeline::builtin_specs::CompareOp::Even, ::core::option::Option::None, ::core::option::Option::None).predicate())",
            ),
            (
                "Partition",
                serde_json::json!({"op": "ne", "value": true}),
                "pipeline::Value",
                "::pipeline::builtins::Partition::<_, ::pipeline::Value>::new(::pipeline::builtin_specs::ValueTest::new(::pipeline::builtin_specs::CompareOp::Ne, ::core::option::Option::Some(::pipeline::Value::Bool(true)), ::core::option::Option::None).predicate())",
            ),
        ];
        for (node_type, params, item, expected) in cases {
            let expr = builtin(node_type, params, item).ok().unwrap();
            assert_eq!(
                unspaced(&expr),
                unspaced(expected),
                "{node_type} over {item}"
            );
        }
    }

    #[test]
    fn a_builtin_that_cannot_run_on_the_item_type_is_an_error_at_its_place() {
        let err = builtin("Calculator", serde_json::json!({"operand": 1.5}), "i64")
            .err()
            .unwrap();
        assert_eq!(err.field, "/params/operand");
        assert_eq!(
            err.message,
            "node `calc`: operand 1.5 is not an integer, but the manifest is compiled with `item = i64`"
        );
        let err = builtin("Echo", serde_json::Value::Null, "f64")
            .err()
            .unwrap();
        assert_eq!(err.field, "/node_type");
        assert_eq!(
            err.message,
            "node `calc`: `Echo` emits maps, so it needs the default item type `pipeline::Value` (drop `item = ...`)"
        );
        let err = builtin("Partition", serde_json::json!({"op": "odd"}), "i64")
            .err()
            .unwrap();
        assert_eq!(err.field, "/node_type");
        assert_eq!(
            err.message,
            "node `calc`: `Partition` tests `pipeline::Value` items, as at run time, so it needs the default item type `pipeline::Value` (drop `item = ...`)"
        );
    }

    /// The node expression, its source checked when the pipeline is built, in the facade's macro.
    fn checked(node: TokenStream) -> TokenStream {
        quote!(::pipeline::__manifest_python_node!(
            "needs python",
            match #node.checked("scale") {
                ::core::result::Result::Ok(node) => node,
                ::core::result::Result::Err(error) => break 'fail ::core::result::Result::Err(error),
            }
        ))
    }

    #[test]
    fn a_python_file_node_embeds_the_file_and_builds_like_the_loader() {
        // As `read_python_files` hands it on: the file's text as `code`, `filename` its path.
        let compiled = python(serde_json::json!({
            "code": "class Scale: ...", "filename": "nodes/scale.py", "class": "Scale",
            "args": {"factor": 3, "name": "x", "nested": {}, "opts": [1.5, null, true]}
        }));
        let tokens = expr(&compiled, Some("/abs/nodes/scale.py"), &ItemType::Value)
            .ok()
            .unwrap();
        let node = quote!(
            ::pipeline::python::Python::<::pipeline::Value, ::pipeline::Value>::class(
                ::core::include_str!("/abs/nodes/scale.py"),
                "Scale"
            )
            .with_args(::pipeline::Value::map(::std::vec::Vec::<(
                &str,
                ::pipeline::Value
            )>::from([
                ("factor", ::pipeline::Value::Int(3i64)),
                ("name", ::pipeline::Value::from("x")),
                (
                    "nested",
                    ::pipeline::Value::map(::std::vec::Vec::<(&str, ::pipeline::Value)>::from([]))
                ),
                (
                    "opts",
                    ::pipeline::Value::list(::std::vec::Vec::<::pipeline::Value>::from([
                        ::pipeline::Value::Float(1.5f64),
                        ::pipeline::Value::Null,
                        ::pipeline::Value::Bool(true)
                    ]))
                )
            ])))
            .with_filename("nodes/scale.py")
        );
        assert_eq!(tokens, checked(node).to_string());
    }

    #[test]
    fn inline_python_code_is_a_string_literal_at_the_item_type() {
        let code = "def evens(x):\n    if x % 2 == 0:\n        return x\n";
        let compiled = python(serde_json::json!({"code": code, "function": "evens"}));
        let item = ItemType::from_option(Some(&syn::parse_quote!(i64)))
            .ok()
            .unwrap();
        let tokens = expr(&compiled, None, &item).ok().unwrap();
        let node = quote!(::pipeline::python::Python::<i64, i64>::function(#code, "evens"));
        assert_eq!(tokens, checked(node).to_string());
    }

    #[test]
    fn python_items_must_convert_to_and_from_values() {
        let compiled = python(serde_json::json!({"code": "def f(x): ...", "function": "f"}));
        let f64_item = ItemType::from_option(Some(&syn::parse_quote!(f64)))
            .ok()
            .unwrap();
        assert!(expr(&compiled, None, &f64_item).is_ok());
        let item = ItemType::from_option(Some(&syn::parse_quote!(i32)))
            .ok()
            .unwrap();
        let err = expr(&compiled, None, &item).err().unwrap();
        assert_eq!(err.field, "/node_type");
        assert!(
            err.message
                .starts_with("node `scale`: a `python` node exchanges items with Python as `pipeline::Value`, `i64` or `f64`, not `i32`"),
            "{}",
            err.message
        );
    }
}
