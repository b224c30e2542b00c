//! A data-parallel dynamic node: replicas built from the same params share its items, batch by
//! batch, on rayon's pool (a manifest's `"parallelism": n`).

use super::dyn_node::DynNode;
use crate::error::Result;
use crate::graph::PortType;
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
    batch_size: usize,
    ordered: bool,
}

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
            batch_size: batch_size.max(1),
            ordered,
        }
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
        self.pending.push(item);
        if self.pending.len() >= self.batch_size {
            return self.flush(out);
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let process = |replica: &mut Box<dyn DynNode>, item: Value, outputs: &mut Vec<Value>| {
            replica.process(item, outputs)
        };
        process_in_parallel(
            &mut self.replicas,
            &mut self.pending,
            self.ordered,
            &process,
            &mut |value| {
                out.push(value);
                Ok(())
            },
        )
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<()> {
        self.flush(out)?;
        self.replicas
            .iter_mut()
            .try_for_each(|replica| replica.finish(out))
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
}
