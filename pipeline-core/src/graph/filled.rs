//! Graph-sized vectors of one repeated value, allocated with `malloc` and filled, not zeroed by
//! the allocator.
//!
//! `vec![0; n]` asks for zeroed memory, and glibc's `calloc` skips the per-thread cache of small
//! blocks: building the benchmark's 10-node manifest made a dozen such vectors at ~300
//! instructions each, against ~60 for a cached `malloc` and a fill of a few words (callgrind).

/// `len` copies of `value`, like `vec![value; len]`.
pub(crate) fn filled<T: Clone>(value: T, len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    v.resize(len, value);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_len_copies() {
        assert_eq!(filled(0usize, 3), [0, 0, 0]);
        assert_eq!(filled(true, 0), Vec::<bool>::new());
    }
}
