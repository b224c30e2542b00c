//! Output types: a plain `Vec<T>` for one output; a struct of `Vec`s (and an enum tagging items) for
//! several named outputs.

use super::Codegen;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

impl Codegen<'_> {
    fn output_fields(&self) -> Vec<Ident> {
        // Call-site hygiene: user code reads these fields.
        self.lowered
            .graph
            .outputs
            .iter()
            .map(|o| Ident::new(o, Span::call_site()))
            .collect()
    }

    pub(super) fn is_multi_output(&self) -> bool {
        self.lowered.graph.outputs.len() > 1
    }

    /// The generated enum and struct for several outputs; nothing for one.
    pub(super) fn output_types(&self) -> TokenStream {
        if !self.is_multi_output() {
            return TokenStream::new();
        }
        let fields = self.output_fields();
        let params: Vec<Ident> = (0..fields.len()).map(|i| format_ident!("T{}", i)).collect();
        let item = self.names.item_enum();
        quote! {
            #[allow(non_camel_case_types)]
            enum #item<#(#params),*> {
                #(#fields(#params)),*
            }
            /// The outputs of one run, one `Vec` per named output.
            #[derive(Debug, Clone, PartialEq)]
            struct __PipelineOutputs<#(#params),*> {
                #(pub #fields: ::std::vec::Vec<#params>),*
            }
            impl<#(#params),*> ::pipeline::runtime::Outputs for __PipelineOutputs<#(#params),*> {
                type Item = #item<#(#params),*>;
                fn collect(items: ::std::vec::Vec<Self::Item>) -> Self {
                    let mut all = __PipelineOutputs { #(#fields: ::std::vec::Vec::new()),* };
                    for item in items {
                        match item {
                            #(#item::#fields(value) => all.#fields.push(value)),*
                        }
                    }
                    all
                }
            }
        }
    }

    pub(super) fn collect_type(&self) -> TokenStream {
        if self.is_multi_output() {
            let params = self.lowered.graph.outputs.iter().map(|_| quote!(_));
            quote!(__PipelineOutputs<#(#params),*>)
        } else {
            quote!(::std::vec::Vec<_>)
        }
    }

    /// Pushes `value` (already cast) into output `index`.
    pub(super) fn push_output(&self, index: usize, value: TokenStream) -> TokenStream {
        let out = self.names.out();
        if self.is_multi_output() {
            let item = self.names.item_enum();
            let field = &self.output_fields()[index];
            quote!(#out.push(#item::#field(#value));)
        } else {
            quote!(#out.push(#value);)
        }
    }
}
