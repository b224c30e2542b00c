//! Finding a node by id: each id's first declaration, in a table hashed with [`FastHash`].
//!
//! Validation looks every edge endpoint up by id. With SipHash and a copied `String` per id this
//! was most of the validator's time for the benchmark's 10-node manifest (callgrind: ~700
//! instructions per insert); positions sorted by id and searched by halving still cost ~270
//! instructions per lookup. Keys borrow the graph's ids: nothing is copied, and no reference count
//! is touched.

use super::fast_hash::FastHash;
use super::model::NodeDecl;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub(crate) struct IdIndex<'g> {
    first: HashMap<&'g str, usize, FastHash>,
}

impl<'g> IdIndex<'g> {
    /// The index of `nodes`, and each node whose id an earlier node already has, as
    /// `(repeat, first)` positions: found while inserting, so nothing is looked up twice.
    pub(crate) fn new<L, P>(nodes: &'g [NodeDecl<L, P>]) -> (Self, Vec<(usize, usize)>) {
        let mut first = HashMap::with_capacity_and_hasher(nodes.len(), FastHash::default());
        let mut repeats = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            match first.entry(&*node.id) {
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
                Entry::Occupied(seen) => repeats.push((i, *seen.get())),
            }
        }
        (IdIndex { first }, repeats)
    }

    /// The first node declared with `id`.
    pub(crate) fn get(&self, id: &str) -> Option<usize> {
        self.first.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Graph;

    #[test]
    fn finds_the_first_declared_node_of_an_id() {
        let mut g = Graph::new(());
        for id in ["b", "a", "c", "a"] {
            g.add_node(id, "T", ());
        }
        let (index, repeats) = IdIndex::new(&g.nodes);
        assert_eq!(repeats, [(3, 1)]);
        let found: Vec<_> = ["a", "b", "c", "d", ""]
            .iter()
            .map(|id| index.get(id))
            .collect();
        assert_eq!(found, [Some(1), Some(0), Some(2), None, None]);
    }
}
