//! Where a node sends its outputs.

use crate::error::Result;

/// A sink for a node's outputs: the next node in a fused chain, a channel to another stage, or a
/// collecting `Vec`.
///
/// ```
/// use pipeline_core::{EmitFn, Emitter};
/// let mut seen = 0;
/// let mut sink = EmitFn::new(|x: i64| { seen += x; Ok(()) });
/// sink.emit(2).unwrap();
/// sink.emit(3).unwrap();
/// assert_eq!(seen, 5);
/// ```
pub trait Emitter<T> {
    /// Sends one item downstream; an error means the downstream failed and the caller should stop.
    fn emit(&mut self, item: T) -> Result<()>;
}

/// Collects everything emitted, handy in tests and at the end of a pipeline.
impl<T> Emitter<T> for Vec<T> {
    #[inline]
    fn emit(&mut self, item: T) -> Result<()> {
        self.push(item);
        Ok(())
    }
}

impl<T, E: Emitter<T> + ?Sized> Emitter<T> for &mut E {
    #[inline]
    fn emit(&mut self, item: T) -> Result<()> {
        (**self).emit(item)
    }
}

/// An emitter made of a closure; generated fused code chains nodes through these.
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut add = Calculator::add(1_i64);
/// let mut total = 0;
/// add.process(1, &mut EmitFn::new(|x| { total += x; Ok(()) })).unwrap();
/// assert_eq!(total, 2);
/// ```
pub struct EmitFn<F>(pub F);

impl<F> EmitFn<F> {
    /// Wraps `f`.
    #[inline]
    pub fn new(f: F) -> Self {
        EmitFn(f)
    }
}

impl<T, F: FnMut(T) -> Result<()>> Emitter<T> for EmitFn<F> {
    #[inline(always)]
    fn emit(&mut self, item: T) -> Result<()> {
        (self.0)(item)
    }
}
