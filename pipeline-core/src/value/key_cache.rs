//! Map keys shared across parsed values: a JSON-lines stream repeats the same few keys on every
//! line, so each parsing thread keeps the keys it has seen and hands out a clone of the same
//! `Arc<str>` (a reference count) instead of allocating each key again.

use crate::graph::fast_hash::FastHash;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// Keys longer than this are not kept (they are rarely repeated keys).
const MAX_KEY_BYTES: usize = 64;
/// Keys kept per thread; once full, new keys are allocated as before (bounded memory whatever
/// the input).
const MAX_KEYS: usize = 1024;

thread_local! {
    /// Hashed cheaply ([`FastHash`]): at most [`MAX_KEYS`] short keys, so colliding keys cost an
    /// input its own parsing time at worst.
    static KEYS: RefCell<HashMap<Box<str>, Arc<str>, FastHash>> = RefCell::new(HashMap::default());
}

/// The key `text` as an `Arc<str>`, shared with earlier keys of the same text on this thread.
pub(crate) fn key(text: &str) -> Arc<str> {
    if text.len() > MAX_KEY_BYTES {
        return Arc::from(text);
    }
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some(key) = keys.get(text) {
            return Arc::clone(key);
        }
        let key: Arc<str> = Arc::from(text);
        if keys.len() < MAX_KEYS {
            keys.insert(Box::from(text), Arc::clone(&key));
        }
        key
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_share_one_allocation_and_the_cache_stays_bounded() {
        let (a, b) = (key("name"), key("name"));
        assert!(Arc::ptr_eq(&a, &b));
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(!Arc::ptr_eq(&key(&long), &key(&long)));
        for i in 0..MAX_KEYS * 2 {
            assert_eq!(&*key(&format!("key{i}")), format!("key{i}"));
        }
        assert!(KEYS.with(|keys| keys.borrow().len()) <= MAX_KEYS);
    }
}
