//! A runnable dynamic pipeline: the shared runtime's [`Pipeline`] over [`DynStage`]s, with output
//! names and optional per-node stats.

use super::output_spares::OutputReturn;
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
    /// Where a stream gives back the output batches its caller has written.
    output_return: OutputReturn,
}

impl DynamicPipeline {
    pub(crate) fn new(
        inner: Pipeline<DynStage, Vec<OutputBatch>>,
        stats: Option<Arc<[NodeStats]>>,
        output_return: OutputReturn,
    ) -> Self {
        DynamicPipeline {
            inner,
            stats,
            output_return,
        }
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
        Ok(DynamicStream::new(self.inner.start()?, &self.output_return))
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

    /// One `Calculator` adding 1 on a stage thread of its own.
    fn staged_add_one() -> DynamicPipeline {
        let text = r#"{"version": "v1", "metadata": {"name": "staged"},
          "nodes": [{"id": "add", "node_type": "CalculatorNode", "params": {"operand": 1},
                     "stage": true}],
          "connections": []}"#;
        let lowered =
            crate::manifest::load("staged.json", text, &Registry::with_builtins()).unwrap();
        build(lowered, BuildOptions::default())
    }

    #[test]
    fn a_pushed_batch_crosses_a_stage_boundary_at_once() {
        // Three items do not fill the stage channel's first batch (1024): they go on because
        // `push_batch` sends what a batch made on, not because the input ended or paused.
        let mut p = staged_add_one();
        let mut stream = p.start().unwrap();
        stream
            .push_batch(&mut (1..=3).map(Value::Int).collect())
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut got = Vec::new();
        while got.len() < 3 && std::time::Instant::now() < deadline {
            match stream.try_next().unwrap() {
                Some(tagged) => got.push(tagged.value),
                None => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
        assert_eq!(got, (2..=4).map(Value::Int).collect::<Vec<_>>());
        assert!(stream.finish().unwrap().is_empty());
    }

    #[test]
    fn many_short_threaded_runs_never_take_a_stage_end_for_an_early_one() {
        // A stage thread may end the stream as soon as stage 0 has finished: the caller must
        // count that end, not take it for a stage ending before its input did (a race that
        // failed one `pipeline bench` run in four when the caller looked at the stages again
        // after its `finish`).
        let mut p = staged_add_one();
        for n in 0..5000 {
            assert_eq!(p.run_values([]).unwrap(), []);
            assert_eq!(p.run_values([Value::Int(n)]).unwrap(), [Value::Int(n + 1)]);
        }
    }

    /// Passes items on, panicking on 777.
    struct Explode;

    impl crate::dynamic::DynNode for Explode {
        fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
            assert!(item != Value::Int(777), "exploded on {item:?}");
            out.push(item);
            Ok(())
        }
    }

    /// Passes items on, failing on 3000.
    struct Refuse;

    impl crate::dynamic::DynNode for Refuse {
        fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
            if item == Value::Int(3000) {
                return Err(crate::Error::msg("refused 3000"));
            }
            out.push(item);
            Ok(())
        }
    }

    /// `nodes` (JSON objects without ids) chained in order, on a registry that knows `Explode`
    /// and `Refuse`.
    fn chain(nodes: &[&str]) -> DynamicPipeline {
        let mut registry = Registry::with_builtins();
        registry.register_dyn(
            "Explode",
            crate::graph::PortType::Any,
            crate::graph::PortType::Any,
            Vec::new(),
            |_| Ok(Box::new(Explode) as Box<dyn crate::dynamic::DynNode>),
        );
        registry.register_dyn(
            "Refuse",
            crate::graph::PortType::Any,
            crate::graph::PortType::Any,
            Vec::new(),
            |_| Ok(Box::new(Refuse) as Box<dyn crate::dynamic::DynNode>),
        );
        let nodes: Vec<String> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| format!(r#"{{"id": "n{i}", {node}}}"#))
            .collect();
        let connections: Vec<String> = (1..nodes.len())
            .map(|i| format!(r#"{{"from": "n{}", "to": "n{i}"}}"#, i - 1))
            .collect();
        let text = format!(
            r#"{{"version": "v1", "metadata": {{"name": "chain"}}, "nodes": [{}], "connections": [{}]}}"#,
            nodes.join(","),
            connections.join(",")
        );
        build(
            crate::manifest::load("chain.json", &text, &registry).unwrap(),
            BuildOptions::default(),
        )
    }

    /// Runs `p` over 0..5000 (a `Refuse` fails on item 3000), collecting what reaches the sink.
    fn run_to_failure(p: &mut DynamicPipeline) -> (Vec<(usize, Value)>, crate::Error) {
        let items = (0..5000_i64).map(Value::Int);
        let mut got = Vec::new();
        let err = p
            .run_with(items, |t| {
                got.push((t.output, t.value));
                Ok(())
            })
            .unwrap_err();
        (got, err)
    }

    const ADD: &str = r#""node_type": "CalculatorNode", "params": {"operand": 1}"#;
    const REFUSE: &str = r#""node_type": "Refuse""#;
    const PASS: &str = r#""node_type": "PassThroughNode""#;
    const COUNT: &str = r#""node_type": "Count""#;

    #[test]
    fn run_with_hands_on_every_output_before_the_failing_item_in_every_mode() {
        let staged = format!(r#"{REFUSE}, "stage": true"#);
        let pass_staged = format!(r#"{PASS}, "stage": true"#);
        let parallel = format!(r#"{REFUSE}, "parallelism": 3, "batch_size": 64"#);
        let parallel_staged = format!(r#"{parallel}, "stage": true"#);
        let unordered = format!(r#"{parallel_staged}, "ordered": false"#);
        let want: Vec<(usize, Value)> = (0..3000).map(|x| (0, Value::Int(x + 1))).collect();
        for nodes in [
            vec![PASS, REFUSE, ADD],
            vec![PASS, &staged, ADD],
            vec![&pass_staged, &staged, ADD],
            vec![PASS, &parallel, ADD],
            vec![&pass_staged, &parallel_staged, ADD],
            vec![PASS, &unordered, ADD],
        ] {
            let mut p = chain(&nodes);
            let (got, err) = run_to_failure(&mut p);
            assert_eq!(err.node(), Some("n1"), "{nodes:?}: {err}");
            assert_eq!(err.failed_item(), Some(3000), "{nodes:?}: {err}");
            let mut got = got;
            if nodes.contains(&unordered.as_str()) {
                got.sort_by_key(|(_, value)| value.as_int());
            }
            assert_eq!(got.len(), want.len(), "{nodes:?}");
            assert!(got == want, "{nodes:?}: the outputs of items 0..3000");
        }
    }

    #[test]
    fn a_panic_is_a_failure_like_any_other() {
        let staged = r#""node_type": "Explode", "stage": true"#;
        for nodes in [
            vec![PASS, r#""node_type": "Explode""#],
            vec![PASS, staged, PASS],
        ] {
            let mut p = chain(&nodes);
            let mut got = Vec::new();
            let err = p
                .run_with((0..2000).map(Value::Int), |t| {
                    got.push(t.value);
                    Ok(())
                })
                .unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Panic, "{err}");
            assert!(err.message().contains("exploded on Int(777)"), "{err}");
            assert_eq!((err.node(), err.failed_item()), (Some("n1"), Some(777)));
            assert_eq!(got, (0..777).map(Value::Int).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_failed_run_emits_nothing_from_the_end_of_the_stream() {
        // `Count` after the failing stage would count a stream cut short: it emits nothing.
        let staged = format!(r#"{REFUSE}, "stage": true"#);
        let count = format!(r#"{COUNT}, "stage": true"#);
        let mut p = chain(&[PASS, &staged, &count]);
        let (got, err) = run_to_failure(&mut p);
        assert_eq!(err.failed_item(), Some(3000));
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn a_failed_stream_still_hands_out_the_outputs_before_the_failing_item() {
        let staged = format!(r#"{REFUSE}, "stage": true"#);
        let mut p = chain(&[ADD, &staged]);
        let mut stream = p.start().unwrap();
        let mut got = Vec::new();
        let mut failure = None;
        // Item 2999 becomes 3000, which `Refuse` fails on. The failure of the stage thread shows
        // at whichever call comes first: a push, or taking the ready outputs.
        'feed: for x in 0..5000_i64 {
            if let Err(err) = stream.push(Value::Int(x)) {
                failure = Some(err);
                break;
            }
            loop {
                match stream.try_next() {
                    Ok(Some(t)) => got.push(t.value),
                    Ok(None) => break,
                    Err(err) => {
                        failure = Some(err);
                        break 'feed;
                    }
                }
            }
        }
        let err = match failure {
            Some(err) => err,
            None => stream.end().unwrap_err(),
        };
        while let Some(t) = stream.try_next().unwrap() {
            got.push(t.value);
        }
        assert_eq!(err.failed_item(), Some(2999), "{err}");
        assert_eq!(got, (1..3000).map(Value::Int).collect::<Vec<_>>());
        assert!(stream.push(Value::Int(1)).is_err(), "the stream has ended");
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
