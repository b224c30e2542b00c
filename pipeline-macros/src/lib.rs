//! The `pipeline!` macro: a thin shim. Parsing ([`parse`]), lowering to the shared graph model
//! ([`lower`]), validation and planning (`pipeline_core::graph`), and code generation ([`codegen`])
//! are ordinary modules with their own tests; this file only connects them.
//!
//! See the `pipeline` crate for the grammar and examples.

mod ast;
mod codegen;
mod derive_ports;
mod diagnostics;
mod lower;
mod manifest_catalog;
mod manifest_errors;
mod manifest_expand;
mod manifest_input;
mod manifest_nodes;
mod parse;

use proc_macro::TokenStream;

/// Builds a statically dispatched pipeline from a node graph. See the `pipeline` crate docs.
#[proc_macro]
pub fn pipeline(input: TokenStream) -> TokenStream {
    expand(input.into()).into()
}

/// Makes an enum a node output with named ports: each variant, holding one item, is a port named
/// after it in snake_case (`VideoFrame(T)` → port `video_frame`). Generates
/// `impl pipeline::node::Ports` and, per port, `port_<name>(self) -> Result<Item, Self>`, which
/// `pipeline!` calls to hand each port's items, typed, to that port's edges. Generics are fine;
/// unit and struct variants are compile errors.
///
/// ```
/// use pipeline::prelude::*;
///
/// /// Readings sorted by kind: each port has its own item type.
/// #[derive(Ports)]
/// enum Reading {
///     Temperature(f64),
///     Label(String),
/// }
///
/// let sort = Map::new(|x: i64| {
///     if x >= 0 { Reading::Temperature(x as f64 / 10.0) } else { Reading::Label(format!("sensor {}", -x)) }
/// });
/// let mut p = pipeline! {
///     sort = sort;
///     input -> sort;
///     sort.temperature -> output.temperatures;
///     sort.label -> output.labels;
/// };
/// let out = p.run(vec![215, -3, 198]).unwrap();
/// assert_eq!(out.temperatures, [21.5, 19.8]);
/// assert_eq!(out.labels, ["sensor 3"]);
/// assert_eq!(Reading::Label("x".into()).port_name(), "label");
/// ```
#[proc_macro_derive(Ports)]
pub fn derive_ports(input: TokenStream) -> TokenStream {
    match syn::parse2(input.into()).and_then(derive_ports::derive) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// parse → graph → validate → plan → codegen; any error becomes `compile_error!`s at its tokens.
/// `manifest = "..."` compiles a JSON manifest through the same validation and codegen.
fn expand(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    if manifest_input::is_manifest_input(&input) {
        return match syn::parse2(input) {
            Ok(manifest) => manifest_expand::expand(manifest),
            Err(err) => diagnostics::to_compile_errors(err),
        };
    }
    let def: ast::PipelineDef = match syn::parse2(input) {
        Ok(def) => def,
        Err(err) => return diagnostics::to_compile_errors(err),
    };
    match lower::lower(def).and_then(|lowered| codegen::generate(&lowered)) {
        Ok(tokens) => tokens,
        Err(err) => diagnostics::to_compile_errors(err),
    }
}
