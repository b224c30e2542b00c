//! `pipeline!(manifest = "path.json", ..)`: the file is read at compile time, parsed, lowered and
//! validated by `pipeline_core::manifest` (the run-time loader's own code, so the same rules and
//! the same messages), then handed to the ordinary code generator: the same statically dispatched
//! code a hand-written `pipeline!` gets.
//!
//! The expansion is `Result<Pipeline<..>, pipeline::Error>`: built-in params are checked here, but a
//! mapped user type's params can only be deserialised when the pipeline is built (the macro cannot
//! run the user's serde), and the run-time loader is fallible too, so both read the same. It also
//! holds `include_str!` of the file, so editing the JSON rebuilds the crate.

use crate::ast::{NodeDef, PipelineDef, Statement};
use crate::codegen;
use crate::diagnostics::to_compile_errors;
use crate::lower::Lowered;
use crate::manifest_catalog::MacroCatalog;
use crate::manifest_errors::{self, render};
use crate::manifest_input::ManifestInput;
use crate::manifest_nodes::{export_entry, node_expr, ItemType, NodeSource};
use pipeline_core::graph::{EdgeDecl, Graph, ValidGraph};
use pipeline_core::manifest::{self, Location, LoweredGraph, Problem, ProblemKind};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use std::path::PathBuf;

/// The whole expansion; errors become `compile_error!`s on the path literal.
pub fn expand(input: ManifestInput) -> TokenStream {
    let span = input.path.span();
    let file = input.path.value();
    let full = match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => PathBuf::from(dir).join(&file),
        None => PathBuf::from(&file),
    };
    let text = match std::fs::read_to_string(&full) {
        Ok(text) => text,
        Err(err) => {
            return to_compile_errors(syn::Error::new(
                span,
                format!(
                    "cannot read manifest `{file}`: {err}\n  = note: the path is relative to the crate's directory (CARGO_MANIFEST_DIR)"
                ),
            ))
        }
    };
    let full = full.to_string_lossy().into_owned();
    let track = quote!(
        const _: &str = ::core::include_str!(#full);
    );
    match generate(&input, &file, &text, span) {
        Ok(pipeline) => quote!({
            #track
            #pipeline
        }),
        Err(err) => {
            let errors = to_compile_errors(err);
            quote!({
                #track
                #errors
            })
        }
    }
}

fn generate(input: &ManifestInput, file: &str, text: &str, span: Span) -> syn::Result<TokenStream> {
    let item = ItemType::from_option(input.item.as_ref())?;
    let catalog = MacroCatalog {
        mappings: &input.nodes,
    };
    let lowered = manifest::parse(file, text)
        .and_then(|parsed| manifest::lower_with(parsed, &catalog))
        .map_err(|err| manifest_errors::to_syn_error(&err, span))?;
    check_output_names(&lowered, span)?;

    let fail = syn::Lifetime::new("'__pipeline_build", Span::mixed_site());
    let mut statements = Vec::new();
    let mut export_overrides = Vec::new();
    let specs = &lowered.parsed.manifest.nodes;
    for (i, (spec, compiled)) in specs.iter().zip(&lowered.nodes).enumerate() {
        let source = NodeSource {
            id: &spec.id,
            node_type: &spec.node_type,
            params: &spec.params,
            compiled,
        };
        let expr = node_expr(&source, &item, &input.nodes, &fail, span).map_err(|e| {
            let at = lowered.parsed.map.locate(&format!("/nodes/{i}{}", e.field));
            let problem = Problem::error(ProblemKind::Note(e.message), None, at);
            syn::Error::new(span, render(&problem, file, text))
        })?;
        statements.push(Statement::Node(NodeDef {
            name: format_ident!("node{}", i, span = span),
            expr: syn::parse2(expr)?,
            // Tuning comes from the manifest's fields, carried by the graph below.
            tuning: Default::default(),
        }));
        export_overrides.push(Some(export_entry(&source)));
    }
    let def = PipelineDef { statements };
    let spanned = respan_graph(&lowered.graph, span)?;
    let lowered_macro = Lowered {
        plan: spanned.plan().map_err(crate::diagnostics::to_syn_error)?,
        graph: spanned,
        node_statement: (0..specs.len()).collect(),
    };
    let pipeline = codegen::generate_with_export(&def, &lowered_macro, export_overrides)?;
    let item = item.tokens();
    Ok(quote!({
        /// The pipeline's input is the item type, even before a first `run` says so.
        fn __pipeline_input_is_item<H, C>(
            pipeline: ::pipeline::runtime::Pipeline<H, C>,
        ) -> ::pipeline::runtime::Pipeline<H, C>
        where
            H: ::pipeline::runtime::Stage<Input = #item>,
        {
            pipeline
        }
        #[allow(unused_labels)]
        let __pipeline_result = #fail: {
            let __pipeline = __pipeline_input_is_item(#pipeline);
            ::core::result::Result::Ok::<_, ::pipeline::Error>(__pipeline)
        };
        __pipeline_result
    }))
}

/// The validated graph again, located at the literal: the code generator's input. Node
/// declarations keep what the manifest gave them (port types, parallelism).
fn respan_graph(graph: &ValidGraph<Location>, span: Span) -> syn::Result<ValidGraph<Span>> {
    let mut spanned = Graph::new(span);
    for node in &graph.graph.nodes {
        spanned.add_node(node.id.clone(), node.type_name.clone(), span);
        let decl = spanned.nodes.last_mut().expect("just added");
        decl.parallelism = node.parallelism;
        decl.ordered = node.ordered;
        decl.batch_size = node.batch_size;
        decl.capacity = node.capacity;
        decl.accepts = node.accepts;
        decl.emits = node.emits;
    }
    for edge in &graph.graph.edges {
        spanned.edges.push(EdgeDecl {
            from: edge.from.clone(),
            to: edge.to.clone(),
            kind: edge.kind,
            from_loc: span,
            to_loc: span,
            loc: span,
        });
    }
    spanned.validate().map_err(crate::diagnostics::to_syn_error)
}

/// Several outputs become fields of a struct, so their names must be Rust identifiers.
fn check_output_names<N>(lowered: &LoweredGraph<N>, span: Span) -> syn::Result<()> {
    let outputs = &lowered.graph.outputs;
    if outputs.len() < 2 {
        return Ok(());
    }
    for name in outputs {
        if syn::parse_str::<Ident>(name).is_err() {
            return Err(syn::Error::new(
                span,
                format!("output `{name}` is not a Rust identifier; a compiled manifest with several outputs returns a struct with one field per output (rename the node, or write `\"to\": \"output.<name>\"`)"),
            ));
        }
    }
    Ok(())
}
