use crate::error::Result;
use crate::node::{Emitter, Node};
use std::marker::PhantomData;

/// Emits its input unchanged (the seed's `PassThrough` / `PassThroughNode`).
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut out = Vec::new();
/// PassThrough::new().process(5_i64, &mut out).unwrap();
/// assert_eq!(out, [5]);
/// ```
pub struct PassThrough<T> {
    _item: PhantomData<fn(T) -> T>,
}

impl<T> PassThrough<T> {
    /// A pass-through for items of type `T` (usually inferred from its neighbours).
    pub fn new() -> Self {
        PassThrough { _item: PhantomData }
    }
}

impl<T> Default for PassThrough<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for PassThrough<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> Node for PassThrough<T> {
    type Input = T;
    type Output = T;

    fn manifest_node(&self) -> Option<crate::node::ManifestNode> {
        Some(crate::node::ManifestNode::new("PassThrough", []))
    }

    #[inline(always)]
    fn process<E: Emitter<T> + ?Sized>(&mut self, item: T, out: &mut E) -> Result<()> {
        out.emit(item)
    }

    fn pure_fn(&self) -> Option<impl Fn(T) -> (T, i64) + '_> {
        Some(|item| (item, 0))
    }

    fn one_to_one(&self) -> bool {
        true
    }

    /// The batch changes hands without a per-item step.
    fn process_batch(&mut self, items: &mut Vec<T>, out: &mut Vec<T>) -> Result<()> {
        crate::node::move_all(items, out);
        Ok(())
    }
}

/// Over `Value`s a pass-through is its own dynamic node: nothing to convert, so none of
/// [`Typed`](crate::dynamic::Typed)'s buffers, and zero-sized, so boxing it allocates nothing.
///
/// ```
/// use pipeline_core::dynamic::DynNode;
/// use pipeline_core::prelude::*;
/// let mut node: Box<dyn DynNode> = Box::new(PassThrough::<Value>::new());
/// let (mut items, mut out) = (vec![Value::Int(1), Value::from("a")], vec![Value::Null]);
/// node.process_batch(&mut items, &mut out).unwrap();
/// assert_eq!(out, [Value::Null, Value::Int(1), Value::from("a")]);
/// assert!(items.is_empty());
/// ```
#[cfg(feature = "manifest")]
impl crate::dynamic::DynNode for PassThrough<crate::value::Value> {
    #[inline]
    fn process(
        &mut self,
        item: crate::value::Value,
        out: &mut Vec<crate::value::Value>,
    ) -> Result<()> {
        out.push(item);
        Ok(())
    }

    fn process_batch(
        &mut self,
        items: &mut Vec<crate::value::Value>,
        out: &mut Vec<crate::value::Value>,
    ) -> Result<()> {
        crate::node::move_all(items, out);
        Ok(())
    }

    /// One output an item: the items' origins are the outputs', moved with them.
    fn process_batch_traced(
        &mut self,
        items: &mut Vec<crate::value::Value>,
        item_origins: &mut Vec<u64>,
        out: &mut Vec<crate::value::Value>,
        origins: &mut Vec<u64>,
    ) -> Result<()> {
        crate::node::move_all(items, out);
        crate::node::move_all(item_origins, origins);
        Ok(())
    }

    /// It finishes each call at once.
    fn may_resume(&mut self) -> bool {
        false
    }
}
