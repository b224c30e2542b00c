//! The plain reader's table of the names it has read, so that equal ids and types share one
//! allocation (connections name their ends by node ids; nodes repeat their types).
//!
//! A name is read and looked up in one go from the 16 bytes where it starts: the same two words
//! tell where its closing quote is (eight bytes at a time, see
//! [`special_bytes`](super::plain_cursor::special_bytes)) and, with its length, *are* the name if
//! it is no longer than 16 bytes, as nearly all ids are. Finding a name read before costs a
//! multiply and a compare of three words: no hashing of bytes, no string compare, no slicing (the
//! string read and slot-and-scan table before cost ~190 instructions a name, callgrind). Longer
//! names compare their text too.

use super::plain_cursor::{load16, plain_run, special_bytes};
use super::spare;
use crate::builtin_specs::BUILTIN_SPECS;
use crate::graph::fast_hash::FastHash;
use crate::graph::Name;
use std::cell::Cell;
use std::collections::HashSet;
use std::sync::OnceLock;

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
        self.read_with(text, start, |_, name| Name::from(name))
    }

    /// [`read`](Self::read) for a node type's name: a built-in type's name new to the manifest is
    /// the process's one [`Name`] for it (see [`builtin_name`]) rather than an allocation of its
    /// own, made and freed with every manifest (~200 instructions a type, callgrind).
    #[inline]
    pub(crate) fn read_type(&mut self, text: &str, start: usize) -> Option<(Name, usize)> {
        self.read_with(text, start, |key, name| {
            builtin_name(key, name).unwrap_or_else(|| Name::from(name))
        })
    }

    /// [`read`](Self::read), a name new to the table made by `new` (from its key and text).
    #[inline]
    fn read_with(
        &mut self,
        text: &str,
        start: usize,
        new: impl FnOnce(Key, &str) -> Name,
    ) -> Option<(Name, usize)> {
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
        let key = Key { len, words };
        // Both ends are at ASCII quotes, so the range is whole characters.
        let name = || &text[start..start + len];
        Some((self.share(key, name, new), start + len + 1))
    }

    /// The name `name()` (whose key is `key`) as a shared [`Name`]. Its text is only looked at
    /// to make a new one (by `new`) or to tell apart long names with one key.
    #[inline]
    fn share<'t>(
        &mut self,
        key: Key,
        name: impl Fn() -> &'t str,
        new: impl FnOnce(Key, &str) -> Name,
    ) -> Name {
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
            let new = new(key, name);
            self.known.push((key, Name::clone(&new)));
            // `known` holds at most TABLED (< 255) names.
            self.slots[slot] = self.known.len() as u8;
            return new;
        }
        if let Some(known) = self.many.get(name) {
            return Name::clone(known);
        }
        let new = new(key, name);
        self.many.insert(Name::clone(&new));
        new
    }

    /// How many distinct names are in the table and in the hash set.
    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        (self.known.len(), self.many.len())
    }
}

impl Key {
    /// The key of `name`, as [`NameTable::read`] makes it of the name's text.
    fn of(name: &str) -> Key {
        let mut first = [0u8; 16];
        let head = &name.as_bytes()[..name.len().min(16)];
        first[..head.len()].copy_from_slice(head);
        let both = u128::from_le_bytes(first);
        Key {
            len: name.len(),
            words: [both as u64, (both >> 64) as u64],
        }
    }
}

/// The process's one [`Name`] for the built-in type (or alias) whose key is `key` and text
/// `name`, if there is one: made once, on first use, and never freed.
#[inline(never)]
fn builtin_name(key: Key, name: &str) -> Option<Name> {
    static NAMES: OnceLock<Vec<(Key, Name)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        BUILTIN_SPECS
            .iter()
            .flat_map(|spec| std::iter::once(spec.name).chain(spec.aliases.iter().copied()))
            .map(|name| (Key::of(name), Name::from(name)))
            .collect()
    });
    names
        .iter()
        .find(|(known, known_name)| {
            *known == key && (key.len <= Key::EXACT || **known_name == *name)
        })
        .map(|(_, known)| Name::clone(known))
}

impl Drop for NameTable {
    fn drop(&mut self) {
        spare::give_back(&SPARE, std::mem::take(&mut self.known));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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
                    Arc::ptr_eq(name, &share_in(&mut names, text, at, pad)),
                    "{text}"
                );
            }
        }
        let (tabled, hashed) = names.counts();
        assert_eq!(tabled + hashed, texts.len());
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
    fn builtin_type_names_are_the_process_s_own_and_others_new() {
        let text = r#""PassThrough" "CalculatorNode" "PassThrough" "Passthrough" "PassThrough""#;
        let mut names = NameTable::new();
        let pass = names.read_type(text, 1).unwrap().0;
        let calc = names.read_type(text, 15).unwrap().0;
        let again = names.read(text, 32).unwrap().0;
        let other = names.read_type(text, 46).unwrap().0;
        assert_eq!(
            (&*pass, &*calc, &*other),
            ("PassThrough", "CalculatorNode", "Passthrough")
        );
        // The same name in another manifest, type or not, is the same allocation.
        let mut next = NameTable::new();
        assert!(Arc::ptr_eq(&pass, &next.read_type(text, 60).unwrap().0));
        assert!(Arc::ptr_eq(&pass, &again));
        assert!(Arc::ptr_eq(
            &calc,
            &builtin_name(Key::of("CalculatorNode"), "CalculatorNode").unwrap()
        ));
        assert!(builtin_name(Key::of("Passthrough"), "Passthrough").is_none());
        // Every built-in name and alias is found by the key its text is read with.
        for spec in BUILTIN_SPECS {
            for name in std::iter::once(spec.name).chain(spec.aliases.iter().copied()) {
                let quoted = format!("\"{name}\"");
                let read = NameTable::new().read_type(&quoted, 1).unwrap().0;
                assert!(
                    Arc::ptr_eq(&read, &builtin_name(Key::of(name), name).unwrap()),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn names_past_the_table_are_shared_through_the_set() {
        let mut names = NameTable::new();
        let first: Vec<Name> = (0..300)
            .map(|i| share_in(&mut names, &format!("n{i}"), 2, 1))
            .collect();
        for (i, name) in first.iter().enumerate() {
            let again = share_in(&mut names, &format!("n{i}"), 0, 0);
            assert!(Arc::ptr_eq(name, &again));
        }
        assert_eq!(names.counts(), (NameTable::TABLED, 300 - NameTable::TABLED));
    }
}
