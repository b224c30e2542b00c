//! The plain reader's names, read and made in one go from the 16 bytes where each starts: the same
//! two words tell where its closing quote is (eight bytes at a time, see
//! [`special_bytes`](super::plain_cursor::special_bytes)) and, with its length, *are* the name if
//! it is no longer than [`Name::INLINE`] bytes, as nearly all ids and types are: such a name is
//! made of the two words, with no allocation and no table.
//!
//! Longer names go through a table of those read so far, so that equal ones share one allocation
//! (connections name their ends by node ids; nodes repeat their types). Finding a name read
//! before costs a multiply and a compare of three words: no hashing of bytes, no string compare, no
//! slicing. Names past 16 bytes compare their text too.

use super::plain_cursor::{load16, plain_run, special_bytes};
use super::spare;
use crate::graph::fast_hash::FastHash;
use crate::graph::Name;
use std::cell::Cell;
use std::collections::HashSet;

/// Slots of the open-addressed table; at most [`NameTable::TABLED`] are filled, so a probe always
/// ends at an empty slot.
const SLOTS: usize = 128;

thread_local! {
    /// The list of tabled names, kept empty between reads on this thread.
    static SPARE: Cell<Vec<(Key, Name)>> = const { Cell::new(Vec::new()) };
}

/// The names read so far.
pub(crate) struct NameTable {
    /// The tabled names in the order first read, with their keys.
    known: Vec<(Key, Name)>,
    /// For each slot, the index + 1 in `known` of the name there (0: empty). Linear probing.
    slots: [u8; SLOTS],
    /// Names past the first [`NameTable::TABLED`]: a manifest of 100,000 nodes stays linear.
    many: HashSet<Name, FastHash>,
}

/// A name's length and its first 16 bytes (zero past its end).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Key {
    len: usize,
    words: [u64; 2],
}

impl Key {
    /// The longest name its key tells apart from every other without comparing text.
    const EXACT: usize = 16;

    /// Where a probe for this key starts.
    #[inline]
    fn slot(&self) -> usize {
        let mixed = (self.words[0] ^ self.words[1].rotate_left(29) ^ self.len as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> (64 - SLOTS.trailing_zeros())) as usize
    }
}

impl NameTable {
    /// How many names the table holds before the rest go to a hash set.
    pub(crate) const TABLED: usize = SLOTS / 2;

    pub(crate) fn new() -> NameTable {
        NameTable {
            known: spare::take(&SPARE),
            slots: [0; SLOTS],
            many: HashSet::default(),
        }
    }

    /// The string whose text starts at `start` of `text` (just past its opening quote) as a
    /// [`Name`]: the one read before with that text, else a new one; with the offset just past
    /// its closing quote. `None` if the string has an escape or a control character or does not
    /// end.
    #[inline]
    pub(crate) fn read(&mut self, text: &str, start: usize) -> Option<(Name, usize)> {
        let bytes = text.as_bytes();
        let [low, high] = load16(bytes, start);
        let (first, second) = (special_bytes(low), special_bytes(high));
        // The bytes below the `n`-th (`n` < 8) of a little-endian word.
        let below = |word: u64, n: u32| word & ((1u64 << (8 * n)) - 1);
        let (len, words) = if first != 0 {
            let len = first.trailing_zeros() / 8;
            (len as usize, [below(low, len), 0])
        } else if second != 0 {
            let len = second.trailing_zeros() / 8;
            (8 + len as usize, [low, below(high, len)])
        } else {
            // Past the end, `load16` pads with zero bytes, which stop the string: the text goes on.
            (16 + plain_run(&bytes[start + 16..]), [low, high])
        };
        if bytes.get(start + len) != Some(&b'"') {
            return None;
        }
        if len <= Name::INLINE {
            // Kept inline, made of the words just read: nothing to share.
            // SAFETY: the words are the text's `len` bytes from `start` (a `&str`, cut at ASCII
            // quotes: whole characters), with the bytes past them masked to zero.
            let name = unsafe { Name::from_words(words, len) };
            return Some((name, start + len + 1));
        }
        let key = Key { len, words };
        // Both ends are at ASCII quotes, so the range is whole characters.
        let name = || &text[start..start + len];
        Some((self.share(key, name), start + len + 1))
    }

    /// The long name `name()` (whose key is `key`) as a shared [`Name`]. Its text is only looked
    /// at to make a new one or to tell apart names with one key.
    #[inline]
    fn share<'t>(&mut self, key: Key, name: impl Fn() -> &'t str) -> Name {
        let mut slot = key.slot();
        loop {
            match self.slots[slot] {
                0 => break,
                k => {
                    let (known_key, known) = &self.known[usize::from(k) - 1];
                    if *known_key == key && (key.len <= Key::EXACT || **known == *name()) {
                        return Name::clone(known);
                    }
                }
            }
            slot = (slot + 1) % SLOTS;
        }
        let name = name();
        if self.known.len() < Self::TABLED {
            let new = Name::from(name);
            self.known.push((key, Name::clone(&new)));
            // `known` holds at most TABLED (< 255) names.
            self.slots[slot] = self.known.len() as u8;
            return new;
        }
        if let Some(known) = self.many.get(name) {
            return Name::clone(known);
        }
        let new = Name::from(name);
        self.many.insert(Name::clone(&new));
        new
    }

    /// How many distinct names are in the table and in the hash set.
    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        (self.known.len(), self.many.len())
    }
}

impl Drop for NameTable {
    fn drop(&mut self) {
        spare::give_back(&SPARE, std::mem::take(&mut self.known));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `a` and `b` are one name: equal, and one allocation unless kept inline.
    fn one_name(a: &Name, b: &Name) -> bool {
        a == b && (a.is_inline() || a.as_ptr() == b.as_ptr())
    }

    /// `text` quoted in a document at `at`, with `pad` bytes after it, read from there.
    fn share_in(names: &mut NameTable, text: &str, at: usize, pad: usize) -> Name {
        let doc = format!("{}\"{text}\"{}", "#".repeat(at), "~".repeat(pad));
        let (name, end) = names.read(&doc, at + 1).expect("a plain string");
        assert_eq!(end, at + text.len() + 2);
        name
    }

    #[test]
    fn equal_names_are_shared_wherever_they_stand_and_others_told_apart() {
        let mut names = NameTable::new();
        // Lengths around both word sizes, texts that differ in one byte anywhere, names at the
        // very end of the text (read without the bytes after them).
        let mut texts: Vec<String> = Vec::new();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 24, 40] {
            let base: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            texts.push(base.clone());
            for at in 0..len {
                let mut changed = base.clone().into_bytes();
                changed[at] = b'Z';
                texts.push(String::from_utf8(changed).expect("ascii"));
            }
        }
        texts.push("é".to_string());
        texts.push("éé".to_string());
        let first: Vec<Name> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| share_in(&mut names, t, i % 5, i % 3 * 9))
            .collect();
        for (i, (text, name)) in texts.iter().zip(&first).enumerate() {
            assert_eq!(&**name, text);
            for (at, pad) in [(0, 0), (3, 20), (i % 11, 1)] {
                assert!(
                    one_name(name, &share_in(&mut names, text, at, pad)),
                    "{text}"
                );
            }
        }
        let (tabled, hashed) = names.counts();
        let long = texts.iter().filter(|t| t.len() > Name::INLINE).count();
        assert_eq!(tabled + hashed, long);
    }

    #[test]
    fn strings_that_are_not_plain_or_do_not_end_are_refused() {
        let mut names = NameTable::new();
        for len in 0..40 {
            let text: String = (0..len).map(|i| ['a', 'é', ' '][i % 3]).collect();
            let doc = format!("\"{text}\"");
            assert_eq!(&*names.read(&doc, 1).expect("plain").0, text);
            assert!(names.read(&doc[..doc.len() - 1], 1).is_none(), "{doc}");
            for at in 0..text.chars().count() {
                for special in ['\\', '\n', '\u{1f}'] {
                    let mut bad: Vec<char> = text.chars().collect();
                    bad[at] = special;
                    let bad: String = bad.into_iter().collect();
                    assert!(names.read(&format!("\"{bad}\"   "), 1).is_none(), "{bad:?}");
                }
            }
        }
    }

    #[test]
    fn names_past_the_table_are_shared_through_the_set() {
        let mut names = NameTable::new();
        let long = |i: usize| format!("a_long_node_name_{i}");
        let first: Vec<Name> = (0..300)
            .map(|i| share_in(&mut names, &long(i), 2, 1))
            .collect();
        for (i, name) in first.iter().enumerate() {
            let again = share_in(&mut names, &long(i), 0, 0);
            assert!(!name.is_inline() && one_name(name, &again));
        }
        assert_eq!(names.counts(), (NameTable::TABLED, 300 - NameTable::TABLED));
    }
}
