//! Lowering's index of node ids: each node's first node with its id, and the node a connection's
//! end names.
//!
//! In a small manifest an end is found by a search of the node list that compares each id as two
//! words ([`Name::raw`]: an inline name's text and length), and only long ids' text: the hash table
//! cost ~110 instructions a lookup and an allocation (callgrind, the benchmark's 10-node manifest,
//! 18 lookups). A large manifest is hashed, so nothing grows quadratically.

use super::model::NodeSpec;
use crate::graph::fast_hash::FastHash;
use crate::graph::Name;
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
    /// For a manifest of at most [`FEW`] nodes, each id's two words ([`Name::raw`]), searched
    /// (kept beside each other, not read through each node's declaration).
    few: [[u64; 2]; FEW],
    /// Ids to their first node, for a manifest of more than [`FEW`] nodes.
    many: Option<HashMap<&'a str, usize, FastHash>>,
}

impl<'a> NodeIds<'a> {
    /// The index of `specs`' ids.
    pub(super) fn new(specs: &'a [NodeSpec]) -> Self {
        let mut few = [[0; 2]; FEW];
        if specs.len() <= FEW {
            let mut first_few = [0; FEW];
            for (i, spec) in specs.iter().enumerate() {
                few[i] = spec.id.raw();
                first_few[i] = search(specs, &few[..i], &spec.id).unwrap_or(i);
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
    pub(super) fn get(&self, id: &Name) -> Option<usize> {
        match &self.many {
            None => search(self.specs, &self.few[..self.specs.len()], id),
            Some(many) => many.get(&**id).copied(),
        }
    }
}

/// The first of `specs` whose id is `id`, given the first ids' words (`raw`): the text is compared
/// only where both are long names (equal text in two allocations).
fn search(specs: &[NodeSpec], raw: &[[u64; 2]], id: &Name) -> Option<usize> {
    let words = id.raw();
    let long = !id.is_inline();
    (0..raw.len()).find(|&j| raw[j] == words || (long && specs[j].id == *id))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            // Names made anew, equal in text.
            let get = |id: &str| index.get(&Name::from(id));
            assert_eq!(get("n_2"), Some(2), "{count}");
            assert_eq!(get("n_1"), Some(1), "{count}");
            assert_eq!(get(""), Some(count + 1), "{count}");
            assert_eq!(get("n_"), None, "{count}");
            assert_eq!(get("m_2"), None, "{count}");
            assert_eq!(get("a_longer_name_1"), None, "{count}");
            // Long ids, written again elsewhere (another allocation), and told apart by their text.
            assert_eq!(get(&format!("{long}_b")), Some(count + 3), "{count}");
            assert_eq!(get(&format!("{long}_a")), Some(count + 2), "{count}");
            assert_eq!(get(&format!("{long}_c")), None, "{count}");
            // The id itself.
            assert_eq!(index.get(&specs[count - 1].id), Some(count - 1), "{count}");
        }
    }
}
