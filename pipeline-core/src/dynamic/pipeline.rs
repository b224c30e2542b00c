//! A runnable dynamic pipeline: the shared runtime's [`Pipeline`] over [`DynStage`]s, with output
//! names and optional per-node stats.

use super::stage::{DynStage, OutputBatch, Tagged};
use super::stats::NodeStats;
use super::stream::DynamicStream;
use crate::error::Result;
use crate::graph::{Description, Name};
use crate::runtime::Pipeline;
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
    inner: Pipeline<DynStage, Vec<OutputBatch>>,
    stats: Option<Arc<[NodeStats]>>,
}

impl DynamicPipeline {
    pub(crate) fn new(
        inner: Pipeline<DynStage, Vec<OutputBatch>>,
        stats: Option<Arc<[NodeStats]>>,
    ) -> Self {
        DynamicPipeline { inner, stats }
    }

    /// Runs one stream and collects every output item, tagged with its output.
    pub fn run(&mut self, items: impl IntoIterator<Item = Value>) -> Result<Vec<Tagged>> {
        let batches = self.inner.run(items)?;
        let mut tagged = Vec::with_capacity(batches.iter().map(|b| b.values.len()).sum());
        tagged.extend(batches.into_iter().flat_map(OutputBatch::into_tagged));
        Ok(tagged)
    }

    /// Runs one stream and collects the values of every output in the order they were produced,
    /// untagged: for a pipeline with one output, simply its outputs. Cheaper than
    /// [`run`](Self::run): whole batches are moved, never item by item.
    ///
    /// ```
    /// use pipeline_core::dynamic::{build, BuildOptions, Registry};
    /// use pipeline_core::{manifest, Value};
    /// let text = r#"{"version": "v1", "metadata": {"name": "m"},
    ///   "nodes": [{"id": "add", "node_type": "CalculatorNode", "params": {"operand": 1}}],
    ///   "connections": []}"#;
    /// let lowered = manifest::load("m.json", text, &Registry::with_builtins())?;
    /// let mut p = build(lowered, BuildOptions::default());
    /// assert_eq!(p.run_values([Value::Int(1), Value::Int(2)])?, [Value::Int(2), Value::Int(3)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_values(&mut self, items: impl IntoIterator<Item = Value>) -> Result<Vec<Value>> {
        let mut batches = self.inner.run(items)?.into_iter();
        let Some(first) = batches.next() else {
            return Ok(Vec::new());
        };
        let mut values = first.values;
        for mut batch in batches {
            values.append(&mut batch.values);
        }
        Ok(values)
    }

    /// Runs one stream, handing each output to `sink` as it comes (bounded memory).
    pub fn run_with<I, F>(&mut self, items: I, mut sink: F) -> Result<()>
    where
        I: IntoIterator<Item = Value>,
        F: FnMut(Tagged) -> Result<()>,
    {
        self.inner
            .run_with(items, |batch| batch.into_tagged().try_for_each(&mut sink))
    }

    /// Starts a stream fed item by item (see [`DynamicStream`]); dropping it unfinished cancels the
    /// stream.
    pub fn start(&mut self) -> Result<DynamicStream<'_>> {
        Ok(DynamicStream::new(self.inner.start()?))
    }

    /// Output names (the ids of the leaf nodes, or explicit `output.<name>`s), by output index.
    pub fn outputs(&self) -> &[Name] {
        &self.describe().outputs
    }

    /// The name of output `index`.
    pub fn output_name(&self, index: usize) -> &str {
        &self.outputs()[index]
    }

    /// Nodes, edges and stages.
    pub fn describe(&self) -> &Description {
        self.inner.describe()
    }

    /// Per-node counters, `(id, stats)`, when built with `stats: true`.
    pub fn stats(&self) -> Option<impl Iterator<Item = (&str, &NodeStats)>> {
        let stats = self.stats.as_ref()?;
        let ids = self.describe().nodes.iter().map(|node| &*node.id);
        Some(ids.zip(stats.iter()))
    }

    /// Stops the threads and cleans up every node.
    pub fn close(self) -> Result<()> {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamic::{build, BuildOptions, Registry};

    const BRANCHES: &str = r#"{"version": "v1", "metadata": {"name": "branches"},
      "nodes": [
        {"id": "add", "node_type": "CalculatorNode", "params": {"operand": 1}},
        {"id": "items", "node_type": "PassThrough"},
        {"id": "count", "node_type": "Count"}],
      "connections": [{"from": "add", "to": "items"}, {"from": "add", "to": "count"}]}"#;

    fn branches() -> DynamicPipeline {
        let lowered =
            crate::manifest::load("branches.json", BRANCHES, &Registry::with_builtins()).unwrap();
        build(lowered, BuildOptions::default())
    }

    #[test]
    fn tagged_and_untagged_runs_agree_item_for_item() {
        let mut p = branches();
        let items = || (0..3).map(Value::Int);
        let tagged = p.run(items()).unwrap();
        let names: Vec<(&str, Value)> = tagged
            .iter()
            .map(|t| (p.output_name(t.output), t.value.clone()))
            .collect();
        assert_eq!(
            names,
            [
                ("items", Value::Int(1)),
                ("items", Value::Int(2)),
                ("items", Value::Int(3)),
                ("count", Value::Int(3)),
            ]
        );
        let values: Vec<Value> = tagged.into_iter().map(|t| t.value).collect();
        assert_eq!(p.run_values(items()).unwrap(), values);
        let mut streamed = Vec::new();
        p.run_with(items(), |t| {
            streamed.push(t.value);
            Ok(())
        })
        .unwrap();
        assert_eq!(streamed, values);
    }

    #[test]
    fn long_threaded_streams_reuse_their_batches_without_mixing_items() {
        // Two stages and growing batches: emptied batches go back upstream and come back filled
        // with the next items only.
        let text = r#"{"version": "v1", "metadata": {"name": "staged"},
          "nodes": [
            {"id": "add", "node_type": "CalculatorNode", "params": {"operand": 1}, "stage": true},
            {"id": "pass", "node_type": "PassThroughNode", "stage": true}],
          "connections": [{"from": "add", "to": "pass"}]}"#;
        let lowered =
            crate::manifest::load("staged.json", text, &Registry::with_builtins()).unwrap();
        let mut p = build(lowered, BuildOptions::default());
        for n in [100_000_i64, 70_000] {
            let mut next = 1;
            p.run_with((0..n).map(Value::Int), |t| {
                assert_eq!(t.value, Value::Int(next));
                next += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(next, n + 1);
            let tagged = p.run((0..n).map(Value::Int)).unwrap();
            assert!(tagged
                .iter()
                .map(|t| &t.value)
                .eq((1..=n).map(Value::Int).collect::<Vec<_>>().iter()));
        }
    }

    #[test]
    fn a_stream_hands_out_a_batch_across_try_next_and_finish() {
        // One pushed list becomes one output batch of three items.
        let text = r#"{"version": "v1", "metadata": {"name": "split"},
          "nodes": [{"id": "split", "node_type": "Unbatch"}], "connections": []}"#;
        let lowered =
            crate::manifest::load("split.json", text, &Registry::with_builtins()).unwrap();
        let mut p = build(lowered, BuildOptions::default());
        let mut stream = p.start().unwrap();
        stream.push(Value::list((1..=3).map(Value::Int))).unwrap();
        let first = stream.try_next().unwrap().unwrap();
        assert_eq!((first.output, first.value), (0, Value::Int(1)));
        // The rest of that batch, then what the next push made.
        stream.push(Value::list([Value::Int(4)])).unwrap();
        let rest: Vec<Value> = stream
            .finish()
            .unwrap()
            .into_iter()
            .map(|t| t.value)
            .collect();
        assert_eq!(rest, [Value::Int(2), Value::Int(3), Value::Int(4)]);
    }
}
