//! Graph errors → compile errors at the tokens they are about.

use pipeline_core::graph::GraphError;
use proc_macro2::{Span, TokenStream};
use quote::quote;

/// Combines every error into one `syn::Error` (each shows at its own span); hints and related places
/// become extra lines and extra errors.
pub fn to_syn_error(errors: Vec<GraphError<Span>>) -> syn::Error {
    let mut combined: Option<syn::Error> = None;
    for error in errors {
        let mut message = error.kind.to_string();
        if let Some(help) = &error.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let mut this = syn::Error::new(error.loc, message);
        for (loc, note) in &error.related {
            this.combine(syn::Error::new(*loc, format!("note: {note}")));
        }
        match &mut combined {
            Some(all) => all.combine(this),
            None => combined = Some(this),
        }
    }
    combined.unwrap_or_else(|| syn::Error::new(Span::call_site(), "invalid pipeline"))
}

/// The macro's expansion on failure: one block expression holding a `compile_error!` per error.
///
/// `syn::Error::to_compile_error` on a combined error yields several macro calls in a row, which is
/// not an expression: rustc then adds its own confusing errors ("macro expansion ignores `!`",
/// "ambiguous associated type"). In a block they are statements, and the last one is the block's
/// value, so the pipeline variable gets rustc's error type and the caller's later uses of it
/// (`p.run(..)`) report nothing more.
pub fn to_compile_errors(err: syn::Error) -> TokenStream {
    let mut errors: Vec<TokenStream> = err.into_iter().map(|e| e.to_compile_error()).collect();
    let last = errors.pop();
    quote!({ #(#errors;)* #last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_errors_make_one_block_expression() {
        let mut err = syn::Error::new(Span::call_site(), "first");
        err.combine(syn::Error::new(Span::call_site(), "second"));
        let tokens = to_compile_errors(err);
        let block: syn::ExprBlock = syn::parse2(tokens).expect("a block expression");
        assert_eq!(block.block.stmts.len(), 2);
    }
}
