//! Tokens → [`PipelineDef`](crate::ast::PipelineDef), with errors at the offending token.

use crate::ast::*;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, Token};

impl Parse for PipelineDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut statements = Vec::new();
        while !input.is_empty() {
            statements.push(input.parse()?);
        }
        if statements.is_empty() {
            return Err(input.error(
                "empty pipeline: declare nodes (`name = Node::new();`) and connect them (`input -> name -> output;`)",
            ));
        }
        Ok(PipelineDef { statements })
    }
}

impl Parse for Statement {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let is_declaration = input.peek(Ident)
            && input.peek2(Token![=])
            && !input.peek2(Token![=>])
            && !input.peek2(Token![==]);
        if is_declaration {
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            if input.peek(Token![;]) {
                return Err(input.error(format!("expected a node expression after `{name} =`")));
            }
            let expr = input.parse()?;
            expect_semicolon(input, "after the node expression")?;
            return Ok(Statement::Node(NodeDef { name, expr }));
        }
        let first: EndpointRef = input.parse()?;
        let mut links = Vec::new();
        loop {
            if input.peek(Token![->]) {
                let arrow = input.parse::<Token![->]>()?;
                links.push((Arrow::Fused(arrow.spans[0]), input.parse()?));
            } else if input.peek(Token![=>]) {
                let arrow = input.parse::<Token![=>]>()?;
                links.push((Arrow::Stage(arrow.spans[0]), input.parse()?));
            } else {
                break;
            }
        }
        if links.is_empty() {
            let hint = match &first {
                EndpointRef::Node(name) => {
                    format!("expected `=` to declare node `{name}`, or `->` / `=>` to connect it")
                }
                _ => "expected `->` (fused) or `=>` (stage boundary)".to_string(),
            };
            return Err(input.error(hint));
        }
        expect_semicolon(input, "to end the chain")?;
        Ok(Statement::Chain(Chain { first, links }))
    }
}

fn expect_semicolon(input: ParseStream, context: &str) -> syn::Result<()> {
    if input.peek(Token![;]) {
        input.parse::<Token![;]>()?;
        return Ok(());
    }
    let what = if input.is_empty() {
        "end of input"
    } else {
        "this"
    };
    Err(input.error(format!(
        "expected `;` {context}, found {what} (arrows are `->` and `=>`)"
    )))
}

impl Parse for EndpointRef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(Ident) {
            return Err(input.error("expected a node name, `input` or `output`"));
        }
        let ident: Ident = input.parse()?;
        if ident == "input" {
            return Ok(EndpointRef::Input(ident));
        }
        if ident == "output" {
            if input.peek(Token![.]) {
                input.parse::<Token![.]>()?;
                let name: Ident = input.parse()?;
                return Ok(EndpointRef::Output(ident, Some(name)));
            }
            return Ok(EndpointRef::Output(ident, None));
        }
        if input.peek(Token![.]) {
            let dot = input.parse::<Token![.]>()?;
            return Err(syn::Error::new(
                dot.span,
                format!("nodes in `pipeline!` have one input and one output; only `output.<name>` takes a name (found `{ident}.`)"),
            ));
        }
        Ok(EndpointRef::Node(ident))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<PipelineDef> {
        syn::parse2(tokens)
    }

    #[test]
    fn declarations_and_chains_in_any_order() {
        let def = parse(quote! {
            input -> a => b -> output.evens;
            a = Map::new(|x: i64| x + 1);
            b = PassThrough::new();
        })
        .unwrap();
        assert_eq!(def.statements.len(), 3);
        let Statement::Chain(chain) = &def.statements[0] else {
            panic!("chain first")
        };
        assert_eq!(chain.links.len(), 3);
        assert!(matches!(chain.links[1].0, Arrow::Stage(_)));
        assert!(matches!(&chain.links[2].1, EndpointRef::Output(_, Some(n)) if n == "evens"));
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        let msg = |t| parse(t).err().unwrap().to_string();
        assert_eq!(
            msg(quote! { add Calculator::add(1); }),
            "expected `=` to declare node `add`, or `->` / `=>` to connect it"
        );
        assert_eq!(
            msg(quote! { input -> a -> output }),
            "expected `;` to end the chain, found end of input (arrows are `->` and `=>`)"
        );
        assert_eq!(
            msg(quote! { input -> a > output; }),
            "expected `;` to end the chain, found this (arrows are `->` and `=>`)"
        );
        assert_eq!(
            msg(quote! { a = ; }),
            "expected a node expression after `a =`"
        );
        assert!(msg(quote! {}).starts_with("empty pipeline"));
    }
}
