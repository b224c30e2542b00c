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

use std::cell::RefCell;
use std::sync::Arc;

/// Keys longer than this are not kept (they are rarely repeated keys).
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

/// One direct-mapped table, its slots allocated on first use.
struct Table(Vec<Slot>);

impl Table {
    const fn new() -> Self {
        Table(Vec::new())
    }

    fn share(&mut self, text: &str) -> Arc<str> {
        if self.0.is_empty() {
            self.0.resize_with(SLOTS, Slot::default);
        }
        // Two slots a string may be in, so two strings of the same slot both stay.
        let hash = hash_of(text.as_bytes());
        let pair = slot_of(hash) & !1;
        let slots = &mut self.0[pair..pair + 2];
        for slot in slots.iter_mut() {
            if let Some(kept) = &slot.text {
                if slot.hash == hash && **kept == *text {
                    slot.found = true;
                    return Arc::clone(kept);
                }
            }
        }
        let shared: Arc<str> = Arc::from(text);
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
    static KEYS: RefCell<Table> = const { RefCell::new(Table::new()) };
    static STRINGS: RefCell<Table> = const { RefCell::new(Table::new()) };
}

/// The key `text` as an `Arc<str>`, shared with earlier keys of the same text on this thread.
pub(crate) fn key(text: &str) -> Arc<str> {
    if text.len() > MAX_KEY_BYTES {
        return Arc::from(text);
    }
    KEYS.with(|keys| keys.borrow_mut().share(text))
}

/// The string value `text` as an `Arc<str>`, shared with earlier values of the same text on this
/// thread when it is short.
pub(crate) fn string(text: &str) -> Arc<str> {
    if text.len() > MAX_STRING_BYTES {
        return Arc::from(text);
    }
    STRINGS.with(|strings| strings.borrow_mut().share(text))
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
        assert!(KEYS.with(|keys| keys.borrow().0.len()) <= SLOTS);
    }

    #[test]
    fn repeated_values_stay_shared_among_unique_ones() {
        let tag = string("tag");
        assert!(Arc::ptr_eq(&string("tag"), &tag));
        for i in 0..SLOTS * 8 {
            let unique = format!("item-{i}");
            assert_eq!(&*string(&unique), unique);
            assert!(Arc::ptr_eq(&string("tag"), &tag), "after {unique}");
        }
        let long = "v".repeat(MAX_STRING_BYTES + 1);
        assert!(!Arc::ptr_eq(&string(&long), &string(&long)));
        assert_eq!(&*string(""), "");
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
