//! Lowering's index of node ids: each node's first node with its id, and the node a connection's
//! end names.
//!
//! In a small manifest an end is found by a search of the node list that compares each id as two
//! words ([`Name::raw`]: an inline name's text and length), and only long ids' text: the hash table
//! cost ~110 instructions a lookup and an allocation (callgrind, the benchmark's 10-node manifest,
//! 18 lookups). A large manifest is hashed, so nothing grows quadratically. Finding each node's
//! first node searches only for ids whose bit in a set of those seen is already taken, and a
//! connection's target is looked for first where a chain written in order puts it
//! ([`NodeIds::get_near`]): callgrind, for that manifest, indexing and searching 2.45 k → 0.46 k
//! instructions, the whole construction 31.5 k → 30.3 k.

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
    /// For a manifest of at most [`FEW`] nodes, whether no id repeats: a node found with an id
    /// is then its first (always `false` for more nodes, which [`get_near`](Self::get_near)
    /// looks up in the table).
    unique: bool,
}

impl<'a> NodeIds<'a> {
    /// The index of `specs`' ids.
    pub(super) fn new(specs: &'a [NodeSpec]) -> Self {
        let mut few = [[0; 2]; FEW];
        if specs.len() <= FEW {
            let mut first_few = [0; FEW];
            // A bit for each inline id's words seen: an inline id whose bit is clear repeats none
            // before it (equal inline ids have equal words, and no long id equals an inline one),
            // so the search is left out for nearly every node.
            let mut seen = 0u64;
            let mut unique = true;
            for (i, spec) in specs.iter().enumerate() {
                let words = spec.id.raw();
                few[i] = words;
                let bit = 1u64 << (words_hash(words) >> 58);
                first_few[i] = if spec.id.is_inline() && seen & bit == 0 {
                    i
                } else {
                    search(specs, &few[..i], &spec.id).unwrap_or(i)
                };
                seen |= bit;
                unique &= first_few[i] == i;
            }
            return NodeIds {
                specs,
                first_few,
                first_many: Vec::new(),
                few,
                many: None,
                unique,
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
            unique: false,
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

    /// [`get`](Self::get), looking first at node `guess`: a connection written after the one
    /// before it in a chain enters the node after that one's source, found so without a search
    /// (when no id repeats, a node with the id is its first).
    #[inline]
    pub(super) fn get_near(&self, id: &Name, guess: usize) -> Option<usize> {
        let hit = self.unique && guess < self.specs.len() && self.few[guess] == id.raw();
        if hit {
            Some(guess)
        } else {
            self.get(id)
        }
    }
}

/// A name's two words mixed so that their top bits depend on all of them (for [`NodeIds::new`]'s
/// bit per id seen).
#[inline]
fn words_hash([low, high]: [u64; 2]) -> u64 {
    (low ^ high.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
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
            // A guess at a later node with a repeated id still finds the first.
            assert_eq!(
                index.get_near(&Name::from("n_1"), count),
                Some(1),
                "{count}"
            );
            assert_eq!(index.get_near(&Name::from("n_2"), 1), Some(2), "{count}");
        }
    }

    #[test]
    fn a_guess_is_taken_only_when_it_holds_the_id() {
        let ids: Vec<String> = (0..10).map(|i| format!("node_{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let specs = specs(&refs);
        let index = NodeIds::new(&specs);
        assert_eq!(index.first(), (0..10).collect::<Vec<_>>());
        for (guess, expected) in [
            (3, Some(3)),
            (4, Some(3)),
            (10, Some(3)),
            (usize::MAX, Some(3)),
        ] {
            assert_eq!(
                index.get_near(&Name::from("node_3"), guess),
                expected,
                "{guess}"
            );
        }
        assert_eq!(index.get_near(&Name::from("node_10"), 9), None);
    }

    #[test]
    fn repeats_are_found_whatever_bits_the_ids_share() {
        // Each repeat finds its first's bit taken, so it is searched and its first found; ids
        // that take a bit already taken by chance are searched too, and found to be new.
        let ids: Vec<String> = (0..FEW / 2).map(|i| format!("x{i}")).collect();
        let mut all = ids.clone();
        all.extend(ids.iter().rev().cloned());
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let specs = specs(&refs);
        let index = NodeIds::new(&specs);
        let half = FEW / 2;
        let expected: Vec<usize> = (0..half).chain((0..half).rev()).collect();
        assert_eq!(index.first(), expected);
        assert!(!index.unique);
    }
}
