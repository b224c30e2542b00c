//! The shape of the last object line's outermost map: its keys in the order the text gave them,
//! and where each goes in key order. The lines of a JSON-lines stream mostly have the same keys in
//! the same order, so the reader compares the next line's keys with these and, while they agree,
//! writes each value straight into its place in a map kept with these keys
//! ([`map_pool`](super::map_pool)): no key cloned or dropped, no buffer of entries to move, no
//! sorting, no check for repeated keys (a shape has none, and keys that agree with it in order
//! cannot repeat).
//!
//! Only keys without a `"`, `\` or control character make a shape: for those, the text of the
//! JSON string is the key itself, so "the key's bytes followed by a `"`" is exactly the string
//! token the reader would have read.

use super::json_special::first_special;
use super::key_cache::same_bytes;
use super::Value;
use std::sync::Arc;

/// The most keys a shape has (a map with more is read the general way).
const MAX_KEYS: usize = 16;

/// The keys of a map as a text gave them (see the module doc).
#[derive(Default)]
pub(super) struct Shape {
    /// The keys in text order, each with its place in key order.
    text_order: Vec<(Arc<str>, usize)>,
    /// The same keys in key order: the keys of a map of this shape.
    sorted: Vec<Arc<str>>,
}

impl Shape {
    /// No keys (no allocation), for a `const` thread-local.
    pub(super) const fn new() -> Self {
        Shape {
            text_order: Vec::new(),
            sorted: Vec::new(),
        }
    }

    /// Whether there is no shape to compare a map with.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.text_order.is_empty()
    }

    /// How many keys.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.text_order.len()
    }

    /// The keys in key order.
    #[inline]
    pub(super) fn sorted(&self) -> &[Arc<str>] {
        &self.sorted
    }

    /// The key at `position` in text order and its place in key order.
    #[inline]
    pub(super) fn key(&self, position: usize) -> (&Arc<str>, usize) {
        let (key, place) = &self.text_order[position];
        (key, *place)
    }

    /// When `text` (just after a key's opening `"`) starts with the key at `position` and its
    /// closing `"`: that key's place in key order and the bytes the key's text takes.
    #[inline]
    pub(super) fn take(&self, position: usize, text: &[u8]) -> Option<(usize, usize)> {
        let (key, place) = self.text_order.get(position)?;
        let len = key.len();
        if text.get(len) != Some(&b'"') || !same_bytes(&text[..len], key.as_bytes()) {
            return None;
        }
        Some((*place, len + 1))
    }

    /// Becomes the shape of the map whose entries are `pairs` in text order; no shape when a key
    /// repeats or is not plain, or there are more than [`MAX_KEYS`].
    pub(super) fn record(&mut self, pairs: &[(Arc<str>, Value)]) {
        self.text_order.clear();
        self.sorted.clear();
        if pairs.len() > MAX_KEYS
            || pairs
                .iter()
                .any(|(key, _)| first_special(key.as_bytes()).is_some())
        {
            return;
        }
        self.sorted
            .extend(pairs.iter().map(|(key, _)| Arc::clone(key)));
        self.sorted.sort_unstable();
        if self.sorted.windows(2).any(|pair| pair[0] == pair[1]) {
            self.sorted.clear();
            return;
        }
        for (key, _) in pairs {
            if let Some(place) = self.sorted.iter().position(|k| Arc::ptr_eq(k, key)) {
                self.text_order.push((Arc::clone(key), place));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(keys: &[&str]) -> Vec<(Arc<str>, Value)> {
        keys.iter().map(|k| (Arc::from(*k), Value::Null)).collect()
    }

    #[test]
    fn a_shape_places_each_key_in_key_order() {
        let mut shape = Shape::new();
        shape.record(&pairs(&["name", "id", "tags"]));
        assert_eq!(shape.len(), 3);
        let sorted: Vec<&str> = shape.sorted().iter().map(|k| &**k).collect();
        assert_eq!(sorted, ["id", "name", "tags"]);
        assert_eq!(shape.take(0, b"name\":1"), Some((1, 5)));
        assert_eq!(shape.take(1, b"id\":1"), Some((0, 3)));
        assert_eq!(shape.take(2, b"tags\":1"), Some((2, 5)));
        assert_eq!(shape.key(2).1, 2);
        // Another key, a longer one, the end of the text, a place past the shape: no.
        for (position, text) in [
            (0, &b"nome\":1"[..]),
            (0, b"names\":"),
            (0, b"name"),
            (3, b"x\""),
        ] {
            assert_eq!(shape.take(position, text), None, "{text:?}");
        }
    }

    #[test]
    fn repeated_keys_keys_with_escapes_and_many_keys_make_no_shape() {
        let mut shape = Shape::new();
        let many: Vec<String> = (0..=MAX_KEYS).map(|k| format!("k{k}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        for keys in [
            &["a", "b", "a"][..],
            &["a\"b"],
            &["a\\b"],
            &["a\nb"],
            &many,
            &[],
        ] {
            shape.record(&pairs(&["x"]));
            assert!(!shape.is_empty());
            shape.record(&pairs(keys));
            assert!(shape.is_empty(), "{keys:?}");
            assert!(shape.sorted().is_empty(), "{keys:?}");
        }
    }
}
