//! Tests of whole expansions: their size grows linearly with the graph, and one small expansion is
//! kept as a snapshot (`tests/snapshots/`) so a change to what users see in `cargo expand` and in
//! error messages quoting generated code shows up in review. Regenerate with `UPDATE_SNAPSHOTS=1`.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::{format_ident, quote};

/// The tokens `pipeline!` generates for `source`.
fn expand(source: TokenStream) -> TokenStream {
    let def = syn::parse2(source).expect("the test pipeline parses");
    let lowered = crate::lower::lower(def).expect("the test pipeline is valid");
    super::generate(&lowered).expect("codegen succeeds")
}

/// `k` fused diamonds stacked: `j0 -> l1 -> j1; j0 -> r1 -> j1; j1 -> l2 -> j2; ...` (issue #17).
fn stacked_diamonds(k: usize) -> TokenStream {
    let mut statements = vec![quote!(j0 = PassThrough::new();)];
    let mut chains = vec![quote!(input -> j0;)];
    for i in 1..=k {
        let (l, r, j, before) = (
            format_ident!("l{}", i),
            format_ident!("r{}", i),
            format_ident!("j{}", i),
            format_ident!("j{}", i - 1),
        );
        statements.push(quote! {
            #l = Map::new(|x: i64| x + 1);
            #r = PassThrough::new();
            #j = PassThrough::new();
        });
        chains.push(quote!(#before -> #l -> #j; #before -> #r -> #j;));
    }
    let last = format_ident!("j{}", k);
    quote!(#(#statements)* #(#chains)* #last -> output;)
}

fn count_tokens(tokens: TokenStream) -> usize {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => 2 + count_tokens(group.stream()),
            _ => 1,
        })
        .sum()
}

#[test]
fn expansion_grows_linearly_with_stacked_diamonds() {
    let sizes: Vec<usize> = [4, 8, 16]
        .iter()
        .map(|&k| count_tokens(expand(stacked_diamonds(k))))
        .collect();
    // Doubling the diamonds at most doubles the expansion (its fixed part makes the ratio a little
    // under 2: 26.5k, 50.6k, 98.8k tokens when written). The code before issue #17 inlined each
    // node once per path and grew 2^k (K=8: a 514 s release build); a per-node list of all
    // earlier nodes (quadratic) showed as 2.13.
    for pair in sizes.windows(2) {
        assert!(
            pair[1] * 100 < pair[0] * 205,
            "expansion sizes for 4, 8, 16 diamonds: {sizes:?} (doubling the graph must not more than double the code)"
        );
    }
}

/// Token text laid out one statement per line, indented by braces, so a diff of the snapshot
/// points at the statement that changed.
fn layout(tokens: TokenStream) -> String {
    fn has_brace(tokens: &TokenStream) -> bool {
        tokens.clone().into_iter().any(|tree| match tree {
            TokenTree::Group(g) => g.delimiter() == Delimiter::Brace || has_brace(&g.stream()),
            _ => false,
        })
    }
    fn flush(pending: &mut Vec<TokenTree>, depth: usize, out: &mut String) {
        if pending.is_empty() {
            return;
        }
        if out.ends_with('\n') {
            out.push_str(&"    ".repeat(depth));
        } else if !out.is_empty() && !out.ends_with(['(', '[', ' ']) {
            out.push(' ');
        }
        out.push_str(&pending.drain(..).collect::<TokenStream>().to_string());
    }
    fn walk(tokens: TokenStream, depth: usize, out: &mut String) {
        let mut pending = Vec::new();
        for tree in tokens {
            match tree {
                TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                    flush(&mut pending, depth, out);
                    if out.ends_with('\n') {
                        out.push_str(&"    ".repeat(depth));
                    } else if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str("{\n");
                    walk(group.stream(), depth + 1, out);
                    if !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(&"    ".repeat(depth));
                    out.push_str("}\n");
                }
                TokenTree::Group(group) if has_brace(&group.stream()) => {
                    let (open, close) = match group.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Bracket => ("[", "]"),
                        _ => ("", ""),
                    };
                    pending.push(TokenTree::Ident(proc_macro2::Ident::new(
                        "__open",
                        proc_macro2::Span::call_site(),
                    )));
                    flush(&mut pending, depth, out);
                    out.truncate(out.len() - "__open".len());
                    out.push_str(open);
                    walk(group.stream(), depth + 1, out);
                    if out.ends_with('\n') {
                        out.push_str(&"    ".repeat(depth));
                    }
                    out.push_str(close);
                }
                TokenTree::Punct(p) if p.as_char() == ';' => {
                    flush(&mut pending, depth, out);
                    out.push_str(";\n");
                }
                other => pending.push(other),
            }
        }
        flush(&mut pending, depth, out);
    }
    let mut out = String::new();
    walk(tokens, 0, &mut out);
    out
}

#[test]
fn small_expansion_matches_its_snapshot() {
    let expansion = expand(quote! {
        double = Map::new(|x: i64| x * 2);
        half = Map::new(|x: i64| x / 2);
        join = PassThrough::new();
        input -> double -> join -> output;
        input -> half -> join;
    });
    let text = matches_snapshot(expansion, "small_fan_in.expanded.txt");
    for name in [
        "node_double",
        "deliver_join",
        "Edge_double_to_join",
        "FanOut_input",
    ] {
        assert!(
            text.contains(name),
            "generated names follow node ids: {name}"
        );
    }
}

/// `expansion` laid out, checked against `tests/snapshots/{file}` (written with
/// `UPDATE_SNAPSHOTS=1`).
fn matches_snapshot(expansion: TokenStream, file: &str) -> String {
    let text = layout(expansion);
    let path = format!("{}/tests/snapshots/{file}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &text).expect("write the snapshot");
        return text;
    }
    let expected =
        std::fs::read_to_string(&path).expect("the snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert!(
        text == expected,
        "the expansion changed; review it and rerun with UPDATE_SNAPSHOTS=1 to accept:\n{text}"
    );
    text
}

#[test]
fn port_expansion_matches_its_snapshot() {
    let expansion = expand(quote! {
        split = Partition::new(|x: &i64| x % 2 == 0);
        halve = Map::new(|x: i64| x / 2);
        input -> split;
        split.true -> halve -> output.evens;
        split.true -> output.all_evens;
        split.false => odds;
        odds = PassThrough::new();
        odds -> output.odds;
    });
    let text = matches_snapshot(expansion, "small_ports.expanded.txt");
    for name in [
        "Edge_split_true_to_halve",
        "Edge_split_false_to_odds",
        "FanOut_split_true",
        "Ports_split",
        "port_true",
        "port_false",
    ] {
        assert!(
            text.contains(name),
            "generated names follow node and port names: {name}"
        );
    }
}

/// `k` partitions stacked, each port of one feeding the next: `s0.true -> s1; s0.false -> m1 -> s1;
/// s1.true -> s2; ...`.
fn stacked_partitions(k: usize) -> TokenStream {
    let mut statements = vec![quote!(s0 = Partition::new(|x: &i64| x % 2 == 0);)];
    let mut chains = vec![quote!(input -> s0;)];
    for i in 1..=k {
        let (s, m, before) = (
            format_ident!("s{}", i),
            format_ident!("m{}", i),
            format_ident!("s{}", i - 1),
        );
        statements.push(quote! {
            #s = Partition::new(|x: &i64| x % 2 == 0);
            #m = Map::new(|x: i64| x + 1);
        });
        chains.push(quote!(#before.true -> #s; #before.false -> #m -> #s;));
    }
    let last = format_ident!("s{}", k);
    quote!(#(#statements)* #(#chains)* #last.true -> output;)
}

#[test]
fn expansion_with_ports_grows_linearly() {
    let sizes: Vec<usize> = [4, 8, 16]
        .iter()
        .map(|&k| count_tokens(expand(stacked_partitions(k))))
        .collect();
    for pair in sizes.windows(2) {
        assert!(
            pair[1] * 100 < pair[0] * 205,
            "expansion sizes for 4, 8, 16 stacked partitions: {sizes:?} (doubling the graph must not more than double the code)"
        );
    }
}

/// A delivery closure that two other closures call is bound as `&dyn Fn`: were both to capture its
/// concrete type, the borrow checker would walk it once per path (see `stage::closure`).
#[test]
fn closures_called_by_several_closures_are_bound_as_dyn() {
    let text = expand(quote! {
        a = Map::new(|x: i64| x + 1);
        b = Map::new(|x: i64| x * 10);
        j1 = PassThrough::new();
        j2 = PassThrough::new();
        k = PassThrough::new();
        input -> a; input -> b;
        a -> j1; a -> j2; b -> j1; b -> j2;
        j1 -> k; j2 -> k;
        k -> output;
    })
    .to_string();
    // `k` is called from the closures of `j1` and `j2`: shared on the item path and at finish.
    assert_eq!(text.matches("let deliver_k : & dyn").count(), 3, "{text}");
    // `j1` is called from the inline code of the entry region on the item path, and from the
    // finish code of `a` and `b` (parents of the input only, so not closures): no closure calls it.
    assert_eq!(text.matches("let deliver_j1 = |").count(), 3, "{text}");
    assert_eq!(text.matches("let deliver_j1 : & dyn").count(), 0, "{text}");
}

/// How many times `ident` appears in `tokens`.
fn count_ident(tokens: TokenStream, ident: &str) -> usize {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => count_ident(group.stream(), ident),
            TokenTree::Ident(found) if found == ident => 1,
            _ => 0,
        })
        .sum()
}

#[test]
fn only_stages_that_are_one_line_to_the_output_try_pure_functions() {
    let pure_lines = |source: TokenStream| count_ident(expand(source), "run_pure_line");
    let line = quote! {
        a = PassThrough::new(); b = Calculator::add(1_i64);
        input -> a -> b -> output;
    };
    assert_eq!(pure_lines(line), 1);
    // Stage 0 ends at a boundary; stage 1 is a line.
    let staged = quote! {
        a = PassThrough::new(); b = Calculator::add(1_i64); c = PassThrough::new();
        input -> a => b -> c -> output;
    };
    assert_eq!(pure_lines(staged), 1);
    let fan_out = quote! {
        a = PassThrough::new(); b = PassThrough::new(); c = PassThrough::new();
        input -> a -> b -> output; a -> c -> output;
    };
    assert_eq!(pure_lines(fan_out), 0);
    let two_outputs = quote! {
        a = PassThrough::new(); b = PassThrough::new();
        input -> a -> output.first; input -> b -> output.second;
    };
    assert_eq!(pure_lines(two_outputs), 0);
    let parallel = quote! {
        a = Calculator::add(1_i64) @ par(2);
        input -> a -> output;
    };
    assert_eq!(pure_lines(parallel), 0);
}
