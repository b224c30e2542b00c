//! How a run's outputs are handed back: a `Vec` for one output, a struct of `Vec`s for several.

/// The collected outputs of one run.
///
/// One output collects into `Vec<T>`; `pipeline!` generates a struct with one `Vec` per named output
/// (and an enum `Item` tagging each item with its output) for pipelines with several.
///
/// ```
/// use pipeline_core::runtime::Outputs;
/// let collected: Vec<i64> = Outputs::collect(vec![1, 2]);
/// assert_eq!(collected, [1, 2]);
/// ```
pub trait Outputs {
    /// One output item, tagged with its output when there are several.
    type Item;
    /// Sorts items into the collection.
    fn collect(items: Vec<Self::Item>) -> Self;
}

impl<T> Outputs for Vec<T> {
    type Item = T;
    #[inline]
    fn collect(items: Vec<T>) -> Self {
        items
    }
}
