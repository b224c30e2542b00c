//! Maps and short lists whose last holder was done with them, kept on the thread for the next
//! ones it reads.
//!
//! Reading object lines makes a map per line (its `Arc` and its entries: two allocations) and
//! often a short list or two, and a stream drops each once its output is written, on the same
//! thread that reads the next line (`pipeline run` reads, runs and writes a fused pipeline on one
//! thread, and every output batch comes back there). Glibc's malloc and free of those blocks cost
//! about as much as reading the line's numbers. So a written batch's maps and lists that nobody
//! else holds are kept here (lists as they are, by length, their items replaced when one is
//! filled again), and the JSON reader fills them again.
//!
//! A kept map keeps its keys and its small values (short strings, short lists of those, numbers):
//! the next line mostly has the same keys, and values of the same kinds and lengths, which the
//! reader writes over in place — a string's bytes, a list's items — so such a line makes,
//! keeps or looks up no string or list at all (300,000 object lines: −17% wall time, the same
//! memory used again while it is still in the cache). Other values are let go when the map is
//! kept, and a kept map read with other keys lets its values go first.
//!
//! Strings let go (a name, an id: each line's own, so no cache shares them) are kept by length
//! the same way, and a string of that length read later is copied into one: a string is a
//! `malloc` and a `free` too, and a batch's worth of them, freed together and allocated
//! together, overflows glibc's per-thread cache (a slow `malloc` of ~120 instructions each).
//!
//! Only small ones are kept (maps with room for at most [`MAX_POOLED_ENTRIES`] entries, lists of
//! at most [`MAX_POOLED_LIST`] items, strings of at most [`MAX_POOLED_STRING`] bytes), at most
//! [`MAX_POOLED`] of each kind and length (a batch of object lines, 32 KiB of text, is ~600
//! maps, and a staged run has several batches on their way through its stages), the values of a
//! batch's maps one level down: at worst ~1.4 MB of maps, ~20 MB of the small values kept maps
//! hold, ~2 MB of short lists and ~2 MB of strings per thread, and none unless the thread handed
//! back output batches holding maps, lists or strings. A pool that big keeps what a run has in
//! flight anyway, which glibc would otherwise hold for it: 300,000 object lines peaked at 15.3–16.6
//! MB staged and 11.9–12.0 MB fused, against 17.6–18.2 and 13.0–13.3 MB with a pool of 1,024.

use super::{Map, Value};
use std::cell::RefCell;
use std::sync::Arc;

/// The most maps, and the most lists and strings of each length, a thread keeps: 2,048, as many
/// maps as a staged run over object lines has in flight, mostly (300,000 object lines staged, 11
/// alternating runs: −6.9% against 1,024, which kept too few and left the rest to glibc).
pub const MAX_POOLED: usize = 2048;
/// The most entries of room a kept map may have (larger ones are freed).
pub const MAX_POOLED_ENTRIES: usize = 16;
/// The longest list kept (longer ones are freed).
pub const MAX_POOLED_LIST: usize = 8;
/// The longest string kept, in bytes (longer ones are freed).
pub const MAX_POOLED_STRING: usize = 32;

/// A thread's kept maps (values null), lists (`lists[n - 1]` holds lists of `n` items) and
/// strings (`strings[n - 1]` holds strings of `n` bytes).
pub(super) struct Pool {
    maps: Vec<Arc<Map>>,
    lists: [Vec<Arc<[Value]>>; MAX_POOLED_LIST],
    strings: [Vec<Arc<str>>; MAX_POOLED_STRING],
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool::new()) };
}

impl Pool {
    /// Nothing kept (no allocation).
    const fn new() -> Self {
        Pool {
            maps: Vec::new(),
            lists: [const { Vec::new() }; MAX_POOLED_LIST],
            strings: [const { Vec::new() }; MAX_POOLED_STRING],
        }
    }

    /// Keeps `map` if it is small and no one else holds it, with its keys and the values the
    /// next line of the same keys can be read into in place ([`reusable`]): ints, short strings,
    /// short lists of those. Any other value is let go (its list or string kept here, one level:
    /// no recursion into deep values). The keys stay so that the next line of the same keys fills
    /// the map in place without a key cloned or dropped ([`Map::set_keys`]).
    fn keep_map(&mut self, mut map: Arc<Map>) {
        if self.maps.len() >= MAX_POOLED {
            return;
        }
        let Some(entries) = Arc::get_mut(&mut map) else {
            return;
        };
        if entries.capacity() > MAX_POOLED_ENTRIES {
            return;
        }
        for value in entries.values_mut() {
            if !reusable(value) {
                let value = std::mem::take(value);
                self.keep_value(value);
            }
        }
        self.maps.push(map);
    }

    /// Keeps `value` if it is a list or a string this pool keeps; drops it otherwise.
    #[inline]
    pub(super) fn keep_value(&mut self, value: Value) {
        match value {
            Value::List(list) => self.keep_list(list),
            Value::Str(string) => self.keep_string(string),
            _ => {}
        }
    }

    /// Lets go of every value of `map` (a kept one about to be filled another way), keeping its
    /// lists and strings here.
    #[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
    pub(super) fn release_values(&mut self, map: &mut Map) {
        for value in map.values_mut() {
            let value = std::mem::take(value);
            self.keep_value(value);
        }
    }

    /// Keeps `string` if it is short and no one else holds it.
    #[inline]
    fn keep_string(&mut self, mut string: Arc<str>) {
        let len = string.len();
        if !(1..=MAX_POOLED_STRING).contains(&len) {
            return;
        }
        let kept = &mut self.strings[len - 1];
        if kept.len() < MAX_POOLED && Arc::get_mut(&mut string).is_some() {
            kept.push(string);
        }
    }

    /// Keeps `list` if it is short and no one else holds it.
    #[inline]
    fn keep_list(&mut self, mut list: Arc<[Value]>) {
        let len = list.len();
        if !(1..=MAX_POOLED_LIST).contains(&len) {
            return;
        }
        let kept = &mut self.lists[len - 1];
        if kept.len() < MAX_POOLED && Arc::get_mut(&mut list).is_some() {
            kept.push(list);
        }
    }
}

/// Drops `values` (leaving the vector empty, its room kept), keeping the small maps, lists and
/// strings among them (and inside their maps) that no one else holds, for this thread's JSON
/// reader.
///
/// ```
/// use pipeline_core::Value;
/// let mut written = vec![Value::map([("a", Value::Int(1))]), Value::Int(2)];
/// pipeline_core::value::recycle_values(&mut written);
/// assert!(written.is_empty());
/// ```
pub fn recycle_values(values: &mut Vec<Value>) {
    if values.iter().all(owns_nothing) {
        // A batch of numbers (the common case): `clear` would call `Value`'s drop, out of line,
        // once per value to do nothing (callgrind: 6 of the ~150 instructions an int line costs
        // the run's thread).
        // SAFETY: every value owns nothing (see `owns_nothing`): forgetting them drops nothing
        // that needed dropping, and `set_len(0)` only shortens the vector.
        unsafe { values.set_len(0) };
        return;
    }
    if !values
        .iter()
        .any(|v| matches!(v, Value::Map(_) | Value::List(_) | Value::Str(_)))
    {
        values.clear();
        return;
    }
    POOL.with_borrow_mut(|pool| {
        for value in values.drain(..) {
            match value {
                Value::Map(map) => pool.keep_map(map),
                Value::List(list) => pool.keep_list(list),
                Value::Str(string) => pool.keep_string(string),
                _ => {}
            }
        }
    });
}

/// Whether a kept map may keep `value` for the next line to be read into: a scalar, a string of
/// at most [`MAX_POOLED_STRING`] bytes, or a list of at most [`MAX_POOLED_LIST`] of those (so a
/// kept map holds at most 16 lists of 8 strings of 32 bytes: ~9.5 KB).
fn reusable(value: &Value) -> bool {
    let small = |value: &Value| match value {
        Value::Str(string) => string.len() <= MAX_POOLED_STRING,
        other => owns_nothing(other),
    };
    match value {
        Value::List(items) => items.len() <= MAX_POOLED_LIST && items.iter().all(small),
        other => small(other),
    }
}

/// Whether dropping `value` does nothing: no variant added later is taken for one by mistake (the
/// match names every variant).
fn owns_nothing(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => true,
        Value::Str(_) | Value::Bytes(_) | Value::List(_) | Value::Map(_) => false,
    }
}

/// This thread's kept maps, lists and strings, for `read` (the JSON reader, which takes them
/// from there for a whole text rather than finding the thread's pool for each); an empty pool if
/// they are already lent out (a read inside a read, which does not happen).
#[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
pub(super) fn with_pool<R>(read: impl FnOnce(&mut Pool) -> R) -> R {
    POOL.with(|pool| match pool.try_borrow_mut() {
        Ok(mut pool) => read(&mut pool),
        Err(_) => read(&mut Pool::new()),
    })
}

#[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
impl Pool {
    /// `text` as a string no one else holds: a kept one of its length when there is one, else a
    /// new one.
    #[inline]
    pub(super) fn string_of(&mut self, text: &str) -> Arc<str> {
        let len = text.len();
        let kept = match len {
            1..=MAX_POOLED_STRING => self.strings[len - 1].pop(),
            _ => None,
        };
        match kept {
            // Kept only while no one else held it, and no one can have taken it since.
            Some(mut string) => match Arc::get_mut(&mut string) {
                Some(room) => {
                    // SAFETY: `room` is `len` bytes, which `text` (valid UTF-8, `len` bytes)
                    // replaces whole, so it stays valid UTF-8.
                    unsafe { room.as_bytes_mut() }.copy_from_slice(text.as_bytes());
                    string
                }
                None => Arc::from(text),
            },
            None => Arc::from(text),
        }
    }

    /// A map no one else holds, its values all [`Value::Null`]: a kept one (with the keys it
    /// had) when there is one, else a new, empty one.
    #[inline]
    pub(super) fn kept_map(&mut self) -> Arc<Map> {
        self.maps.pop().unwrap_or_else(|| Arc::new(Map::new()))
    }

    /// A list of the `items` drained, in a kept list of that length when there is one.
    pub(super) fn list_of(&mut self, items: std::vec::Drain<'_, Value>) -> Arc<[Value]> {
        let len = items.len();
        let kept = match len {
            1..=MAX_POOLED_LIST => self.lists[len - 1].pop(),
            _ => None,
        };
        match kept {
            // Kept only while no one else held it, and no one can have taken it since.
            Some(mut list) => match Arc::get_mut(&mut list) {
                Some(slots) => {
                    for (slot, item) in slots.iter_mut().zip(items) {
                        *slot = item;
                    }
                    list
                }
                None => items.collect(),
            },
            None => items.collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pooled() -> (usize, usize) {
        POOL.with_borrow(|pool| (pool.maps.len(), pool.lists.iter().map(Vec::len).sum()))
    }

    #[test]
    fn only_small_values_no_one_else_holds_are_kept_and_maps_keep_their_small_values() {
        let shared = Value::map([("kept elsewhere", Value::Int(1))]);
        let shared_list = Value::List(Arc::from([Value::Int(7)]));
        let mut written = vec![
            Value::map([
                ("a", Value::Int(1)),
                ("long", Value::List((0..20).map(Value::Int).collect())),
                ("name", Value::from("x")),
                (
                    "tags",
                    Value::List(Arc::from([Value::from("x"), Value::Int(2)])),
                ),
                ("text", Value::from("t".repeat(MAX_POOLED_STRING + 1))),
            ]),
            shared.clone(),
            shared_list.clone(),
            Value::Int(3),
            Value::map((0..40).map(|k| (k.to_string(), Value::Int(k)))),
            Value::List((0..20).map(Value::Int).collect()),
            Value::List(Arc::from([Value::Int(5), Value::from("z")])),
        ];
        recycle_values(&mut written);
        assert!(written.is_empty());
        assert_eq!(
            pooled(),
            (1, 1),
            "the small unshared map, and the short list on its own"
        );
        assert_eq!(shared.get("kept elsewhere"), Some(&Value::Int(1)));
        assert_eq!(shared_list, Value::List(Arc::from([Value::Int(7)])));
        let mut again = with_pool(|pool| pool.kept_map());
        let keys: Vec<&str> = again.keys().map(|k| &**k).collect();
        assert_eq!(
            keys,
            ["a", "long", "name", "tags", "text"],
            "its keys are kept"
        );
        let values: Vec<&Value> = again.values().collect();
        assert_eq!(
            values,
            [
                &Value::Int(1),
                &Value::Null,
                &Value::from("x"),
                &Value::List(Arc::from([Value::from("x"), Value::Int(2)])),
                &Value::Null,
            ],
            "its small values stay, for the next line to be read into; the long ones do not"
        );
        assert!(Arc::get_mut(&mut again).is_some(), "no one else holds it");
        assert!(again.capacity() >= 5, "its room is kept");
        with_pool(|pool| pool.release_values(Arc::get_mut(&mut again).unwrap()));
        assert!(again.values().all(|v| *v == Value::Null));
        assert_eq!(pooled(), (0, 2), "released: its list is kept on its own");
        let mut items = vec![Value::Int(6), Value::from("y")];
        let list = with_pool(|pool| pool.list_of(items.drain(..)));
        assert_eq!(&*list, &[Value::Int(6), Value::from("y")]);
        assert_eq!(pooled(), (0, 1));
        let mut three = vec![Value::Null; 3];
        assert_eq!(
            with_pool(|pool| pool.list_of(three.drain(..))).len(),
            3,
            "no kept list of three: a new one"
        );
    }

    #[test]
    fn a_batch_of_numbers_is_emptied_and_shared_bytes_among_them_are_let_go() {
        let mut numbers = vec![
            Value::Int(1),
            Value::Float(2.5),
            Value::Null,
            Value::Bool(true),
        ];
        let room = numbers.capacity();
        recycle_values(&mut numbers);
        assert!(numbers.is_empty());
        assert_eq!(numbers.capacity(), room);
        // Bytes own their payload: they are dropped, not forgotten with the numbers.
        let bytes: Arc<[u8]> = Arc::from(&b"payload"[..]);
        let mut mixed = vec![Value::Int(1), Value::Bytes(bytes.clone()), Value::Int(2)];
        assert_eq!(Arc::strong_count(&bytes), 2);
        recycle_values(&mut mixed);
        assert!(mixed.is_empty());
        assert_eq!(Arc::strong_count(&bytes), 1);
    }

    #[test]
    fn the_pool_stops_at_its_limit() {
        let mut written: Vec<Value> = (0..MAX_POOLED + 10)
            .map(|k| Value::map([("k", Value::Int(k as i64))]))
            .collect();
        recycle_values(&mut written);
        assert_eq!(pooled(), (MAX_POOLED, 0));
    }
}
