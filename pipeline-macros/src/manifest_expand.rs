//! `pipeline!(manifest = "path.json", ..)`: the file is read at compile time, parsed, lowered,
//! validated and planned once by `pipeline_core::manifest` (the run-time loader's own code, so the
//! same rules and the same messages), then the checked graph, located at the path literal, and each
//! node's expression go to the ordinary code generator: the same statically dispatched code a
//! hand-written `pipeline!` gets.
//!
//! The expansion is `Result<Pipeline<..>, pipeline::Error>`: built-in params are checked here, but a
//! mapped user type's params can only be deserialised when the pipeline is built (the macro cannot
//! run the user's serde), and the run-time loader is fallible too, so both read the same. It also
//! holds `include_str!` of the file, so editing the JSON rebuilds the crate.
//!
//! `python` nodes go through the loader's own steps too: their `file` is read relative to the
//! manifest's folder (`manifest::read_python_files`: a missing file is an error at the param) and
//! their params checked by `PythonParams::check`. The generated node embeds the file with
//! `include_str!` (editing the `.py` rebuilds the crate too), and export writes the entry as the
//! file had it (`file`, not the code read from it).

use crate::codegen;
use crate::diagnostics::to_compile_errors;
use crate::lower::{Lowered, NodePayload};
use crate::manifest_catalog::{CompiledNode, MacroCatalog};
use crate::manifest_errors::{self, render};
use crate::manifest_input::{ManifestInput, NodeMapping};
use crate::manifest_nodes::{export_entry, node_expr, ItemType, NodeSource, PythonOrigin};
use pipeline_core::graph::Vertex;
use pipeline_core::manifest::{
    self, JsonPlace, LoweredGraph, ManifestError, ParsedManifest, Problem, ProblemKind,
};
use pipeline_core::python_params::PYTHON_NODE_TYPE;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    // `include_str!` resolves relative paths against the invoking source file: make them absolute.
    let full = std::path::absolute(&full).unwrap_or(full);
    let base_dir = full.parent().map(PathBuf::from).unwrap_or_default();
    let full = full.to_string_lossy().into_owned();
    let track = quote!(
        const _: &str = ::core::include_str!(#full);
    );
    match generate(&input, &file, &text, &base_dir, span) {
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

fn generate(
    input: &ManifestInput,
    file: &str,
    text: &str,
    base_dir: &Path,
    span: Span,
) -> syn::Result<TokenStream> {
    let item = ItemType::from_option(input.item.as_ref())?;
    let catalog = MacroCatalog {
        mappings: &input.nodes,
    };
    let to_syn = |err: ManifestError| manifest_errors::to_syn_error(&err, span);
    let mut parsed = manifest::parse(file, text).map_err(to_syn)?;
    // As written, for export; and where each python node's `file` is, for `include_str!`.
    let written: Vec<_> = parsed
        .manifest
        .nodes
        .iter()
        .map(|n| n.params.clone())
        .collect();
    let python_files = python_files(&parsed, &input.nodes, base_dir);
    if !python_files.is_empty() {
        // The run-time loader's own step: `file` read into `code` (relative to the manifest's
        // folder), a missing file an error at the param.
        manifest::read_python_files(
            &mut parsed,
            base_dir,
            manifest::DEFAULT_MAX_PYTHON_FILE_BYTES,
        )
        .map_err(to_syn)?;
    }
    let lowered = manifest::lower_with(parsed, &catalog).map_err(to_syn)?;
    check_output_names(&lowered, file, text, span)?;

    let LoweredGraph {
        parsed,
        graph,
        plan,
    } = lowered;

    let fail = syn::Lifetime::new("'__pipeline_build", Span::mixed_site());
    let specs = &parsed.manifest.nodes;
    // Node `i` is manifest node `i`: its payload, what the catalog compiled it to, becomes its
    // expression and its entry as written.
    let payload = |i: usize, compiled: CompiledNode| -> syn::Result<NodePayload> {
        let (spec, compiled) = (&specs[i], &compiled);
        let located = |field: &str, message: String| {
            let at = parsed.map.locate(&format!("/nodes/{i}{field}"));
            render(
                &Problem::error(ProblemKind::Note(message), None, at),
                file,
                text,
            )
        };
        let python = matches!(compiled, CompiledNode::Python(_)).then(|| PythonOrigin {
            file: python_files.get(&i).map(|p| p.to_string_lossy().into_owned()),
            without_feature: located(
                "/node_type",
                format!(
                    "node `{}`: a `python` node needs the `python` feature of the `pipeline` crate (RustPython); enable it (`pipeline = {{ features = [\"python\"] }}`, on by default), or remove the node",
                    spec.id
                ),
            ),
        });
        let source = NodeSource {
            id: &spec.id,
            node_type: &spec.node_type,
            params: &written[i],
            compiled,
            python,
        };
        let expr = node_expr(&source, &item, &input.nodes, &fail, span)
            .map_err(|e| syn::Error::new(span, located(&e.field, e.message)))?;
        Ok(NodePayload {
            expr: syn::parse2(expr)?,
            export: Some(export_entry(&source)),
            port_spans: Vec::new(),
            par_span: None,
        })
    };
    // The graph as validated and planned above (errors located in the file), located at the
    // literal and carrying each node's payload: not validated a second time.
    let lowered = Lowered {
        graph: graph.map_locations(|_| span).try_map_payloads(payload)?,
        plan,
    };
    let pipeline = codegen::generate(&lowered)?;
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

/// The absolute path of each `python` node's `file` (by node index), resolved against the
/// manifest's folder as the run-time loader resolves it. A `file` next to `code` is left for the
/// param check to refuse; a mapping named `python` gets its params as written.
fn python_files(
    parsed: &ParsedManifest,
    mappings: &[NodeMapping],
    base_dir: &Path,
) -> HashMap<usize, PathBuf> {
    if mappings.iter().any(|m| m.name == PYTHON_NODE_TYPE) {
        return HashMap::new();
    }
    let nodes = parsed.manifest.nodes.iter().enumerate();
    nodes
        .filter(|(_, n)| &*n.node_type == PYTHON_NODE_TYPE && !n.params.contains_key("code"))
        .filter_map(|(i, n)| match n.params.get("file") {
            Some(serde_json::Value::String(f)) => Some((i, base_dir.join(f))),
            _ => None,
        })
        .collect()
}

/// Several outputs become fields of a struct, so their names must be Rust identifiers; a name that
/// is not one is an error at the place in the JSON that names the output: the `to` of its first
/// connection, or for an automatic output (a node with no outgoing connection) the node's `id`.
fn check_output_names<N>(
    lowered: &LoweredGraph<N>,
    file: &str,
    text: &str,
    span: Span,
) -> syn::Result<()> {
    let graph = &lowered.graph;
    if graph.outputs.len() < 2 {
        return Ok(());
    }
    let mut errors: Option<syn::Error> = None;
    for (o, name) in graph.outputs.iter().enumerate() {
        if syn::parse_str::<Ident>(name).is_ok() {
            continue;
        }
        let first = graph
            .in_edges(Vertex::Output(o))
            .next()
            .expect("an output exists because an edge leads to it");
        let (pointer, help) = match graph.graph.edges[first.decl].to_loc {
            JsonPlace::Node(i) => (
                format!("/nodes/{i}/id"),
                "rename the node, or connect it to an output named by an identifier (`\"to\": \"output.<name>\"`)",
            ),
            other => (
                other.pointer(),
                "name the output with a Rust identifier (`\"to\": \"output.<name>\"`)",
            ),
        };
        let mut problem = Problem::error(
            ProblemKind::Note(format!(
                "output `{name}` is not a Rust identifier: a compiled manifest with several outputs returns a struct with one field per output"
            )),
            None,
            lowered.parsed.map.locate(&pointer),
        );
        problem.help = Some(help.to_string());
        let error = syn::Error::new(span, render(&problem, file, text));
        match &mut errors {
            Some(all) => all.combine(error),
            None => errors = Some(error),
        }
    }
    errors.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest with one `python` node of the given params, compiled against `base_dir`.
    fn compile(params: &str, base_dir: &Path) -> Result<String, String> {
        let text = format!(
            "{{\"version\": \"v1\", \"metadata\": {{\"name\": \"m\"}},\n \"nodes\": [\n  {{\"id\": \"scale\", \"node_type\": \"python\", \"params\": {params}}}\n ],\n \"connections\": []}}"
        );
        let input: ManifestInput = syn::parse2(quote!(manifest = "m.json")).unwrap();
        generate(&input, "m.json", &text, base_dir, Span::call_site())
            .map(|t| t.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_checked_graph_keeps_what_the_manifest_gave_its_nodes() {
        let text = r#"{"version": "v1", "metadata": {"name": "m"},
 "nodes": [
  {"id": "double", "node_type": "Calculator", "params": {"operation": "multiply", "operand": 2},
   "parallelism": 3, "batch_size": 16},
  {"id": "total", "node_type": "Sum", "stage": true, "channel_capacity": 5}
 ],
 "connections": [{"from": "double", "to": "total"}]}"#;
        let input: ManifestInput = syn::parse2(quote!(manifest = "m.json")).unwrap();
        let tokens = generate(&input, "m.json", text, Path::new("."), Span::call_site())
            .map_err(|e| e.to_string())
            .unwrap()
            .to_string();
        let unspaced: String = tokens.split_whitespace().collect();
        // The node, checked for `par` (Clone, Send) and wrapped in `Parallel` by 3, in batches of 16.
        let node = "let__par_node=::pipeline::builtins::Calculator::<::pipeline::Value,::pipeline::builtins::ops::Multiply>::multiply(::pipeline::Value::Int(2i64));";
        let parallel =
            "<_asPar_double_send<_>>::parallel(__par_replicable,0,3usize)}.batch_size(16usize)";
        assert!(unspaced.contains(node), "{tokens}");
        assert!(unspaced.contains(parallel), "{tokens}");
        assert!(unspaced.contains("capacity:5usize"), "{tokens}");
        // `"stage": true` makes a channel into the second stage.
        assert!(unspaced.contains("stage_channel"), "{tokens}");
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pipeline-macros-{}-{name}", std::process::id()));
        std::fs::create_dir_all(dir.join("nodes")).unwrap();
        dir
    }

    #[test]
    fn a_python_file_is_embedded_by_its_absolute_path() {
        let dir = temp_dir("embed");
        std::fs::write(dir.join("nodes/scale.py"), "class Scale:\n    pass\n").unwrap();
        let tokens = compile(
            r#"{"file": "nodes/scale.py", "class": "Scale", "args": {"factor": 3}}"#,
            &dir,
        )
        .unwrap();
        let path = dir.join("nodes/scale.py").to_string_lossy().into_owned();
        let value = quote!(::pipeline::Value);
        let embedded = quote!(::pipeline::python::Python::<#value, #value>::class(::core::include_str!(#path), "Scale"));
        assert!(tokens.contains(&embedded.to_string()), "{tokens}");
        assert!(
            tokens.contains(&quote!(.with_filename("nodes/scale.py")).to_string()),
            "{tokens}"
        );
        // Export writes the entry as the file had it: `file`, not the code read from it.
        let written = r#"{"args":{"factor":3},"class":"Scale","file":"nodes/scale.py"}"#;
        let export = quote!(::pipeline::manifest::manifest_node_from_json("python", #written));
        assert!(tokens.contains(&export.to_string()), "{tokens}");
        // The message of a build without the `python` feature names the node and its place.
        assert!(
            tokens.contains(
                "node `scale`: a `python` node needs the `python` feature of the `pipeline` crate"
            ),
            "{tokens}"
        );
        assert!(
            tokens.contains("--> m.json:3:32 at /nodes/0/node_type"),
            "{tokens}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_python_file_is_an_error_at_the_param() {
        let dir = temp_dir("missing");
        let err = compile(r#"{"file": "nodes/missing.py", "class": "Scale"}"#, &dir).unwrap_err();
        assert!(
            err.starts_with("node `scale`: invalid params for `python`: param `file`: cannot read `nodes/missing.py`"),
            "{err}"
        );
        assert!(
            err.contains("--> m.json:3:61 at /nodes/0/params/file"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_python_params_are_errors_at_their_place() {
        let dir = temp_dir("bad");
        let err = compile(
            r#"{"code": "def f(x):\n    return x\n", "function": "f", "args": {"n": 1}}"#,
            &dir,
        )
        .unwrap_err();
        assert!(
            err.starts_with("node `scale`: invalid params for `python`: param `args`: `args` are constructor arguments: a `function` node takes none"),
            "{err}"
        );
        assert!(err.contains("at /nodes/0/params/args"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_partition_compiles_to_the_typed_node_and_its_ports_to_accessors() {
        let text = r#"{"version": "v1", "metadata": {"name": "m"},
 "nodes": [{"id": "split", "node_type": "Partition", "params": {"op": "ge", "value": 50, "field": "score"},
            "parallelism": 2}],
 "connections": [{"from": "input", "to": "split"}, {"from": "split.true", "to": "output.high"},
                 {"from": "split.false", "to": "output.low"}]}"#;
        let input: ManifestInput = syn::parse2(quote!(manifest = "m.json")).unwrap();
        let tokens = generate(&input, "m.json", text, Path::new("."), Span::call_site())
            .map_err(|e| e.to_string())
            .unwrap()
            .to_string();
        let unspaced: String = tokens.split_whitespace().collect();
        let node = "::pipeline::builtins::Partition::<_,::pipeline::Value>::new(::pipeline::builtin_specs::ValueTest::new(::pipeline::builtin_specs::CompareOp::Ge,::core::option::Option::Some(::pipeline::Value::Int(50i64)),::core::option::Option::Some(\"score\")).predicate())";
        assert!(unspaced.contains(node), "{tokens}");
        // The manifest's ports are the macro's: the typed output's accessors.
        assert!(unspaced.contains(".port_true()"), "{tokens}");
        assert!(unspaced.contains(".port_false()"), "{tokens}");
        // Its predicate is a cloneable closure: the node replicates for `parallelism`.
        let parallel = "<_asPar_split_send<_>>::parallel(__par_replicable,0,2usize)";
        assert!(unspaced.contains(parallel), "{tokens}");
    }

    #[test]
    fn a_route_compiles_to_the_typed_node_with_a_port_type_named_after_it() {
        let text = r#"{"version": "v1", "metadata": {"name": "m"},
 "nodes": [{"id": "demux", "node_type": "Route", "params": {"field": "kind", "ports": ["a", "b"]}}],
 "connections": [{"from": "input", "to": "demux"}, {"from": "demux.b", "to": "output.b"},
                 {"from": "demux.other", "to": "output.rest"}]}"#;
        let input: ManifestInput = syn::parse2(quote!(manifest = "m.json")).unwrap();
        let tokens = generate(&input, "m.json", text, Path::new("."), Span::call_site())
            .map_err(|e| e.to_string())
            .unwrap()
            .to_string();
        let unspaced: String = tokens.split_whitespace().collect();
        let node = "::pipeline::builtins::Route::by_field(\"kind\",[\"a\",\"b\"]).with_ports::<Ports_demux>()";
        assert!(unspaced.contains(node), "{tokens}");
        assert!(
            unspaced.contains("constNAMES:&'static[&'staticstr]=&[\"a\",\"b\",\"other\"]"),
            "{tokens}"
        );
        // An accessor per port, the connected ones called by the delivery code.
        for accessor in ["fnport_a(self)", "fnport_b(self)", "fnport_other(self)"] {
            assert!(unspaced.contains(accessor), "{accessor}: {tokens}");
        }
        assert!(unspaced.contains(".port_b()"), "{tokens}");
        assert!(unspaced.contains(".port_other()"), "{tokens}");
    }

    #[test]
    fn a_route_over_numbers_is_refused_at_its_type() {
        let text = r#"{"version": "v1", "metadata": {"name": "m"},
 "nodes": [{"id": "demux", "node_type": "Route", "params": {"by": "type"}}],
 "connections": [{"from": "input", "to": "demux"}, {"from": "demux.int", "to": "output"}]}"#;
        let input: ManifestInput = syn::parse2(quote!(manifest = "m.json", item = i64)).unwrap();
        let err = generate(&input, "m.json", text, Path::new("."), Span::call_site())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("node `demux`: `Route` sends `pipeline::Value` items"),
            "{err}"
        );
        assert!(err.contains("at /nodes/0/node_type"), "{err}");
    }

    #[test]
    fn a_misspelt_port_is_the_graphs_error_at_its_place() {
        let text = r#"{"version": "v1", "metadata": {"name": "m"},
 "nodes": [{"id": "split", "node_type": "Partition", "params": {"op": "even"}}],
 "connections": [{"from": "input", "to": "split"}, {"from": "split.tru", "to": "output"}]}"#;
        let input: ManifestInput = syn::parse2(quote!(manifest = "m.json")).unwrap();
        let err = generate(&input, "m.json", text, Path::new("."), Span::call_site())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`split` has no output port `tru` (did you mean `split.true`?)"),
            "{err}"
        );
        assert!(err.contains("--> m.json:3:"), "{err}");
    }
}
