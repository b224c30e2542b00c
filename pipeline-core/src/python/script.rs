//! Pipelines described by Python scripts: the script runs once in a sandboxed interpreter and
//! builds its graph with the `pipeline` module; the result is a [`Manifest`], loaded by the normal
//! manifest loader, so a script's graph is validated, planned and run exactly like a JSON file's
//! (built-in nodes run as native Rust nodes; only classes and functions of the script run in the
//! VM).
//!
//! A Python node of a script carries the whole script as its `code` (with `class` or `function`
//! naming the entry), so tracebacks show the script's own line numbers. The script's module level
//! therefore runs again, in each Python node's namespace, when the node starts; there `__name__` is
//! the node id, not `"__main__"`, so building code under `if __name__ == "__main__":` or in
//! `main()` runs only when the pipeline is described.

use super::convert::from_py;
use super::errors::{self, Source};
use super::interpreter::Runtime;
use super::log::NODE_GLOBAL;
use super::pipeline_module;
use crate::dynamic::Registry;
use crate::error::{Error, ErrorKind, Result};
use crate::manifest::{
    self, Location, LoweredManifest, Manifest, ManifestError, Metadata, Version,
};
use crate::value::Value;
use rustpython_vm::compiler::Mode;
use rustpython_vm::PyResult;
use std::sync::Arc;

/// A pipeline a Python script describes: its manifest, and the script lines each node and
/// connection came from (to locate problems in the script).
///
/// ```
/// use pipeline_core::dynamic::{build, BuildOptions, Registry};
/// use pipeline_core::prelude::*;
/// use pipeline_core::python::describe_script;
///
/// let script = r#"
/// import pipeline
///
/// def double(x):
///     return 2 * x
///
/// add = pipeline.node("CalculatorNode", operation="add", operand=1)
/// add >> pipeline.node(double)
/// "#;
/// let described = describe_script("double.py", script)?;
/// assert_eq!(&*described.manifest.nodes[0].node_type, "CalculatorNode");
/// assert_eq!(&*described.manifest.nodes[1].node_type, "python");
/// let mut registry = Registry::with_builtins();
/// pipeline_core::python::register_python(&mut registry);
/// let lowered = described.load(&registry).unwrap();
/// let out = build(lowered, BuildOptions::default()).run([Value::Int(1)])?;
/// assert_eq!(out[0].value, Value::Int(4));
/// # Ok::<(), pipeline_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScriptPipeline {
    /// The script's file name as given.
    pub file: String,
    /// The script.
    pub source: Arc<str>,
    /// The pipeline, as a manifest (Python nodes embed the script as `code`).
    pub manifest: Manifest,
    node_lines: Vec<usize>,
    connection_lines: Vec<usize>,
}

/// What `_describe` returns.
#[derive(serde::Deserialize)]
struct Described {
    name: Option<String>,
    description: Option<String>,
    nodes: Vec<serde_json::Value>,
    connections: Vec<serde_json::Value>,
    node_lines: Vec<usize>,
    connection_lines: Vec<usize>,
}

/// Runs `source` (named `file` in tracebacks) in a fresh sandboxed interpreter and reads the
/// pipeline it builds: what `main()` returns if the script defines `main`, else the last
/// `pipeline.Pipeline` it created. A Python error (a syntax error, an exception, a node class
/// that is not defined at the top level) is an error carrying the traceback.
///
/// When the process installed an isolation config ([`isolate::install`](super::isolate::install),
/// as the CLI does), the script runs in an isolated worker process under its limits: a script
/// that hangs, exhausts memory or crashes at module level is an error naming the script.
pub fn describe_script(file: &str, source: &str) -> Result<ScriptPipeline> {
    match super::isolate::installed() {
        Some(config) => super::isolate::script::describe(&config, file, source),
        None => describe_in_process(file, source),
    }
}

/// [`describe_script`] in this process's interpreter.
pub(crate) fn describe_in_process(file: &str, source: &str) -> Result<ScriptPipeline> {
    let rt = Runtime::new()?;
    let src = Source {
        filename: file,
        text: source,
    };
    let described = rt.enter(|vm| {
        let run = || -> PyResult {
            let code = vm
                .compile(source, Mode::Exec, file.to_owned())
                .map_err(|err| vm.new_syntax_error(&err, Some(source)))?;
            let scope = super::sandbox::node_scope(vm)?;
            let globals = &scope.globals;
            globals.set_item("__name__", vm.ctx.new_str("__main__").into(), vm)?;
            globals.set_item(NODE_GLOBAL, vm.ctx.new_str(file).into(), vm)?;
            let module = pipeline_module::module(vm)?;
            vm.run_code_obj(code, scope.clone())?;
            module
                .get_attr("_describe", vm)?
                .call((scope.globals.clone(),), vm)
        };
        let described = run().map_err(|exc| errors::exception(vm, &exc, src))?;
        from_py(&described, vm)
    })??;
    if described == Value::Null {
        return Err(Error::new(
            ErrorKind::Graph,
            "the script builds no pipeline: add nodes with `pipeline.node(...)`, or define `main()` returning a `pipeline.Pipeline`",
        ));
    }
    let json = serde_json::to_value(&described).map_err(|e| Error::msg(e.to_string()))?;
    let described: Described = serde_json::from_value(json).map_err(|e| {
        Error::msg(format_args!(
            "the pipeline module described an unexpected shape: {e}"
        ))
    })?;
    let name = described.name.unwrap_or_else(|| {
        std::path::Path::new(file)
            .file_stem()
            .map_or("pipeline".into(), |s| s.to_string_lossy().into_owned())
    });
    let mut nodes = Vec::with_capacity(described.nodes.len());
    for (i, mut node) in described.nodes.into_iter().enumerate() {
        embed_script(&mut node, file, source);
        let spec = serde_json::from_value(node).map_err(|e| {
            let line = described.node_lines.get(i).copied().unwrap_or(0);
            Error::new(
                ErrorKind::Graph,
                format_args!("{file}:{line}: invalid node: {e}"),
            )
        })?;
        nodes.push(spec);
    }
    let connections = described
        .connections
        .into_iter()
        .map(serde_json::from_value)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::msg(format_args!("invalid connection: {e}")))?;
    Ok(ScriptPipeline {
        file: file.to_string(),
        source: Arc::from(source),
        manifest: Manifest {
            version: Version::V1,
            metadata: Metadata {
                name: name.into(),
                description: described.description.map(Into::into),
                created_at: None,
            },
            nodes,
            connections,
        },
        node_lines: described.node_lines,
        connection_lines: described.connection_lines,
    })
}

/// A Python node of the script gets the script as its `code`, named as the script in tracebacks.
fn embed_script(node: &mut serde_json::Value, file: &str, source: &str) {
    if node.get("node_type").and_then(|t| t.as_str()) != Some(super::PYTHON_NODE_TYPE) {
        return;
    }
    let Some(params) = node.get_mut("params").and_then(|p| p.as_object_mut()) else {
        return;
    };
    if params.contains_key("code") || params.contains_key("file") {
        return; // written out by hand: `pipeline.node("python", code=...)`
    }
    params.insert("code".into(), source.into());
    params.insert("filename".into(), file.into());
}

impl ScriptPipeline {
    /// The script lines of each node and connection (what an isolated worker sends back).
    pub(crate) fn lines(&self) -> (&[usize], &[usize]) {
        (&self.node_lines, &self.connection_lines)
    }

    /// A described pipeline from its parts (as an isolated worker sent them).
    pub(crate) fn from_parts(
        file: &str,
        source: &str,
        manifest: Manifest,
        node_lines: Vec<usize>,
        connection_lines: Vec<usize>,
    ) -> ScriptPipeline {
        ScriptPipeline {
            file: file.to_string(),
            source: Arc::from(source),
            manifest,
            node_lines,
            connection_lines,
        }
    }

    /// The manifest as pretty JSON: what `pipeline export` writes.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.manifest).expect("a manifest serialises") + "\n"
    }

    /// Loads the pipeline with the manifest loader. Problems are reported in the script: the file
    /// is the script, the line is the one that added the node or made the connection (the JSON
    /// pointer still says which manifest field is wrong).
    pub fn load(&self, registry: &Registry) -> Result<LoweredManifest, ManifestError> {
        let json = self.to_json();
        manifest::load_with_options(&self.file, &json, registry, &Default::default())
            .map_err(|err| self.in_script(err))
    }

    /// `err` (about the generated manifest) relocated to the script lines behind it.
    fn in_script(&self, mut err: ManifestError) -> ManifestError {
        for problem in &mut err.problems {
            problem.location = self.locate(&problem.location.pointer);
            for (loc, _) in &mut problem.related {
                *loc = self.locate(&loc.pointer);
            }
        }
        err.text = self.source.clone();
        err.file = self.file.clone();
        err
    }

    /// The script line behind a pointer into the manifest (`/nodes/2/...`, `/connections/0/...`).
    fn locate(&self, pointer: &str) -> Location {
        let mut parts = pointer.trim_start_matches('/').split('/');
        let lines = match parts.next() {
            Some("nodes") => &self.node_lines,
            Some("connections") => &self.connection_lines,
            _ => &Vec::new(),
        };
        let line = parts
            .next()
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| lines.get(i).copied())
            .unwrap_or(0);
        let mut location = Location {
            pointer: pointer.to_string(),
            line,
            column: 1,
            offset: 0,
            len: 0,
        };
        if line > 0 {
            let start: usize = self
                .source
                .split_inclusive('\n')
                .take(line - 1)
                .map(str::len)
                .sum();
            let text = self.source[start..].lines().next().unwrap_or("");
            let indent = text.len() - text.trim_start().len();
            location.column = indent + 1;
            location.offset = start + indent;
            location.len = text.trim().len();
        }
        location
    }
}
