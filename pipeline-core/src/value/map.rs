//! [`Map`]: the string-keyed map inside [`Value::Map`](super::Value::Map), kept as one vector of
//! entries sorted by key.
//!
//! An object line's map is built once, read a few times and dropped; a B-tree spends a ~460-byte
//! node and its bookkeeping on four keys. A sorted vector holds the same entries in one allocation
//! sized to them, iterates in the same key order (so every output is byte-for-byte what a
//! `BTreeMap` gave), and finds a key by binary search. Inserting in the middle moves the entries
//! after it, which is fine for the small maps items are; a map built from many pairs is sorted
//! once ([`FromIterator`], [`Extend`]), not inserted into one pair at a time.

use super::Value;
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A map with string keys, iterated in key order (byte order of the keys, like `BTreeMap<String,
/// _>`), with the parts of `BTreeMap`'s API items need.
///
/// ```
/// use pipeline_core::value::Map;
/// use pipeline_core::Value;
/// let mut map: Map = [("b", Value::Int(2)), ("a", Value::Int(1))].into_iter().collect();
/// map.insert("c", Value::Int(3));
/// assert_eq!(map.keys().map(|k| &**k).collect::<Vec<_>>(), ["a", "b", "c"]);
/// assert_eq!(map["b"], Value::Int(2));
/// assert_eq!(map.remove("a"), Some(Value::Int(1)));
/// assert_eq!(map.len(), 2);
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Map<V = Value> {
    /// Sorted by key, no key twice.
    entries: Vec<(Arc<str>, V)>,
}

impl<V> Map<V> {
    /// An empty map (no allocation).
    ///
    /// ```
    /// let map = pipeline_core::value::Map::<i32>::new();
    /// assert!(map.is_empty());
    /// ```
    pub const fn new() -> Self {
        Map {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `capacity` entries.
    ///
    /// ```
    /// let map = pipeline_core::value::Map::<i32>::with_capacity(4);
    /// assert_eq!(map.len(), 0);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Map {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// A map of `entries` in any order; a repeated key keeps its last value (like `BTreeMap` and
    /// serde_json). The entries are sorted in place: the map keeps `entries`' allocation.
    pub(crate) fn from_unsorted(mut entries: Vec<(Arc<str>, V)>) -> Self {
        sort_and_dedup(&mut entries);
        Map { entries }
    }

    /// Refills this (empty) map with `entries` in any order, as
    /// [`from_unsorted`](Self::from_unsorted) makes one, in the room it has.
    #[cfg(feature = "manifest-model")]
    pub(crate) fn refill_from_unsorted(&mut self, entries: impl Iterator<Item = (Arc<str>, V)>) {
        debug_assert!(self.entries.is_empty());
        self.entries.extend(entries);
        sort_and_dedup(&mut self.entries);
    }

    /// Makes the keys exactly `keys` (strictly ascending): a map that has them already (the
    /// same `Arc`s) keeps its values, so a map kept with its keys is filled again without a key
    /// cloned or dropped; any other has its values handed to `release` and then holds `keys`,
    /// each with a `blank` value.
    #[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
    pub(crate) fn set_keys(
        &mut self,
        keys: &[Arc<str>],
        blank: impl Fn() -> V,
        mut release: impl FnMut(V),
    ) {
        debug_assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
        let same = self.entries.len() == keys.len()
            && self
                .entries
                .iter()
                .zip(keys)
                .all(|((had, _), key)| Arc::ptr_eq(had, key));
        if !same {
            self.entries.drain(..).for_each(|(_, value)| release(value));
            self.entries
                .extend(keys.iter().map(|key| (Arc::clone(key), blank())));
        }
    }

    /// The value at place `at` in key order, to change in place.
    #[cfg_attr(not(feature = "manifest-model"), allow(dead_code))] // the JSON reader's
    pub(crate) fn value_at_mut(&mut self, at: usize) -> &mut V {
        &mut self.entries[at].1
    }

    /// Room for how many entries the map has without reallocating.
    pub(crate) fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// A map of entries the caller already holds strictly ascending by key (checked in debug
    /// builds).
    pub(crate) fn from_sorted(entries: Vec<(Arc<str>, V)>) -> Self {
        debug_assert!(entries.windows(2).all(|pair| pair[0].0 < pair[1].0));
        Map { entries }
    }

    /// Where `key` is (`Ok`) or would go (`Err`).
    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        Arc<str>: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries
            .binary_search_by(|(k, _)| Borrow::<Q>::borrow(k).cmp(key))
    }

    /// The number of entries.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// assert_eq!(Map::from([("a".into(), 1)]).len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    ///
    /// ```
    /// assert!(pipeline_core::value::Map::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let map = Map::from([("a".into(), 1)]);
    /// assert_eq!(map.get("a"), Some(&1));
    /// assert_eq!(map.get("b"), None);
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        Arc<str>: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| &self.entries[at].1)
    }

    /// The stored key and value of `key`.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let map = Map::from([("a".into(), 1)]);
    /// assert_eq!(map.get_key_value("a").map(|(k, v)| (&**k, *v)), Some(("a", 1)));
    /// ```
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&Arc<str>, &V)>
    where
        Arc<str>: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| {
            let (k, v) = &self.entries[at];
            (k, v)
        })
    }

    /// The value of `key`, to change in place.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let mut map = Map::from([("a".into(), 1)]);
    /// *map.get_mut("a").unwrap() += 1;
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        Arc<str>: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| &mut self.entries[at].1)
    }

    /// Whether `key` is in the map.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// assert!(Map::from([("a".into(), 1)]).contains_key("a"));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        Arc<str>: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`, in key order; returns the value it replaces.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let mut map = Map::new();
    /// assert_eq!(map.insert("a", 1), None);
    /// assert_eq!(map.insert("a", 2), Some(1));
    /// ```
    pub fn insert(&mut self, key: impl Into<Arc<str>>, value: V) -> Option<V> {
        let key = key.into();
        match self.find(&*key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    /// Takes `key` out; returns its value.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let mut map = Map::from([("a".into(), 1)]);
    /// assert_eq!(map.remove("a"), Some(1));
    /// assert!(map.is_empty());
    /// ```
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        Arc<str>: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Takes `key` out; returns the stored key and its value.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let mut map = Map::from([("a".into(), 1)]);
    /// assert_eq!(map.remove_entry("a").map(|(k, v)| (k.to_string(), v)), Some(("a".into(), 1)));
    /// ```
    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(Arc<str>, V)>
    where
        Arc<str>: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| self.entries.remove(at))
    }

    /// Keeps only the entries `keep` says yes to, in order.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let mut map = Map::from([("a".into(), 1), ("b".into(), 2)]);
    /// map.retain(|_, v| *v > 1);
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn retain(&mut self, mut keep: impl FnMut(&Arc<str>, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// Removes every entry.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let mut map = Map::from([("a".into(), 1)]);
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entries in key order.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let map = Map::from([("b".into(), 2), ("a".into(), 1)]);
    /// let pairs: Vec<(&str, i32)> = map.iter().map(|(k, v)| (&**k, *v)).collect();
    /// assert_eq!(pairs, [("a", 1), ("b", 2)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, V> {
        Iter(self.entries.iter())
    }

    /// The entries in key order, values changeable.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let mut map = Map::from([("a".into(), 1)]);
    /// map.iter_mut().for_each(|(_, v)| *v *= 10);
    /// assert_eq!(map["a"], 10);
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, V> {
        IterMut(self.entries.iter_mut())
    }

    /// The keys in order.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let map = Map::from([("b".into(), 2), ("a".into(), 1)]);
    /// assert_eq!(map.keys().map(|k| &**k).collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Arc<str>> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let map = Map::from([("b".into(), 2), ("a".into(), 1)]);
    /// assert_eq!(map.values().copied().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in key order, changeable.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let mut map = Map::from([("a".into(), 1)]);
    /// map.values_mut().for_each(|v| *v += 1);
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// The entry with the smallest key.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let map = Map::from([("b".into(), 2), ("a".into(), 1)]);
    /// assert_eq!(map.first_key_value().map(|(k, _)| &**k), Some("a"));
    /// ```
    pub fn first_key_value(&self) -> Option<(&Arc<str>, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    /// The entry with the largest key.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let map = Map::from([("b".into(), 2), ("a".into(), 1)]);
    /// assert_eq!(map.last_key_value().map(|(k, _)| &**k), Some("b"));
    /// ```
    pub fn last_key_value(&self) -> Option<(&Arc<str>, &V)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// The entries in key order, as one slice.
    ///
    /// ```
    /// use pipeline_core::value::Map;
    /// let map = Map::from([("a".into(), 1)]);
    /// assert_eq!(map.as_slice().len(), 1);
    /// ```
    pub fn as_slice(&self) -> &[(Arc<str>, V)] {
        &self.entries
    }
}

impl<V> Default for Map<V> {
    fn default() -> Self {
        Map::new()
    }
}

/// Like `BTreeMap`'s: `{"a": 1, "b": 2}`.
impl<V: fmt::Debug> fmt::Debug for Map<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

/// The entries of a [`Map`] in key order, borrowed.
#[derive(Clone, Debug)]
pub struct Iter<'a, V>(std::slice::Iter<'a, (Arc<str>, V)>);

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a Arc<str>, &'a V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<V> DoubleEndedIterator for Iter<'_, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl<V> ExactSizeIterator for Iter<'_, V> {}

/// The entries of a [`Map`] in key order, values changeable.
#[derive(Debug)]
pub struct IterMut<'a, V>(std::slice::IterMut<'a, (Arc<str>, V)>);

impl<'a, V> Iterator for IterMut<'a, V> {
    type Item = (&'a Arc<str>, &'a mut V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&*k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<V> DoubleEndedIterator for IterMut<'_, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (&*k, v))
    }
}

impl<V> ExactSizeIterator for IterMut<'_, V> {}

impl<'a, V> IntoIterator for &'a Map<V> {
    type Item = (&'a Arc<str>, &'a V);
    type IntoIter = Iter<'a, V>;

    fn into_iter(self) -> Iter<'a, V> {
        self.iter()
    }
}

impl<'a, V> IntoIterator for &'a mut Map<V> {
    type Item = (&'a Arc<str>, &'a mut V);
    type IntoIter = IterMut<'a, V>;

    fn into_iter(self) -> IterMut<'a, V> {
        self.iter_mut()
    }
}

/// The entries in key order, owned.
///
/// ```
/// use pipeline_core::value::Map;
/// let map = Map::from([("b".into(), 2), ("a".into(), 1)]);
/// let keys: Vec<String> = map.into_iter().map(|(k, _)| k.to_string()).collect();
/// assert_eq!(keys, ["a", "b"]);
/// ```
impl<V> IntoIterator for Map<V> {
    type Item = (Arc<str>, V);
    type IntoIter = std::vec::IntoIter<(Arc<str>, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// Pairs in any order; a repeated key keeps its last value.
///
/// ```
/// use pipeline_core::value::Map;
/// let map: Map<i32> = [("a", 1), ("b", 2), ("a", 3)].into_iter().collect();
/// assert_eq!(map["a"], 3);
/// ```
impl<K: Into<Arc<str>>, V> FromIterator<(K, V)> for Map<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        Map::from_unsorted(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

/// Adds pairs; a key already there or repeated takes the last value given.
///
/// ```
/// use pipeline_core::value::Map;
/// let mut map = Map::from([("a".into(), 1)]);
/// map.extend([("b", 2), ("a", 3)]);
/// assert_eq!((map["a"], map["b"]), (3, 2));
/// ```
impl<K: Into<Arc<str>>, V> Extend<(K, V)> for Map<V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.extend(pairs.into_iter().map(|(k, v)| (k.into(), v)));
        *self = Map::from_unsorted(entries);
    }
}

/// `map["key"]`: the value, or a panic when the key is missing (like `BTreeMap`).
impl<V, Q> std::ops::Index<&Q> for Map<V>
where
    Arc<str>: Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry found for key")
    }
}

/// Like `BTreeMap::from([...])`.
///
/// ```
/// use pipeline_core::value::Map;
/// let map = Map::from([("b".into(), 2), ("a".into(), 1)]);
/// assert_eq!(map.keys().next().map(|k| &**k), Some("a"));
/// ```
impl<V, const N: usize> From<[(Arc<str>, V); N]> for Map<V> {
    fn from(pairs: [(Arc<str>, V); N]) -> Self {
        Map::from_unsorted(Vec::from(pairs))
    }
}

/// From a `BTreeMap` (the type `Value::Map` held before), keeping its order.
///
/// ```
/// use pipeline_core::value::Map;
/// use std::collections::BTreeMap;
/// let old = BTreeMap::from([("a".to_string(), 1)]);
/// assert_eq!(Map::from(old)["a"], 1);
/// ```
impl<K: Into<Arc<str>>, V> From<BTreeMap<K, V>> for Map<V> {
    fn from(map: BTreeMap<K, V>) -> Self {
        map.into_iter().collect()
    }
}

/// Into a `BTreeMap`, for code written against the type `Value::Map` held before.
///
/// ```
/// use pipeline_core::value::Map;
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// let map = Map::from([("a".into(), 1)]);
/// let old: BTreeMap<Arc<str>, i32> = map.into();
/// assert_eq!(old["a"], 1);
/// ```
impl<V> From<Map<V>> for BTreeMap<Arc<str>, V> {
    fn from(map: Map<V>) -> Self {
        map.entries.into_iter().collect()
    }
}

/// Into a `BTreeMap` with `String` keys.
///
/// ```
/// use pipeline_core::value::Map;
/// use std::collections::BTreeMap;
/// let old: BTreeMap<String, i32> = Map::from([("a".into(), 1)]).into();
/// assert_eq!(old["a"], 1);
/// ```
impl<V> From<Map<V>> for BTreeMap<String, V> {
    fn from(map: Map<V>) -> Self {
        map.entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }
}

/// Sorts `entries` by key, keeping the last of equal keys (as `BTreeMap::insert` one by one would).
fn sort_and_dedup<V>(entries: &mut Vec<(Arc<str>, V)>) {
    if entries
        .windows(2)
        .all(|pair| ascending(&pair[0].0, &pair[1].0))
    {
        return;
    }
    // Stable, so of equal keys the last one given stays last.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut write = 0;
    for read in 0..entries.len() {
        if read + 1 < entries.len() && entries[read].0 == entries[read + 1].0 {
            continue; // a later value for the same key follows
        }
        entries.swap(write, read);
        write += 1;
    }
    entries.truncate(write);
}

/// `a < b`, decided by the first bytes when they differ (as they mostly do between the keys of
/// a map) without a call to `memcmp`.
#[inline]
fn ascending(a: &str, b: &str) -> bool {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x < y,
        _ => a < b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Insert(u8, i32),
        Remove(u8),
        Get(u8),
        Extend(Vec<(u8, i32)>),
        Retain(i32),
    }

    /// Keys from a small alphabet (so inserts hit, replace and miss), with a shared prefix and
    /// a non-ASCII one, so byte order matters.
    fn key(k: u8) -> String {
        match k % 4 {
            0 => format!("k{}", k / 4),
            1 => format!("k{}x", k / 4),
            2 => format!("é{}", k / 4),
            _ => format!("{}", k / 4),
        }
    }

    fn step() -> impl Strategy<Value = Step> {
        let k = 0u8..40;
        prop_oneof![
            4 => (k.clone(), any::<i32>()).prop_map(|(k, v)| Step::Insert(k, v)),
            2 => k.clone().prop_map(Step::Remove),
            2 => k.clone().prop_map(Step::Get),
            1 => proptest::collection::vec((k, any::<i32>()), 0..8).prop_map(Step::Extend),
            1 => any::<i32>().prop_map(Step::Retain),
        ]
    }

    fn same_as(map: &Map<i32>, model: &BTreeMap<String, i32>) -> bool {
        map.len() == model.len()
            && map
                .iter()
                .map(|(k, v)| (&**k, *v))
                .eq(model.iter().map(|(k, v)| (k.as_str(), *v)))
    }

    proptest! {
        /// Every step gives what `BTreeMap` gives, and the two iterate alike after each.
        #[test]
        fn behaves_like_btreemap(
            start in proptest::collection::vec((0u8..40, any::<i32>()), 0..16),
            steps in proptest::collection::vec(step(), 0..64),
        ) {
            let mut map: Map<i32> = start.iter().map(|&(k, v)| (key(k), v)).collect();
            let mut model: BTreeMap<String, i32> = start.iter().map(|&(k, v)| (key(k), v)).collect();
            prop_assert!(same_as(&map, &model));
            for step in steps {
                match step {
                    Step::Insert(k, v) => prop_assert_eq!(map.insert(key(k), v), model.insert(key(k), v)),
                    Step::Remove(k) => prop_assert_eq!(map.remove(key(k).as_str()), model.remove(&key(k))),
                    Step::Get(k) => {
                        prop_assert_eq!(map.get(key(k).as_str()), model.get(&key(k)));
                        prop_assert_eq!(map.contains_key(key(k).as_str()), model.contains_key(&key(k)));
                    }
                    Step::Extend(pairs) => {
                        map.extend(pairs.iter().map(|&(k, v)| (key(k), v)));
                        model.extend(pairs.iter().map(|&(k, v)| (key(k), v)));
                    }
                    Step::Retain(floor) => {
                        map.retain(|_, v| *v >= floor);
                        model.retain(|_, v| *v >= floor);
                    }
                }
                prop_assert!(same_as(&map, &model));
                prop_assert_eq!(map.keys().rev().map(|k| k.to_string()).collect::<Vec<_>>(),
                    model.keys().rev().cloned().collect::<Vec<_>>());
                prop_assert_eq!(format!("{map:?}"), format!("{model:?}"));
            }
            let back: BTreeMap<String, i32> = map.clone().into();
            prop_assert_eq!(&back, &model);
            prop_assert_eq!(Map::from(model.clone()), map);
        }

        /// Ordering and equality between maps are `BTreeMap`'s.
        #[test]
        fn compares_like_btreemap(
            a in proptest::collection::vec((0u8..12, 0i32..3), 0..6),
            b in proptest::collection::vec((0u8..12, 0i32..3), 0..6),
        ) {
            let (ma, mb): (Map<i32>, Map<i32>) = (
                a.iter().map(|&(k, v)| (key(k), v)).collect(),
                b.iter().map(|&(k, v)| (key(k), v)).collect(),
            );
            let (ba, bb): (BTreeMap<Arc<str>, i32>, BTreeMap<Arc<str>, i32>) = (
                a.iter().map(|&(k, v)| (Arc::from(key(k)), v)).collect(),
                b.iter().map(|&(k, v)| (Arc::from(key(k)), v)).collect(),
            );
            prop_assert_eq!(ma.cmp(&mb), ba.cmp(&bb));
            prop_assert_eq!(ma == mb, ba == bb);
        }
    }

    #[test]
    fn repeated_keys_keep_the_last_value_in_one_allocation() {
        let map = Map::from_unsorted(vec![
            ("b".into(), 1),
            ("a".into(), 2),
            ("b".into(), 3),
            ("a".into(), 4),
            ("c".into(), 5),
        ]);
        assert_eq!(format!("{map:?}"), r#"{"a": 4, "b": 3, "c": 5}"#);
    }

    #[test]
    #[should_panic(expected = "no entry found for key")]
    fn indexing_a_missing_key_panics_like_btreemap() {
        let _ = Map::<i32>::new()["a"];
    }
}
