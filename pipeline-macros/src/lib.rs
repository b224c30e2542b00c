//! The `pipeline!` macro: a thin shim. Parsing ([`parse`]), lowering to the shared graph model
//! ([`lower`]), validation and planning (`pipeline_core::graph`), and code generation ([`codegen`])
//! are ordinary modules with their own tests; this file only connects them.
//!
//! See the `pipeline` crate for the grammar and examples.

mod ast;
mod codegen;
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
