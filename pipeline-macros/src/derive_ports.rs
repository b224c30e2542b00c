//! `#[derive(Ports)]`: an enum whose variants each hold one item becomes a node output with one
//! named port per variant (`Ports` and the `port_<name>` accessors generated code calls).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

/// The `impl Ports` and the `port_<name>` accessors of `input`, or errors at the offending
/// variants.
pub fn derive(input: DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`#[derive(Ports)]` is for enums: one variant per output port, each holding that port's item",
        ));
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new(
            input.ident.span(),
            "`#[derive(Ports)]` needs at least one variant: each variant is an output port",
        ));
    }
    let mut errors: Option<syn::Error> = None;
    let mut fail = |err: syn::Error| match &mut errors {
        Some(all) => all.combine(err),
        None => errors = Some(err),
    };
    let mut ports: Vec<(String, &syn::Ident, &syn::Type)> = Vec::new();
    for variant in &data.variants {
        let name = snake_case(&variant.ident.unraw_string());
        let field = match &variant.fields {
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => &fields.unnamed[0].ty,
            _ => {
                let ident = &variant.ident;
                fail(syn::Error::new(
                    variant.span(),
                    format!("port `{name}`: variant `{ident}` must hold exactly one unnamed field, the port's item (`{ident}(T)`)"),
                ));
                continue;
            }
        };
        if let Some((_, first, _)) = ports.iter().find(|(seen, _, _)| *seen == name) {
            fail(syn::Error::new(
                variant.ident.span(),
                format!(
                    "`{}` and `{first}` both become port `{name}`; rename one",
                    variant.ident
                ),
            ));
            continue;
        }
        ports.push((name, &variant.ident, field));
    }
    if let Some(errors) = errors {
        return Err(errors);
    }

    let ty = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let names = ports.iter().map(|(name, _, _)| name);
    let arms = ports
        .iter()
        .enumerate()
        .map(|(index, (_, variant, _))| quote!(#ty::#variant(_) => #index));
    let accessors = ports.iter().map(|(name, variant, field)| {
        let accessor = format_ident!("port_{}", name, span = variant.span());
        let doc =
            format!("The item of port `{name}`, or the item back when it leaves by another port.");
        quote_spanned! {Span::mixed_site().located_at(variant.span())=>
            #[doc = #doc]
            #[inline(always)]
            #[allow(unreachable_patterns)]
            pub fn #accessor(self) -> ::core::result::Result<#field, Self> {
                match self {
                    #ty::#variant(item) => ::core::result::Result::Ok(item),
                    other => ::core::result::Result::Err(other),
                }
            }
        }
    });
    Ok(quote! {
        impl #impl_generics ::pipeline::node::Ports for #ty #ty_generics #where_clause {
            const NAMES: &'static [&'static str] = &[#(#names),*];

            #[inline(always)]
            fn port(&self) -> usize {
                match self {
                    #(#arms,)*
                }
            }
        }

        impl #impl_generics #ty #ty_generics #where_clause {
            #(#accessors)*
        }
    })
}

/// `AudioFrame` → `audio_frame`, `HTTPStatus` → `http_status`, `True` → `true`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let after_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let ends_acronym = i > 0
                && chars[i - 1].is_uppercase()
                && chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if (after_lower || ends_acronym) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `unraw().to_string()` for an identifier.
trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for syn::Ident {
    fn unraw_string(&self) -> String {
        use syn::ext::IdentExt;
        self.unraw().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(tokens: TokenStream) -> syn::Result<String> {
        derive(syn::parse2(tokens)?).map(|t| t.to_string())
    }

    #[test]
    fn variant_names_become_snake_case_ports() {
        assert_eq!(snake_case("AudioFrame"), "audio_frame");
        assert_eq!(snake_case("HTTPStatus"), "http_status");
        assert_eq!(snake_case("True"), "true");
        assert_eq!(snake_case("Mp3Chunk"), "mp3_chunk");
        let out = expand(quote! { enum Track<T> { Audio(Vec<i16>), VideoFrame(T) } }).unwrap();
        assert!(
            out.contains(r#"[& 'static str] = & ["audio" , "video_frame"]"#),
            "{out}"
        );
        assert!(
            out.contains("fn port_video_frame (self) -> :: core :: result :: Result < T , Self >"),
            "{out}"
        );
    }

    #[test]
    fn only_enums_of_one_field_variants() {
        let msg = |t| expand(t).err().unwrap().to_string();
        assert_eq!(
            msg(quote! { enum E { A(i64), B } }),
            "port `b`: variant `B` must hold exactly one unnamed field, the port's item (`B(T)`)"
        );
        assert_eq!(
            msg(quote! { enum E { A { x: i64 } } }),
            "port `a`: variant `A` must hold exactly one unnamed field, the port's item (`A(T)`)"
        );
        assert!(msg(quote! { struct S(i64); }).starts_with("`#[derive(Ports)]` is for enums"));
        assert!(
            msg(quote! { enum E {} }).starts_with("`#[derive(Ports)]` needs at least one variant")
        );
        assert_eq!(
            msg(quote! { enum E { AB(i64), Ab(i64) } }),
            "`Ab` and `AB` both become port `ab`; rename one"
        );
    }
}
