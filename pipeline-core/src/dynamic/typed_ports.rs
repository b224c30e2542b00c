//! A typed node with several named outputs seen as a [`DynNode`]: its items leave by the port
//! its `Output` names, which the stage reads with [`DynNode::take_ports`].

use super::dyn_node::{traced_item_by_item, DynNode};
use crate::builtins::Partition;
use crate::error::Result;
use crate::graph::{OutputPort, PortType};
use crate::node::{EmitFn, Node, NodeContext, Ports};
use crate::value::{FromValue, IntoValue, Value};

/// A typed [`Node`] with ports as a [`DynNode`]: each output is converted with [`IntoValue`] and
/// its port (read off the typed output before conversion) recorded for the stage, which sends it
/// along that port's edges only.
///
/// ```
/// use pipeline_core::dynamic::{DynNode, TypedPorts};
/// use pipeline_core::prelude::*;
/// let mut split = TypedPorts::new(Partition::new(|x: &i64| x % 2 == 0));
/// let names: Vec<&str> = split.ports().iter().map(|p| &*p.name).collect();
/// assert_eq!(names, ["true", "false"]);
/// let (mut out, mut ports) = (Vec::new(), Vec::new());
/// split.process(Value::Int(3), &mut out)?;
/// split.take_ports(&mut ports);
/// assert_eq!((out, ports), (vec![Value::Int(3)], vec![1]));
/// assert_eq!(split.ports()[0].emits.name(), "int");
/// # Ok::<(), pipeline_core::Error>(())
/// ```
pub struct TypedPorts<N: Node> {
    node: N,
    ports: Vec<OutputPort>,
    port_of: fn(&N::Output) -> usize,
    /// The port of each output pushed since the stage last asked.
    tags: Vec<usize>,
}

impl<N: Node> TypedPorts<N>
where
    N::Output: Ports + IntoValue,
{
    /// Wraps a node whose output type names its ports ([`Ports`]); every port emits what the
    /// output converts to (see the type's example).
    pub fn new(node: N) -> Self {
        let ports = <N::Output as Ports>::NAMES
            .iter()
            .map(|&name| OutputPort::new(name, <N::Output as IntoValue>::PORT))
            .collect();
        TypedPorts::with_port_fn(node, ports, <N::Output as Ports>::port)
    }
}

impl<F: FnMut(&Value) -> bool> TypedPorts<Partition<F, Value>> {
    /// A [`Partition`] over values: ports `true` and `false`, each emitting what it is given.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, TypedPorts};
    /// use pipeline_core::prelude::*;
    /// let split = TypedPorts::partition(|x: &Value| x.as_int().is_some());
    /// assert_eq!(split.ports()[0].emits.name(), "any");
    /// ```
    pub fn partition(predicate: F) -> Self {
        TypedPorts::new(Partition::new(predicate))
    }
}

impl<N: Node> TypedPorts<N> {
    /// Wraps a node whose ports are known only when it is built (their names from params):
    /// `port_of` says which of `ports` an output leaves by.
    ///
    /// ```
    /// use pipeline_core::dynamic::{DynNode, TypedPorts};
    /// use pipeline_core::graph::{OutputPort, PortType};
    /// use pipeline_core::prelude::*;
    /// let ports = vec![OutputPort::new("small", PortType::Int), OutputPort::new("big", PortType::Int)];
    /// let node = TypedPorts::with_port_fn(PassThrough::<i64>::new(), ports, |x: &i64| usize::from(*x > 9));
    /// assert_eq!(node.ports().len(), 2);
    /// ```
    pub fn with_port_fn(node: N, ports: Vec<OutputPort>, port_of: fn(&N::Output) -> usize) -> Self {
        TypedPorts {
            node,
            ports,
            port_of,
            tags: Vec::new(),
        }
    }
}

/// The emitter a typed node with ports writes to: each output as a value in `out`, its port in
/// `tags`, in step.
fn tagging<'a, O: IntoValue + 'a>(
    tags: &'a mut Vec<usize>,
    port_of: fn(&O) -> usize,
    out: &'a mut Vec<Value>,
) -> EmitFn<impl FnMut(O) -> Result<()> + 'a> {
    EmitFn(move |o: O| {
        tags.push(port_of(&o));
        out.push(o.into_value());
        Ok(())
    })
}

impl<N> DynNode for TypedPorts<N>
where
    N: Node + Send,
    N::Input: FromValue + Send,
    N::Output: IntoValue + Send,
{
    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        self.node.initialize(ctx)
    }

    #[inline]
    fn process(&mut self, item: Value, out: &mut Vec<Value>) -> Result<()> {
        let input = N::Input::from_value(item)?;
        let (tags, port_of) = (&mut self.tags, self.port_of);
        self.node.process(input, &mut tagging(tags, port_of, out))
    }

    /// Item by item (outputs and ports are pushed in step); what a failing item pushed is taken
    /// back from both.
    fn process_batch_traced(
        &mut self,
        items: &mut Vec<Value>,
        item_origins: &mut Vec<u64>,
        out: &mut Vec<Value>,
        origins: &mut Vec<u64>,
    ) -> Result<()> {
        let (out_before, tags_before) = (out.len(), self.tags.len());
        let outcome = traced_item_by_item(self, items, item_origins, out, origins);
        self.tags.truncate(tags_before + (out.len() - out_before));
        outcome
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<()> {
        let (tags, port_of) = (&mut self.tags, self.port_of);
        self.node.finish(&mut tagging(tags, port_of, out))
    }

    fn may_resume(&mut self) -> bool {
        false
    }

    fn cleanup(&mut self) -> Result<()> {
        self.node.cleanup()
    }

    fn accepts(&self) -> PortType {
        N::Input::PORT
    }

    fn emits(&self) -> PortType {
        N::Output::PORT
    }

    fn ports(&self) -> &[OutputPort] {
        &self.ports
    }

    fn take_ports(&mut self, ports: &mut Vec<usize>) {
        ports.append(&mut self.tags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_item_takes_back_its_outputs_and_their_ports() {
        // Items leave by `true` when positive; `x` does not convert and fails the batch there.
        let mut split = TypedPorts::new(Partition::new(|x: &i64| *x > 0));
        let mut items = vec![
            Value::Int(1),
            Value::Int(-2),
            Value::from("x"),
            Value::Int(4),
        ];
        let (mut out, mut origins, mut ports) = (Vec::new(), Vec::new(), Vec::new());
        let err = split
            .process_batch_traced(&mut items, &mut vec![0, 1, 2, 3], &mut out, &mut origins)
            .unwrap_err();
        assert_eq!(err.failed_item(), Some(2));
        split.take_ports(&mut ports);
        assert_eq!(out, [Value::Int(1), Value::Int(-2)]);
        assert_eq!((origins, ports), (vec![0, 1], vec![0, 1]));
    }
}
