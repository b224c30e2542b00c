//! Strings shared across parsed values: a JSON-lines stream repeats the same few map keys on
//! every line, and often the same short values (a tag, a kind, a status), so each parsing thread
//! keeps the ones it has seen and hands out a clone of the same `Arc<str>` (a reference count)
//! instead of allocating each again. Allocation is what an object line costs most: every one
//! saved is a `malloc` and a `free` (and, with a batch's items all alive at once, more than the
//! allocator's per-thread cache holds).
//!
//! Each table is two-way set-associative (a string's hash picks a pair of slots), which costs a
//! hash and a comparison or two, and holds a bounded number of short strings whatever the input.
//! A slot keeps a string that was found again over a new one (once: a "second chance"), so a
//! stream of unique values (ids, names) passing through the table does not push out the repeated
//! ones.

use super::map_pool::Pool;
use std::cell::RefCell;
use std::sync::Arc;

/// Keys longer than this are not kept (they are rarely repeated keys).
#[cfg(feature = "manifest-model")]
pub(super) const MAX_KEY_BYTES: usize = 64;
/// String values longer than this are not kept: long texts rarely repeat, and hashing and
/// comparing them would cost what the allocation does.
const MAX_STRING_BYTES: usize = 16;
/// Slots per table (a power of two): at most this many strings kept per thread and table.
const SLOTS: usize = 256;

#[derive(Default)]
struct Slot {
    text: Option<Arc<str>>,
    /// The hash of `text` ([`hash_of`]): most strings that share a pair of slots differ in it, so
    /// they are told apart without comparing their bytes (a `memcmp` call when their lengths are
    /// equal, as a stream's ids and names mostly are).
    hash: u64,
    /// Found again since it was stored (or since its last second chance).
    found: bool,
}

/// One two-way table, its slots allocated on first use.
pub(super) struct Table {
    slots: Vec<Slot>,
    /// For a table of values, by pair of slots, the hash of the last string not found there
    /// (allocated with the slots): a value is kept only when it comes a second time, so a
    /// stream's unique values (an id, a name per line) cost no slot, no reference count and no
    /// eviction, and go back to their thread's pool ([`map_pool`]) whole once written.
    missed: Option<Vec<u64>>,
}

impl Table {
    /// A table of string values: each kept the second time it comes. The JSON reader keeps one
    /// with its buffers (no thread-local to find per string).
    #[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
    pub(super) const fn values() -> Self {
        Table::new(true)
    }

    /// The string value `text` as an `Arc<str>`, shared with earlier values of the same text in
    /// this table when it is short (else in a string this thread kept, see [`map_pool`]).
    #[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
    #[inline]
    pub(super) fn value(&mut self, text: &str, pool: &mut Pool) -> Arc<str> {
        if text.len() > MAX_STRING_BYTES {
            return pool.string_of(text);
        }
        self.share(text, |text| pool.string_of(text))
    }

    /// A table keeping each string the first time (`patient` false) or the second.
    const fn new(patient: bool) -> Self {
        Table {
            slots: Vec::new(),
            missed: if patient { Some(Vec::new()) } else { None },
        }
    }

    /// `text` shared, made by `make` when it is not kept.
    fn share(&mut self, text: &str, make: impl FnOnce(&str) -> Arc<str>) -> Arc<str> {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, Slot::default);
            if let Some(missed) = &mut self.missed {
                missed.resize(SLOTS / 2, 0);
            }
        }
        // Two slots a string may be in, so two strings of the same slot both stay.
        let hash = hash_of(text.as_bytes());
        let pair = slot_of(hash) & !1;
        let slots = &mut self.slots[pair..pair + 2];
        for slot in slots.iter_mut() {
            if let Some(kept) = &slot.text {
                if slot.hash == hash
                    && kept.len() == text.len()
                    && same_bytes(kept.as_bytes(), text.as_bytes())
                {
                    slot.found = true;
                    return Arc::clone(kept);
                }
            }
        }
        let shared = make(text);
        if let Some(missed) = &mut self.missed {
            let last = &mut missed[pair / 2];
            if *last != hash {
                // Seen once (as far as this pair knows): not kept yet.
                *last = hash;
                return shared;
            }
        }
        // An empty slot first, else one whose string has not been found again.
        let free = match slots.iter().position(|slot| slot.text.is_none()) {
            Some(empty) => Some(empty),
            None => slots.iter().position(|slot| !slot.found),
        };
        match free.map(|k| &mut slots[k]) {
            Some(free) => {
                *free = Slot {
                    text: Some(Arc::clone(&shared)),
                    hash,
                    found: false,
                }
            }
            // Both kept strings have been used again: they stay, this one is not kept (unless
            // it comes again before they do).
            None => slots.iter_mut().for_each(|slot| slot.found = false),
        }
        shared
    }
}

/// The slot of a string of hash `hash`: its top bits, mixed once more.
#[inline]
fn slot_of(hash: u64) -> usize {
    const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
    (hash.wrapping_mul(MIX) >> (64 - SLOTS.trailing_zeros())) as usize
}

/// The hash of `bytes`: a multiplicative hash (folding the high half of each 128-bit product into
/// the low) over a few loads that cover every byte. Short strings, the ones kept, take one or two
/// loads, not a loop over their bytes.
#[inline]
fn hash_of(bytes: &[u8]) -> u64 {
    const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |hash: u64, word: u64| {
        let product = u128::from(hash ^ word) * u128::from(MIX);
        (product as u64) ^ ((product >> 64) as u64)
    };
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| {
        u64::from(u32::from_le_bytes(
            bytes[at..at + 4].try_into().expect("4 bytes"),
        ))
    };
    let len = bytes.len();
    match len {
        0 => 0,
        1..=3 => mix(
            len as u64,
            u64::from(bytes[0]) | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1]) << 16,
        ),
        4..=7 => mix(len as u64, half(0) | half(len - 4) << 32),
        _ => {
            // Each eight bytes, then the last eight (overlapping the ones before when `len` is
            // not a multiple of eight).
            let mut hash = len as u64;
            let mut at = 0;
            while at + 8 < len {
                hash = mix(hash, word(at));
                at += 8;
            }
            mix(hash, word(len - 8))
        }
    }
}

thread_local! {
    static KEYS: RefCell<Table> = const { RefCell::new(Table::new(false)) };
}

/// The key `text` as an `Arc<str>`, shared with earlier keys of the same text on this thread.
#[cfg(feature = "manifest-model")]
pub(crate) fn key(text: &str) -> Arc<str> {
    if text.len() > MAX_KEY_BYTES {
        return Arc::from(text);
    }
    KEYS.with(|keys| keys.borrow_mut().share(text, |text| Arc::from(text)))
}

/// `a == b` for slices of one length, in a few loads that together cover every byte (overlapping
/// when the length is not a multiple of theirs): keys are short, and a call to `memcmp` costs more
/// than comparing them.
#[inline(always)]
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let len = a.len();
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    match len {
        0 => true,
        1..=3 => a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4),
        _ => {
            let mut at = 0;
            while at + 8 < len {
                if word(a, at) != word(b, at) {
                    return false;
                }
                at += 8;
            }
            word(a, len - 8) == word(b, len - 8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_share_one_allocation_and_the_cache_stays_bounded() {
        let (a, b) = (key("name"), key("name"));
        assert!(Arc::ptr_eq(&a, &b));
        // Keys of one stream stay shared whichever slots they land in.
        let keys = [
            "id", "name", "tags", "value", "kind", "status", "ts", "user",
        ];
        let first: Vec<Arc<str>> = keys.iter().map(|k| key(k)).collect();
        for _ in 0..3 {
            for (k, kept) in keys.iter().zip(&first) {
                assert!(Arc::ptr_eq(&key(k), kept), "{k}");
            }
        }
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(!Arc::ptr_eq(&key(&long), &key(&long)));
        for i in 0..SLOTS * 4 {
            assert_eq!(&*key(&format!("key{i}")), format!("key{i}"));
        }
        assert!(KEYS.with(|keys| keys.borrow().slots.len()) <= SLOTS);
    }

    #[test]
    fn repeated_values_stay_shared_among_unique_ones() {
        let mut table = Table::values();
        let mut string =
            |text: &str| crate::value::map_pool::with_pool(|pool| table.value(text, pool));
        // A value seen once is not kept (no one else holds it); seen again, it is.
        let first = string("tag");
        assert_eq!(Arc::strong_count(&first), 1);
        let tag = string("tag");
        assert!(Arc::ptr_eq(&string("tag"), &tag));
        for i in 0..SLOTS * 8 {
            let unique = format!("item-{i}");
            let read = string(&unique);
            assert_eq!(&*read, unique);
            assert_eq!(Arc::strong_count(&read), 1, "{unique} is not kept");
            assert!(Arc::ptr_eq(&string("tag"), &tag), "after {unique}");
        }
        let long = "v".repeat(MAX_STRING_BYTES + 1);
        assert!(!Arc::ptr_eq(&string(&long), &string(&long)));
        assert_eq!(&*string(""), "");
    }

    #[test]
    fn same_bytes_compares_every_byte() {
        let a = b"0123456789abcdefghij";
        for len in 0..a.len() {
            assert!(same_bytes(&a[..len], &a[..len]));
            for at in 0..len {
                let mut b = a[..len].to_vec();
                b[at] ^= 1;
                assert!(!same_bytes(&a[..len], &b), "{len} {at}");
            }
        }
    }

    #[test]
    fn slots_spread_and_stay_in_range() {
        let used: std::collections::HashSet<usize> = (0..SLOTS)
            .map(|i| slot_of(hash_of(format!("b{i}").as_bytes())))
            .collect();
        assert!(used.len() > SLOTS / 2, "{} of {SLOTS} slots", used.len());
        assert!(used.iter().all(|&slot| slot < SLOTS));
    }
}
