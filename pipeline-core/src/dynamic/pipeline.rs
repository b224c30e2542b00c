//! A runnable dynamic pipeline: the shared runtime's [`Pipeline`] over [`DynStage`]s, with output
//! names and optional per-node stats.

use super::stage::{DynStage, Tagged};
use super::stats::NodeStats;
use crate::error::Result;
use crate::graph::Description;
use crate::runtime::{Handle, Pipeline};
use crate::value::Value;
use std::sync::Arc;

/// A pipeline built from a manifest.
///
/// ```
/// use pipeline_core::dynamic::{BuildOptions, Registry};
/// use pipeline_core::manifest;
/// use pipeline_core::Value;
/// let text = r#"{"version": "v1", "metadata": {"name": "m"},
///   "nodes": [{"id": "add", "node_type": "CalculatorNode", "params": {"operand": 1}}],
///   "connections": []}"#;
/// let lowered = manifest::load("m.json", text, &Registry::with_builtins())?;
/// let mut p = pipeline_core::dynamic::build(lowered, BuildOptions::default());
/// let out = p.run([Value::Int(1), Value::from("2")])?;
/// assert_eq!(out.iter().map(|t| t.value.clone()).collect::<Vec<_>>(), [Value::Int(2), Value::Int(3)]);
/// assert_eq!(p.output_name(out[0].output), "add");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DynamicPipeline {
    inner: Pipeline<DynStage, Vec<Tagged>>,
    outputs: Vec<String>,
    node_ids: Vec<String>,
    stats: Option<Arc<[NodeStats]>>,
}

impl DynamicPipeline {
    pub(crate) fn new(
        inner: Pipeline<DynStage, Vec<Tagged>>,
        outputs: Vec<String>,
        node_ids: Vec<String>,
        stats: Option<Arc<[NodeStats]>>,
    ) -> Self {
        DynamicPipeline {
            inner,
            outputs,
            node_ids,
            stats,
        }
    }

    /// Runs one stream and collects every output.
    pub fn run(&mut self, items: impl IntoIterator<Item = Value>) -> Result<Vec<Tagged>> {
        self.inner.run(items)
    }

    /// Runs one stream, handing each output to `sink` as it comes (bounded memory).
    pub fn run_with<I, F>(&mut self, items: I, sink: F) -> Result<()>
    where
        I: IntoIterator<Item = Value>,
        F: FnMut(Tagged) -> Result<()>,
    {
        self.inner.run_with(items, sink)
    }

    /// Starts a stream fed item by item (see [`Handle`]); dropping it unfinished cancels the stream.
    pub fn start(&mut self) -> Result<Handle<'_, DynStage, Vec<Tagged>>> {
        self.inner.start()
    }

    /// Output names (the ids of the leaf nodes, or explicit `output.<name>`s), by output index.
    pub fn outputs(&self) -> &[String] {
        &self.outputs
    }

    /// The name of output `index`.
    pub fn output_name(&self, index: usize) -> &str {
        &self.outputs[index]
    }

    /// Nodes, edges and stages.
    pub fn describe(&self) -> &Description {
        self.inner.describe()
    }

    /// Per-node counters, `(id, stats)`, when built with `stats: true`.
    pub fn stats(&self) -> Option<impl Iterator<Item = (&str, &NodeStats)>> {
        let stats = self.stats.as_ref()?;
        Some(self.node_ids.iter().map(String::as_str).zip(stats.iter()))
    }

    /// Stops the threads and cleans up every node.
    pub fn close(self) -> Result<()> {
        self.inner.close()
    }
}
