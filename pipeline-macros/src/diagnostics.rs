//! Graph errors → compile errors at the tokens they are about.

use pipeline_core::graph::GraphError;
use proc_macro2::Span;

/// Combines every error into one `syn::Error` (each shows at its own span); hints and related places
/// become extra lines and extra errors.
pub fn to_syn_error(errors: Vec<GraphError<Span>>) -> syn::Error {
    let mut combined: Option<syn::Error> = None;
    for error in errors {
        let mut message = error.kind.to_string();
        if let Some(help) = &error.help {
            message.push_str("\n  = help: ");
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
