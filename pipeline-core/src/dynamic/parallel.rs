//! A data-parallel dynamic node: replicas built from the same params share its items, batch by
//! batch, on rayon's pool (a manifest's `"parallelism": n`).

use super::dyn_node::DynNode;
use crate::error::Result;
use crate::graph::{OutputPort, PortType};
use crate::node::NodeContext;
use crate::runtime::parallel_batch::{first_failure, process_in_parallel};
use crate::value::Value;

/// Replicas of one dynamic node processing batches in parallel: the dynamic counterpart of
/// [`Parallel`](crate::runtime::Parallel), with the same batching, ordering and lifecycle rules.
///
/// ```
/// use pipeline_core::dynamic::{DynNode, ParallelDyn, Typed};
/// use pipeline_core::prelude::*;
/// let replicas: Vec<Box<dyn DynNode>> =
///     (0..2).map(|_| Box::new(Typed::new(Calculator::add(1_i64))) as Box<dyn DynNode>).collect();
/// let mut node = ParallelDyn::new(replicas, 1024, true);
/// let mut out = Vec::new();
/// for x in 0..5 {
///     node.process(Value::Int(x), &mut out).unwrap();
/// }
/// node.finish(&mut out).unwrap();
/// assert_eq!(out, (1..6).map(Value::Int).collect::<Vec<_>>());
/// ```
pub struct ParallelDyn {
    replicas: Vec<Box<dyn DynNode>>,
    pending: Vec<Value>,
    /// The origin of each pending item (see [`DynNode::process_batch_traced`]).
    pending_origins: Vec<u64>,
    batch_size: usize,
    ordered: bool,
    /// For a node with ports: the port of each output handed on since the stage last asked.
    tags: Vec<usize>,
}

/// The origin of pending items given untraced (through `process`): none to name.
const UNTRACED: u64 = u64::MAX;

impl ParallelDyn {
    /// Runs `replicas` (at least one) over batches of `batch_size` items, in input order if
    /// `ordered`.
    ///
    /// # Panics
    /// If `replicas` is empty: the loader always builds at least one.
    pub fn new(replicas: Vec<Box<dyn DynNode>>, batch_size: usize, ordered: bool) -> Self {
        assert!(!replicas.is_empty(), "a parallel node needs a replica");
        ParallelDyn {
            replicas,
            pending: Vec::new(),
            pending_origins: Vec::new(),
            batch_size: batch_size.max(1),
            ordered,
            tags: Vec::new(),
        }
    }
}

impl ParallelDyn {
    /// Processes the pending items on the pool, naming each output's origin in `origins` (when
    /// the caller traces: `origins` then matches `out`) and a failure's item.
    fn run_pending(&mut self, out: &mut Vec<Value>, origins: &mut Vec<u64>) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let item_origins = &self.pending_origins;
        let tracing = origins.len() == out.len();
        let outcome = if self.replicas[0].ports().is_empty() {
            let process =
                |replica: &mut Box<dyn DynNode>, item: Value, outputs: &mut Vec<Value>| {
                    replica.process(item, outputs)
                };
            process_in_parallel(
                &mut self.replicas,
                &mut self.pending,
                self.ordered,
                &process,
                &mut |value, at| {
                    out.push(value);
                    if tracing {
                        origins.push(item_origins[at]);
                    }
                    Ok(())
                },
            )
        } else {
            // A node with ports: each output travels back with its port, read off the replica
            // that made it.
            let process =
                |replica: &mut Box<dyn DynNode>, item: Value, outputs: &mut Vec<(Value, usize)>| {
                    let (mut values, mut ports) = (Vec::new(), Vec::new());
                    let outcome = replica.process(item, &mut values);
                    replica.take_ports(&mut ports);
                    outputs.extend(values.into_iter().zip(ports));
                    outcome
                };
            let tags = &mut self.tags;
            process_in_parallel(
                &mut self.replicas,
                &mut self.pending,
                self.ordered,
                &process,
                &mut |(value, port), at| {
                    out.push(value);
                    tags.push(port);
                    if tracing {
                        origins.push(item_origins[at]);
                    }
                    Ok(())
                },
            )
        };
        let outcome = outcome.map_err(|(err, at)| match at.map(|at| item_origins[at]) {
            Some(origin) if origin != UNTRACED => err.with_failed_item(origin),
            _ => err,
        });
        self.pending_origins.clear();
        outcome
    }
}

impl DynNode for ParallelDyn {
    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        for k in 0..self.replicas.len() {
            if let Err(err) = self.replicas[k].initialize(ctx) {
                for earlier in &mut self.replicas[..k] {
                    let _ = earlier.cleanup();
                }
                return Err(err);
            }
        }
        Ok(())
    }

    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
        let mut origins = Vec::new();
        self.process_batch_traced(&mut vec![item], &mut vec![UNTRACED], out, &mut origins)
    }

    fn process_batch_traced(
        &mut self,
        items: &mut Vec<Value>,
        item_origins: &mut Vec<u64>,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
    ) -> Result<()> {
        for (item, &origin) in items.drain(..).zip(item_origins.iter()) {
            self.pending.push(item);
            self.pending_origins.push(origin);
            if self.pending.len() >= self.batch_size {
                self.run_pending(out, origins)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<()> {
        self.run_pending(out, &mut Vec::new())
    }

    fn flush_traced(&mut self, out: &mut Vec<Value>, origins: &mut Vec<u64>, _: u64) -> Result<()> {
        self.run_pending(out, origins)
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<()> {
        self.finish_traced(out, &mut Vec::new(), UNTRACED)
    }

    fn finish_traced(
        &mut self,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
        end: u64,
    ) -> Result<()> {
        self.run_pending(out, origins)?;
        for replica in &mut self.replicas {
            let before = out.len();
            let outcome = replica.finish(out);
            replica.take_ports(&mut self.tags);
            origins.resize(origins.len() + (out.len() - before), end);
            outcome?;
        }
        Ok(())
    }

    /// Each call processes what it takes at once.
    fn may_resume(&mut self) -> bool {
        false
    }

    fn cleanup(&mut self) -> Result<()> {
        first_failure(self.replicas.iter_mut().map(|replica| replica.cleanup()))
    }

    fn accepts(&self) -> PortType {
        self.replicas[0].accepts()
    }

    fn emits(&self) -> PortType {
        self.replicas[0].emits()
    }

    fn ports(&self) -> &[OutputPort] {
        self.replicas[0].ports()
    }

    fn take_ports(&mut self, ports: &mut Vec<usize>) {
        ports.append(&mut self.tags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::Partition;
    use crate::dynamic::TypedPorts;

    fn split_replicas(n: usize) -> Vec<Box<dyn DynNode>> {
        (0..n)
            .map(|_| {
                Box::new(TypedPorts::partition(|x: &Value| {
                    x.as_int().is_some_and(|x| x % 3 == 0)
                })) as Box<dyn DynNode>
            })
            .collect()
    }

    #[test]
    fn replicas_with_ports_hand_back_each_outputs_port_in_order() {
        let mut node = ParallelDyn::new(split_replicas(3), 10, true);
        assert_eq!(node.ports().len(), 2);
        let mut items: Vec<Value> = (0..95).map(Value::Int).collect();
        let mut origins: Vec<u64> = (0..95).collect();
        let (mut out, mut out_origins, mut ports) = (Vec::new(), Vec::new(), Vec::new());
        node.process_batch_traced(&mut items, &mut origins, &mut out, &mut out_origins)
            .unwrap();
        node.finish_traced(&mut out, &mut out_origins, u64::MAX)
            .unwrap();
        node.take_ports(&mut ports);
        assert_eq!(out, (0..95).map(Value::Int).collect::<Vec<_>>());
        assert_eq!(out_origins, (0..95).collect::<Vec<u64>>());
        let expected: Vec<usize> = (0..95).map(|x| usize::from(x % 3 != 0)).collect();
        assert_eq!(ports, expected);
    }

    #[test]
    fn a_failing_item_leaves_outputs_and_ports_in_step() {
        // Over ints: the string at 5 does not convert and fails there.
        let replicas = (0..2)
            .map(|_| {
                Box::new(TypedPorts::new(Partition::new(|x: &i64| x % 2 == 0))) as Box<dyn DynNode>
            })
            .collect();
        let mut node = ParallelDyn::new(replicas, 8, true);
        let mut items: Vec<Value> = (0..8).map(Value::Int).collect();
        items[5] = Value::from("x");
        let (mut out, mut out_origins, mut ports) = (Vec::new(), Vec::new(), Vec::new());
        let mut origins: Vec<u64> = (0..8).collect();
        let err = node
            .process_batch_traced(&mut items, &mut origins, &mut out, &mut out_origins)
            .unwrap_err();
        assert_eq!(err.failed_item(), Some(5));
        node.take_ports(&mut ports);
        assert_eq!(out, (0..5).map(Value::Int).collect::<Vec<_>>());
        assert_eq!(ports, [0, 1, 0, 1, 0]);
    }
}
