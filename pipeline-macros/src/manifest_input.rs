//! The syntax of a compiled manifest: `pipeline!(manifest = "path.json", item = T, nodes { .. })`.
//!
//! ```text
//! input    := 'manifest' '=' STRING (',' option)* ','?
//! option   := 'item' '=' TYPE                       // the item type; default `pipeline::Value`
//!           | 'nodes' '{' (IDENT '=' EXPR),* '}'    // node_type → a Rust type or a params closure
//! ```

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, Expr, Ident, LitStr, Token, Type};

/// A whole compiled-manifest invocation.
pub struct ManifestInput {
    /// The file, relative to `CARGO_MANIFEST_DIR`; errors are spanned on it.
    pub path: LitStr,
    /// `item = T`: the item type the built-ins are instantiated at.
    pub item: Option<Type>,
    /// `nodes { Scale = crate::Scale, .. }`.
    pub nodes: Vec<NodeMapping>,
}

/// `Name = target`: manifest nodes of type `Name` are built by `target`, either a path to a type
/// that deserialises from the params, or a closure `|p: Params| node`.
pub struct NodeMapping {
    pub name: Ident,
    pub target: Expr,
}

/// Whether the macro input is a compiled manifest: `manifest = "..."` then the end or a comma. (A
/// hand-written graph may have a node named `manifest`, but its expression is never a string.)
pub fn is_manifest_input(tokens: &TokenStream) -> bool {
    let mut it = tokens.clone().into_iter();
    let first = matches!(it.next(), Some(proc_macro2::TokenTree::Ident(i)) if i == "manifest");
    let eq = matches!(it.next(), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '=');
    let lit = matches!(it.next(), Some(proc_macro2::TokenTree::Literal(l)) if l.to_string().starts_with('"'));
    let end = match it.next() {
        None => true,
        Some(proc_macro2::TokenTree::Punct(p)) => p.as_char() == ',',
        Some(_) => false,
    };
    first && eq && lit && end
}

impl Parse for NodeMapping {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let target: Expr = input.parse()?;
        match &target {
            Expr::Path(_) | Expr::Closure(_) => Ok(NodeMapping { name, target }),
            other => Err(syn::Error::new_spanned(
                other,
                format!("map `{name}` to a node type (`{name} = crate::nodes::{name}`, deserialised from its params) or a closure (`{name} = |p: Params| {name}::new(p)`)"),
            )),
        }
    }
}

impl Parse for ManifestInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        input.parse::<Ident>()?; // `manifest`, checked by `is_manifest_input`
        input.parse::<Token![=]>()?;
        let path: LitStr = input.parse()?;
        let mut item = None;
        let mut nodes = Vec::new();
        while input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let option: Ident = input.parse()?;
            if option == "item" {
                input.parse::<Token![=]>()?;
                item = Some(input.parse()?);
            } else if option == "nodes" {
                let body;
                braced!(body in input);
                let mappings = Punctuated::<NodeMapping, Token![,]>::parse_terminated(&body)?;
                nodes.extend(mappings);
            } else {
                return Err(syn::Error::new(
                    option.span(),
                    format!("unknown option `{option}`: expected `item = Type` or `nodes {{ Name = path::to::Type }}`"),
                ));
            }
        }
        if !input.is_empty() {
            return Err(input.error("expected `,` between the options of a compiled manifest"));
        }
        Ok(ManifestInput { path, item, nodes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn manifest_invocations_are_told_from_graphs() {
        assert!(is_manifest_input(&quote!(manifest = "a.json")));
        assert!(is_manifest_input(&quote!(manifest = "a.json", item = i64)));
        assert!(!is_manifest_input(
            &quote!(manifest = Echo::new(); input -> manifest -> output;)
        ));
    }

    #[test]
    fn options_parse() {
        let input: ManifestInput = syn::parse2(quote!(
            manifest = "a.json", item = i64, nodes { Scale = crate::Scale, Neg = |_: P| Neg },
        ))
        .unwrap();
        assert_eq!(input.path.value(), "a.json");
        assert!(input.item.is_some());
        assert_eq!(input.nodes.len(), 2);
        let err = syn::parse2::<ManifestInput>(quote!(manifest = "a.json", color = red))
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("unknown option `color`"));
    }
}
