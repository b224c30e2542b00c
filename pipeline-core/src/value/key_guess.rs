//! Guessing a map key before reading it: the lines of a JSON-lines stream mostly have the same
//! keys in the same order, so the key at a given depth and position of a map is most often the one
//! the last map there had. The reader compares the text with that key and, when it is there, takes
//! it (a shared `Arc<str>`) without scanning the string for escapes, hashing it and looking it up
//! in the [`key_cache`](super::key_cache).
//!
//! Only keys without a `"`, `\` or control character are guessed: for those, the text of the JSON
//! string is the key itself, so "the key's bytes followed by a `"`" is exactly the string token
//! the reader would have read. Only keys the key cache would share are kept.
//!
//! (Guessing short string values the same way was measured and does not pay: unique values miss
//! every time, and keeping each one as the next guess costs more than the hits save.)

use super::json_special::first_special;
use super::key_cache::{same_bytes, MAX_KEY_BYTES};
use std::sync::Arc;

/// Map depths (1 = the outermost map) whose keys are guessed.
const DEPTHS: usize = 4;
/// Positions within a map whose keys are guessed.
const POSITIONS: usize = 16;

/// The last plain key read at each depth and position of a map (see the module doc).
#[derive(Default)]
pub(super) struct KeyGuesses {
    /// `DEPTHS * POSITIONS` slots, allocated on first use.
    slots: Vec<Option<Arc<str>>>,
}

impl KeyGuesses {
    /// No slots yet (no allocation), for a `const` thread-local.
    pub(super) const fn new() -> Self {
        KeyGuesses { slots: Vec::new() }
    }

    fn slot(depth: u32, position: usize) -> Option<usize> {
        let depth = (depth as usize).checked_sub(1)?;
        (depth < DEPTHS && position < POSITIONS).then_some(depth * POSITIONS + position)
    }

    /// The key guessed for `depth` and `position` when `text` (just after the key's opening `"`)
    /// starts with it and its closing `"`: the key and the bytes those take.
    #[inline]
    pub(super) fn take(
        &self,
        depth: u32,
        position: usize,
        text: &[u8],
    ) -> Option<(Arc<str>, usize)> {
        let key = self.slots.get(Self::slot(depth, position)?)?.as_ref()?;
        let len = key.len();
        if text.get(len) != Some(&b'"') || !same_bytes(&text[..len], key.as_bytes()) {
            return None;
        }
        Some((Arc::clone(key), len + 1))
    }

    /// Keeps `key`, just read at `depth` and `position`, as the next guess there (when it is
    /// plain and short enough to be shared).
    #[inline]
    pub(super) fn remember(&mut self, depth: u32, position: usize, key: &Arc<str>) {
        let Some(slot) = Self::slot(depth, position) else {
            return;
        };
        if key.len() > MAX_KEY_BYTES || first_special(key.as_bytes()).is_some() {
            return;
        }
        if self.slots.is_empty() {
            self.slots.resize(DEPTHS * POSITIONS, None);
        }
        self.slots[slot] = Some(Arc::clone(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_key_is_guessed_only_where_its_text_is_the_whole_string() {
        let mut guesses = KeyGuesses::new();
        let name: Arc<str> = Arc::from("name");
        assert!(guesses.take(1, 0, b"name\":1").is_none());
        guesses.remember(1, 0, &name);
        let (key, taken) = guesses.take(1, 0, b"name\":1").unwrap();
        assert!(Arc::ptr_eq(&key, &name));
        assert_eq!(taken, 5);
        // A longer key, an escape, another key, the end of the text: not this key.
        for text in [
            &b"names\":1"[..],
            b"name\\\"\":1",
            b"nime\":1",
            b"name",
            b"nam",
        ] {
            assert!(guesses.take(1, 0, text).is_none(), "{text:?}");
        }
        // Other depths and positions have their own guesses.
        assert!(guesses.take(2, 0, b"name\":1").is_none());
        assert!(guesses.take(1, 1, b"name\":1").is_none());
    }

    #[test]
    fn long_keys_keys_with_escapes_and_places_past_the_table_are_not_kept() {
        let mut guesses = KeyGuesses::new();
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        for key in ["a\"b", "a\\b", "a\nb", &long] {
            guesses.remember(1, 0, &Arc::from(key));
            assert!(guesses.take(1, 0, format!("{key}\"").as_bytes()).is_none());
        }
        let key: Arc<str> = Arc::from("k");
        for (depth, position) in [(0, 0), (DEPTHS as u32 + 1, 0), (1, POSITIONS)] {
            guesses.remember(depth, position, &key);
            assert!(guesses.take(depth, position, b"k\"").is_none());
        }
    }
}
