//! Maps and short lists whose last holder was done with them, kept on the thread for the next
//! ones it reads.
//!
//! Reading object lines makes a map per line (its `Arc` and its entries: two allocations) and
//! often a short list or two, and a stream drops each once its output is written, on the same
//! thread that reads the next line (`pipeline run` reads, runs and writes a fused pipeline on one
//! thread, and every output batch comes back there). Glibc's malloc and free of those blocks cost
//! about as much as reading the line's numbers. So a written batch's maps and lists that nobody
//! else holds are kept here (maps emptied; lists as they are, by length, their items replaced
//! when one is filled again), and the JSON reader fills them again.
//!
//! The strings among those values (a name, an id: each line's own, so no cache shares them) are
//! kept by length the same way, and a string of that length read later is copied into one: a
//! string is a `malloc` and a `free` too, and a batch's worth of them, freed together and
//! allocated together, overflows glibc's per-thread cache (a slow `malloc` of ~120 instructions
//! each).
//!
//! Only small ones are kept (maps with room for at most [`MAX_POOLED_ENTRIES`] entries, lists of
//! at most [`MAX_POOLED_LIST`] items, strings of at most [`MAX_POOLED_STRING`] bytes), at most
//! [`MAX_POOLED`] of each kind and length (a batch of object lines, 32 KiB of text, is ~600
//! maps), the values of a batch's maps one level down: at worst ~1.7 MB of empty maps and short
//! lists and ~2 MB of strings per thread, and none unless the thread handed back output batches
//! holding maps, lists or strings.

use super::{Map, Value};
use std::cell::RefCell;
use std::sync::Arc;

/// The most maps, and the most lists of each length, a thread keeps.
pub const MAX_POOLED: usize = 1024;
/// The most entries of room a kept map may have (larger ones are freed).
pub const MAX_POOLED_ENTRIES: usize = 16;
/// The longest list kept (longer ones are freed).
pub const MAX_POOLED_LIST: usize = 8;
/// The longest string kept, in bytes (longer ones are freed).
pub const MAX_POOLED_STRING: usize = 32;

/// A thread's kept maps (empty), lists (`lists[n - 1]` holds lists of `n` items) and strings
/// (`strings[n - 1]` holds strings of `n` bytes).
struct Pool {
    maps: Vec<Arc<Map>>,
    lists: [Vec<Arc<[Value]>>; MAX_POOLED_LIST],
    strings: [Vec<Arc<str>>; MAX_POOLED_STRING],
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            maps: Vec::new(),
            lists: [const { Vec::new() }; MAX_POOLED_LIST],
            strings: [const { Vec::new() }; MAX_POOLED_STRING],
        })
    };
}

impl Pool {
    /// Keeps `map` if it is small and no one else holds it, emptied, and the lists among its
    /// values (one level: no recursion into deep values).
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
        for (_, value) in entries.drain() {
            match value {
                Value::List(list) => self.keep_list(list),
                Value::Str(string) => self.keep_string(string),
                _ => {}
            }
        }
        self.maps.push(map);
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

/// `text` as a string no one else holds: a kept one of its length when this thread has one,
/// else a new one.
#[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
pub(super) fn string_of(text: &str) -> Arc<str> {
    let len = text.len();
    let kept = match len {
        1..=MAX_POOLED_STRING => POOL.with_borrow_mut(|pool| pool.strings[len - 1].pop()),
        _ => None,
    };
    match kept {
        // Kept only while no one else held it, and no one can have taken it since.
        Some(mut string) => match Arc::get_mut(&mut string) {
            Some(room) => {
                // SAFETY: `room` is `len` bytes, which `text` (valid UTF-8, `len` bytes) replaces
                // whole, so it stays valid UTF-8.
                unsafe { room.as_bytes_mut() }.copy_from_slice(text.as_bytes());
                string
            }
            None => Arc::from(text),
        },
        None => Arc::from(text),
    }
}

/// An empty map no one else holds: a kept one when this thread has one, else a new one.
#[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
pub(super) fn empty_map() -> Arc<Map> {
    POOL.with_borrow_mut(|pool| pool.maps.pop())
        .unwrap_or_else(|| Arc::new(Map::new()))
}

/// A list of the `items` drained, in a kept list of that length when this thread has one.
#[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
pub(super) fn list_of(items: std::vec::Drain<'_, Value>) -> Arc<[Value]> {
    let len = items.len();
    let kept = match len {
        1..=MAX_POOLED_LIST => POOL.with_borrow_mut(|pool| pool.lists[len - 1].pop()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pooled() -> (usize, usize) {
        POOL.with_borrow(|pool| (pool.maps.len(), pool.lists.iter().map(Vec::len).sum()))
    }

    #[test]
    fn only_small_values_no_one_else_holds_are_kept_and_maps_come_back_empty() {
        let shared = Value::map([("kept elsewhere", Value::Int(1))]);
        let shared_list = Value::List(Arc::from([Value::Int(7)]));
        let mut written = vec![
            Value::map([
                ("a", Value::Int(1)),
                (
                    "tags",
                    Value::List(Arc::from([Value::from("x"), Value::Int(2)])),
                ),
            ]),
            shared.clone(),
            shared_list.clone(),
            Value::Int(3),
            Value::map((0..40).map(|k| (k.to_string(), Value::Int(k)))),
            Value::List((0..20).map(Value::Int).collect()),
        ];
        recycle_values(&mut written);
        assert!(written.is_empty());
        assert_eq!(
            pooled(),
            (1, 1),
            "the small unshared map and the list inside it"
        );
        assert_eq!(shared.get("kept elsewhere"), Some(&Value::Int(1)));
        assert_eq!(shared_list, Value::List(Arc::from([Value::Int(7)])));
        let mut again = empty_map();
        assert!(again.is_empty());
        assert!(Arc::get_mut(&mut again).is_some(), "no one else holds it");
        assert!(again.capacity() >= 2, "its room is kept");
        let mut items = vec![Value::Int(5), Value::from("y")];
        let list = list_of(items.drain(..));
        assert_eq!(&*list, &[Value::Int(5), Value::from("y")]);
        assert_eq!(pooled(), (0, 0));
        let mut three = vec![Value::Null; 3];
        assert_eq!(
            list_of(three.drain(..)).len(),
            3,
            "no kept list of three: a new one"
        );
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
