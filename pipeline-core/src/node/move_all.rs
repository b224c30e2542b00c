//! Moving a batch between buffers without touching its items.

/// Moves every item of `from` to the end of `to`, leaving `from` empty.
///
/// When `to` is empty the two buffers are swapped, so a batch changes hands in O(1) and both
/// allocations are kept for reuse; otherwise the items are appended.
///
/// ```
/// use pipeline_core::node::move_all;
/// let (mut from, mut to) = (vec![1, 2], Vec::new());
/// move_all(&mut from, &mut to);
/// assert_eq!((from.len(), to.as_slice()), (0, &[1, 2][..]));
/// let mut more = vec![3];
/// move_all(&mut more, &mut to);
/// assert_eq!(to, [1, 2, 3]);
/// ```
#[inline]
pub fn move_all<T>(from: &mut Vec<T>, to: &mut Vec<T>) {
    if to.is_empty() {
        std::mem::swap(from, to);
    } else {
        to.append(from);
    }
}
