//! Tokens → [`PipelineDef`](crate::ast::PipelineDef), with errors at the offending token.

use crate::ast::*;
use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, Token};

impl Parse for PipelineDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut statements = Vec::new();
        while !input.is_empty() {
            statements.push(input.parse()?);
        }
        if statements.is_empty() {
            // Not `input.error`: at the end of input syn prefixes "unexpected end of input".
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
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
            let expr: syn::Expr = input.parse()?;
            let mut last = expr.to_token_stream().into_iter().last().map(|t| t.span());
            let mut tuning = Tuning::default();
            if input.peek(Token![@]) {
                input.parse::<Token![@]>()?;
                last = Some(parse_options(input, &mut tuning)?);
            }
            expect_semicolon(input, "after the node expression", last)?;
            return Ok(Statement::Node(NodeDef { name, expr, tuning }));
        }
        let first: EndpointRef = input.parse()?;
        let mut links: Vec<(Arrow, EndpointRef)> = Vec::new();
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
        for (_, to) in &links {
            if let EndpointRef::Port(node, port) = to {
                return Err(port_as_target(node, port));
            }
        }
        let last = links.last().map(|(_, to)| to.span());
        expect_semicolon(input, "to end the chain", last)?;
        Ok(Statement::Chain(Chain { first, links }))
    }
}

/// The error for `-> node.port`: a port is an output, so it only starts a link; items enter a node
/// by its one input.
fn port_as_target(node: &Ident, port: &Ident) -> syn::Error {
    syn::Error::new(
        port.span(),
        format!(
            "`{node}.{port}` is an output port of `{node}`, so it can only start a link: items enter `{node}` by its one input (write `... -> {node};` and `{node}.{port} -> ...;`)"
        ),
    )
}

/// Parses `option (',' option)*` after `@` into `tuning`; returns the span of the last token.
fn parse_options(input: ParseStream, tuning: &mut Tuning) -> syn::Result<Span> {
    loop {
        let option: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `par(n)`, `batch(n)` or `capacity(n)` after `@`",
            )
        })?;
        let args;
        let parens = syn::parenthesized!(args in input);
        let count = |args: ParseStream| -> syn::Result<usize> {
            let expected = |span| {
                syn::Error::new(
                    span,
                    "expected a whole number literal (the setting is fixed at compile time)",
                )
            };
            let n: syn::LitInt = args.parse().map_err(|e| expected(e.span()))?;
            n.base10_parse::<usize>().map_err(|_| expected(n.span()))
        };
        let duplicate = || syn::Error::new(option.span(), format!("`{option}` is given twice"));
        match option.to_string().as_str() {
            "par" => {
                if tuning.parallelism.is_some() {
                    return Err(duplicate());
                }
                tuning.parallelism = Some(count(&args)?);
                tuning.par_span = Some(option.span());
                if args.peek(Token![,]) {
                    args.parse::<Token![,]>()?;
                    let word: Ident = args.parse()?;
                    if word != "unordered" {
                        return Err(syn::Error::new(
                            word.span(),
                            "expected `unordered` (outputs in completion order) after the degree",
                        ));
                    }
                    tuning.unordered = true;
                }
            }
            "batch" | "capacity" => {
                let slot = if option == "batch" {
                    &mut tuning.batch_size
                } else {
                    &mut tuning.capacity
                };
                if slot.is_some() {
                    return Err(duplicate());
                }
                *slot = Some(count(&args)?);
            }
            _ => {
                return Err(syn::Error::new(
                    option.span(),
                    format!(
                        "unknown option `{option}`: expected `par(n)`, `batch(n)` or `capacity(n)`"
                    ),
                ))
            }
        }
        if !args.is_empty() {
            return Err(args.error("unexpected tokens in the option"));
        }
        if !input.peek(Token![,]) {
            return Ok(parens.span.close());
        }
        input.parse::<Token![,]>()?;
    }
}

/// Parses the `;` ending a statement. What is found instead decides where the error points:
/// punctuation is most likely a mistyped arrow (`~>`, `>`), so it is underlined; anything else (the
/// next statement, the end of the macro) means the `;` was forgotten, so the error points at the
/// statement's last token, `last`, where the `;` belongs.
fn expect_semicolon(input: ParseStream, context: &str, last: Option<Span>) -> syn::Result<()> {
    if input.peek(Token![;]) {
        input.parse::<Token![;]>()?;
        return Ok(());
    }
    if let Some((punct, _)) = input.cursor().punct() {
        return Err(syn::Error::new(
            punct.span(),
            format!("expected `->`, `=>` or `;`, found `{}` (arrows are `->` for fused and `=>` for a stage boundary)", punct.as_char()),
        ));
    }
    let found = match input.cursor().token_tree() {
        Some((tree, _)) => format!("found `{tree}`"),
        None => "found the end of the pipeline".to_string(),
    };
    // Not `input.error`: at the end of the input syn prefixes "unexpected end of input".
    let span = last.unwrap_or_else(|| input.span());
    Err(syn::Error::new(
        span,
        format!("expected `;` {context}, {found}"),
    ))
}

impl Parse for EndpointRef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(Ident) {
            return Err(input.error("expected a node name, `input` or `output`"));
        }
        let ident: Ident = input.parse()?;
        if ident == "input" {
            if input.peek(Token![.]) {
                let dot = input.parse::<Token![.]>()?;
                return Err(syn::Error::new(
                    dot.span,
                    "the pipeline input has one output and no ports: connect `input -> ...`",
                ));
            }
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
            // Any identifier, keywords too: `Partition`'s ports are `true` and `false`.
            let port = Ident::parse_any(input).map_err(|_| {
                syn::Error::new(
                    dot.span,
                    format!("expected an output port name after `{ident}.` (e.g. `{ident}.even -> ...`)"),
                )
            })?;
            return Ok(EndpointRef::Port(ident, port));
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
    fn ports_start_links_and_may_be_keywords() {
        let def = parse(quote! {
            input -> split;
            split.true -> evens -> output;
            split.odd => odds;
        })
        .unwrap();
        let ports: Vec<String> = def
            .statements
            .iter()
            .filter_map(|s| match s {
                Statement::Chain(Chain {
                    first: EndpointRef::Port(node, port),
                    ..
                }) => Some(format!("{node}.{port}")),
                _ => None,
            })
            .collect();
        assert_eq!(ports, ["split.true", "split.odd"]);
    }

    #[test]
    fn a_port_is_never_a_target() {
        let msg = |t| parse(t).err().unwrap().to_string();
        let expected = "`a.left` is an output port of `a`, so it can only start a link: items enter `a` by its one input (write `... -> a;` and `a.left -> ...;`)";
        assert_eq!(msg(quote! { input -> a.left; }), expected);
        assert_eq!(msg(quote! { input -> a.left -> output; }), expected);
        assert_eq!(
            msg(quote! { input.x -> a -> output; }),
            "the pipeline input has one output and no ports: connect `input -> ...`"
        );
        assert_eq!(
            msg(quote! { input -> a. -> output; }),
            "expected an output port name after `a.` (e.g. `a.even -> ...`)"
        );
    }

    #[test]
    fn options_follow_the_node_expression() {
        let def = parse(quote! {
            heavy = Map::new(|x: i64| x) @ par(4, unordered), batch(256), capacity(2);
            light = PassThrough::new() @ par(2);
            input => heavy -> light -> output;
        })
        .unwrap();
        let Statement::Node(heavy) = &def.statements[0] else {
            panic!("a node first")
        };
        assert_eq!(heavy.tuning.parallelism, Some(4));
        assert!(heavy.tuning.unordered);
        assert_eq!(heavy.tuning.batch_size, Some(256));
        assert_eq!(heavy.tuning.capacity, Some(2));
        let Statement::Node(light) = &def.statements[1] else {
            panic!("a node second")
        };
        assert_eq!(light.tuning.parallelism, Some(2));
        assert!(!light.tuning.unordered && light.tuning.batch_size.is_none());
    }

    #[test]
    fn option_errors_name_the_option() {
        let msg = |t| parse(t).err().unwrap().to_string();
        assert_eq!(
            msg(quote! { a = X @ fast(2); }),
            "unknown option `fast`: expected `par(n)`, `batch(n)` or `capacity(n)`"
        );
        assert_eq!(
            msg(quote! { a = X @ par(2), par(3); }),
            "`par` is given twice"
        );
        assert_eq!(
            msg(quote! { a = X @ par(2, sorted); }),
            "expected `unordered` (outputs in completion order) after the degree"
        );
        for bad in [quote! { a = X @ par(-1); }, quote! { a = X @ batch(n); }] {
            assert_eq!(
                msg(bad),
                "expected a whole number literal (the setting is fixed at compile time)"
            );
        }
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
            "expected `;` to end the chain, found the end of the pipeline"
        );
        assert_eq!(
            msg(quote! { a = PassThrough::new() input -> a -> output; }),
            "expected `;` after the node expression, found `input`"
        );
        assert_eq!(
            msg(quote! { input -> a > output; }),
            "expected `->`, `=>` or `;`, found `>` (arrows are `->` for fused and `=>` for a stage boundary)"
        );
        assert_eq!(
            msg(quote! { a = ; }),
            "expected a node expression after `a =`"
        );
        assert!(msg(quote! {}).starts_with("empty pipeline"));
    }
}
