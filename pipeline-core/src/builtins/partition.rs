use crate::error::Result;
use crate::node::{Emitter, Node, Ports};
use std::marker::PhantomData;

/// Splits a stream in two by a predicate: items for which it holds leave by port `true`, the
/// others by port `false` (`split.true -> evens; split.false -> odds;`). Unlike
/// [`Filter`](super::Filter), nothing is dropped unless a port is left unconnected.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut split = Partition::new(|x: &i64| x % 2 == 0);
/// let mut out = Vec::new();
/// for x in 1..=3 { split.process(x, &mut out).unwrap(); }
/// assert_eq!(out, [Partitioned::False(1), Partitioned::True(2), Partitioned::False(3)]);
/// ```
pub struct Partition<F, T> {
    predicate: F,
    _item: PhantomData<fn(T) -> T>,
}

impl<F: FnMut(&T) -> bool, T> Partition<F, T> {
    /// A node sending items where `predicate(&item)` holds to port `true`, the rest to `false`.
    pub fn new(predicate: F) -> Self {
        Partition {
            predicate,
            _item: PhantomData,
        }
    }
}

impl<F: Clone, T> Clone for Partition<F, T> {
    fn clone(&self) -> Self {
        Partition::<F, T> {
            predicate: self.predicate.clone(),
            _item: PhantomData,
        }
    }
}

impl<F: FnMut(&T) -> bool, T> Node for Partition<F, T> {
    type Input = T;
    type Output = Partitioned<T>;

    #[inline(always)]
    fn process<E: Emitter<Partitioned<T>> + ?Sized>(&mut self, item: T, out: &mut E) -> Result<()> {
        out.emit(if (self.predicate)(&item) {
            Partitioned::True(item)
        } else {
            Partitioned::False(item)
        })
    }

    fn one_to_one(&self) -> bool {
        true
    }
}

/// An item of a [`Partition`], tagged with its port: `true` or `false`.
///
/// ```
/// use pipeline_core::prelude::*;
/// assert_eq!(Partitioned::True(1).port_true(), Ok(1));
/// assert_eq!(Partitioned::True(1).port_false(), Err(Partitioned::True(1)));
/// assert_eq!(Partitioned::False(2).into_inner(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Partitioned<T> {
    /// The predicate held: port `true`.
    True(T),
    /// It did not: port `false`.
    False(T),
}

impl<T> Partitioned<T> {
    /// The item of port `true`, or the item back.
    #[inline(always)]
    pub fn port_true(self) -> std::result::Result<T, Self> {
        match self {
            Partitioned::True(item) => Ok(item),
            other => Err(other),
        }
    }

    /// The item of port `false`, or the item back.
    #[inline(always)]
    pub fn port_false(self) -> std::result::Result<T, Self> {
        match self {
            Partitioned::False(item) => Ok(item),
            other => Err(other),
        }
    }

    /// The item, whichever port it leaves by.
    pub fn into_inner(self) -> T {
        match self {
            Partitioned::True(item) | Partitioned::False(item) => item,
        }
    }
}

impl<T> Ports for Partitioned<T> {
    const NAMES: &'static [&'static str] = &["true", "false"];

    #[inline(always)]
    fn port(&self) -> usize {
        match self {
            Partitioned::True(_) => 0,
            Partitioned::False(_) => 1,
        }
    }
}

/// In a dynamic graph an item leaves as its plain value: the stage learns its port from the
/// node ([`DynNode::take_ports`](crate::dynamic::DynNode::take_ports)), not from the value.
///
/// ```
/// use pipeline_core::prelude::*;
/// use pipeline_core::value::IntoValue;
/// assert_eq!(Partitioned::False(4_i64).into_value(), Value::Int(4));
/// ```
impl<T: crate::value::IntoValue> crate::value::IntoValue for Partitioned<T> {
    const PORT: crate::graph::PortType = T::PORT;

    fn into_value(self) -> crate::value::Value {
        self.into_inner().into_value()
    }
}
