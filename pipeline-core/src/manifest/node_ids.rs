//! Lowering's index of node ids: each node's first node with its id, and the node a connection's
//! end names.
//!
//! In a small manifest an end is found by a search of the node list that compares each id's
//! length and first 16 bytes, three words (the [`Key`] the manifest reader reads names by), and
//! only longer ids' text: the hash table cost ~110 instructions a lookup and an allocation
//! (callgrind, the benchmark's 10-node manifest, 18 lookups). A large manifest is hashed, so
//! nothing grows quadratically.

use super::model::NodeSpec;
use super::name_table::Key;
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
    /// For a manifest of at most [`FEW`] nodes, each id's [`Key`], searched (kept beside each
    /// other, not read through each node's declaration).
    few: [Key; FEW],
    /// Ids to their first node, for a manifest of more than [`FEW`] nodes.
    many: Option<HashMap<&'a str, usize, FastHash>>,
}

impl<'a> NodeIds<'a> {
    /// The index of `specs`' ids.
    pub(super) fn new(specs: &'a [NodeSpec]) -> Self {
        let mut few = [Key::EMPTY; FEW];
        if specs.len() <= FEW {
            let mut first_few = [0; FEW];
            for (i, spec) in specs.iter().enumerate() {
                few[i] = Key::of(&spec.id);
                first_few[i] = search(specs, &few[..i], few[i], &spec.id).unwrap_or(i);
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
        match &self.many {
            None => search(self.specs, &self.few[..self.specs.len()], Key::of(id), id),
            Some(many) => many.get(id).copied(),
        }
    }
}

/// The first of `keys` (the keys of `specs`' first ids) that is `id`, whose key is `key`: the text
/// is compared only for ids too long for their key to tell them apart.
fn search(specs: &[NodeSpec], keys: &[Key], key: Key, id: &str) -> Option<usize> {
    (0..keys.len()).find(|&j| keys[j] == key && (key.exact() || *specs[j].id == *id))
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
    fn finds_first_nodes_by_text_few_or_many() {
        for count in [3, FEW, FEW + 1, 40] {
            let mut ids: Vec<String> = (0..count).map(|i| format!("n_{i}")).collect();
            ids.push("n_1".to_string()); // a repeat
            ids.push(String::new());
            let long = "a_node_id_past_sixteen_bytes";
            ids.extend([
                format!("{long}_a"),
                format!("{long}_b"),
                format!("{long}_a"),
            ]);
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let specs = specs(&refs);
            let index = NodeIds::new(&specs);
            let mut expected: Vec<usize> = (0..count).collect();
            expected.extend([1, count + 1, count + 2, count + 3, count + 2]);
            assert_eq!(index.first(), expected, "{count}");
            // Names of their own allocation, equal in text.
            assert_eq!(index.get(&Name::from("n_2")), Some(2), "{count}");
            assert_eq!(index.get(&Name::from("n_1")), Some(1), "{count}");
            assert_eq!(index.get(""), Some(count + 1), "{count}");
            assert_eq!(index.get("n_"), None, "{count}");
            assert_eq!(index.get("m_2"), None, "{count}");
            assert_eq!(index.get("a_longer_name_1"), None, "{count}");
            // Ids past 16 bytes that share their first 16 are told apart by their text.
            assert_eq!(index.get(&format!("{long}_b")), Some(count + 3), "{count}");
            assert_eq!(index.get(&format!("{long}_a")), Some(count + 2), "{count}");
            assert_eq!(index.get(&format!("{long}_c")), None, "{count}");
            // The id's own allocation.
            assert_eq!(index.get(&specs[count - 1].id), Some(count - 1), "{count}");
        }
    }
}
