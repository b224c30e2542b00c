use crate::error::Result;
use crate::node::{EmitFn, Emitter, ManifestNode, Node, NodeContext};
use crate::value::{FromValue, IntoValue, Value};

/// Runs a typed node on [`Value`] items: each input is converted with [`FromValue`] (a mismatch is
/// an error saying what was expected), each output with [`IntoValue`]. The same conversions the
/// dynamic registry wraps around typed nodes, done statically, so a manifest compiled with
/// `pipeline!(manifest = "...")` gives the dynamic loader's results for `Count`, `Sum`, `Batch`...
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut sum = OnValues(Sum::<i64>::new());
/// let mut out = Vec::new();
/// sum.process(Value::Int(2), &mut out).unwrap();
/// sum.finish(&mut out).unwrap();
/// assert_eq!(out, [Value::Int(2)]);
/// assert!(sum.process(Value::from("x"), &mut out).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct OnValues<N>(pub N);

impl<N> Node for OnValues<N>
where
    N: Node,
    N::Input: FromValue,
    N::Output: IntoValue,
{
    type Input = Value;
    type Output = Value;

    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        self.0.initialize(ctx)
    }

    #[inline]
    fn process<E: Emitter<Value> + ?Sized>(&mut self, item: Value, out: &mut E) -> Result<()> {
        let input = N::Input::from_value(item)?;
        self.0
            .process(input, &mut EmitFn(|o: N::Output| out.emit(o.into_value())))
    }

    fn finish<E: Emitter<Value> + ?Sized>(&mut self, out: &mut E) -> Result<()> {
        self.0
            .finish(&mut EmitFn(|o: N::Output| out.emit(o.into_value())))
    }

    fn cleanup(&mut self) -> Result<()> {
        self.0.cleanup()
    }

    fn manifest_node(&self) -> Option<ManifestNode> {
        self.0.manifest_node()
    }

    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }
}
