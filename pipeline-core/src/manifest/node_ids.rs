//! Lowering's index of node ids: each node's first node with its id, and the node a connection's
//! end names.
//!
//! The manifest reader shares one allocation between a node's id and the connection ends that
//! name it, so in a small manifest an end is found by comparing addresses along the node list
//! (a few instructions a node) rather than by hashing its text: the hash table cost ~110
//! instructions a lookup and an allocation (callgrind, the benchmark's 10-node manifest, 18
//! lookups). Names that do not share (written otherwise, or past the reader's table) are told
//! apart by a word made of their length and end bytes, then compared; a large manifest is
//! hashed, so nothing grows quadratically.

use super::model::NodeSpec;
use crate::graph::fast_hash::FastHash;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// Up to how many nodes ids are found by a search of the node list.
const FEW: usize = 16;

/// The nodes by id.
pub(super) struct NodeIds<'a> {
    specs: &'a [NodeSpec],
    /// For each of at most [`FEW`] nodes, the first node declared with its id (see
    /// [`first`](Self::first)): held here, not allocated.
    first_few: [usize; FEW],
    /// The same for more nodes.
    first_many: Vec<usize>,
    /// For a manifest of at most [`FEW`] nodes, each id's address and [`signature`], searched
    /// (kept beside each other, not read through each node's declaration).
    few: [(usize, u64); FEW],
    /// Ids to their first node, for a manifest of more than [`FEW`] nodes.
    many: Option<HashMap<&'a str, usize, FastHash>>,
}

impl<'a> NodeIds<'a> {
    /// The index of `specs`' ids.
    pub(super) fn new(specs: &'a [NodeSpec]) -> Self {
        let mut few = [(0, 0); FEW];
        if specs.len() <= FEW {
            let mut first_few = [0; FEW];
            for (i, spec) in specs.iter().enumerate() {
                let id: &str = &spec.id;
                let key = signature(id);
                few[i] = (id.as_ptr() as usize, key);
                // Equal ids have equal signatures; only those compare text.
                let earlier = (0..i).find(|&j| few[j].1 == key && same(&specs[j].id, id));
                first_few[i] = earlier.unwrap_or(i);
            }
            return NodeIds {
                specs,
                first_few,
                first_many: Vec::new(),
                few,
                many: None,
            };
        }
        let mut first = Vec::with_capacity(specs.len());
        let mut many = HashMap::with_capacity_and_hasher(specs.len(), FastHash::default());
        for (i, spec) in specs.iter().enumerate() {
            first.push(match many.entry(&*spec.id) {
                Entry::Vacant(slot) => *slot.insert(i),
                Entry::Occupied(seen) => *seen.get(),
            });
        }
        NodeIds {
            specs,
            first_few: [0; FEW],
            first_many: first,
            few,
            many: Some(many),
        }
    }

    /// For each node, the first node declared with its id (itself, unless it repeats one).
    pub(super) fn first(&self) -> &[usize] {
        match self.many {
            None => &self.first_few[..self.specs.len()],
            Some(_) => &self.first_many,
        }
    }

    /// The first node whose id is `id`, if any.
    pub(super) fn get(&self, id: &str) -> Option<usize> {
        let Some(many) = &self.many else {
            let few = &self.few[..self.specs.len()];
            // The id's own allocation: a node id, so the first node with it is that node's first.
            let address = id.as_ptr() as usize;
            if let Some(j) = few.iter().position(|&(at, _)| at == address) {
                if self.specs[j].id.len() == id.len() {
                    return Some(self.first_few[j]);
                }
            }
            // The first node with an equal id is the first with that id.
            let key = signature(id);
            return (0..few.len()).find(|&j| few[j].1 == key && same(&self.specs[j].id, id));
        };
        many.get(id).copied()
    }
}

/// Whether two names are equal: the same allocation, or the same text.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
}

/// A word that equal names share, made of a name's length and its first and last bytes: ids
/// mostly differ in one of them (`pass_0`, `calc_1`), so names with different words are told
/// apart without comparing their text.
fn signature(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let (first, last) = match bytes {
        [] => (0, 0),
        [first, .., last] => (*first, *last),
        [only] => (*only, *only),
    };
    bytes.len() as u64 | u64::from(first) << 48 | u64::from(last) << 56
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Name;

    fn specs(ids: &[&str]) -> Vec<NodeSpec> {
        ids.iter()
            .map(|id| {
                serde_json::from_value(serde_json::json!({"id": id, "node_type": "PassThrough"}))
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn equal_names_share_a_signature_and_most_others_do_not() {
        let names = [
            "",
            "a",
            "ab",
            "pass_0",
            "pass_1",
            "calc_10",
            "a_longer_name_1",
            "b_longer_name_1",
            "abcdefgh",
            "abcdefgi",
        ];
        for (i, a) in names.iter().enumerate() {
            let copy = String::from(*a); // equal text, another allocation
            assert_eq!(signature(a), signature(&copy), "{a}");
            for b in &names[i + 1..] {
                assert_ne!(signature(a), signature(b), "{a} {b}");
            }
        }
    }

    #[test]
    fn finds_first_nodes_by_text_few_or_many() {
        for count in [3, FEW, FEW + 1, 40] {
            let mut ids: Vec<String> = (0..count).map(|i| format!("n_{i}")).collect();
            ids.push("n_1".to_string()); // a repeat
            ids.push(String::new());
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let specs = specs(&refs);
            let index = NodeIds::new(&specs);
            let mut expected: Vec<usize> = (0..count).collect();
            expected.extend([1, count + 1]);
            assert_eq!(index.first(), expected, "{count}");
            // Names of their own allocation, equal in text.
            assert_eq!(index.get(&Name::from("n_2")), Some(2), "{count}");
            assert_eq!(index.get(&Name::from("n_1")), Some(1), "{count}");
            assert_eq!(index.get(""), Some(count + 1), "{count}");
            assert_eq!(index.get("n_"), None, "{count}");
            assert_eq!(index.get("m_2"), None, "{count}");
            assert_eq!(index.get("a_longer_name_1"), None, "{count}");
            // The id's own allocation.
            assert_eq!(index.get(&specs[count - 1].id), Some(count - 1), "{count}");
        }
    }
}
