//! Finding a node by id without hashing or copying ids: node positions sorted by id, searched by
//! halving.
//!
//! Validation looks every edge endpoint up by id. With a `HashMap<String, usize>` each of a small
//! graph's nodes cost a copy of its id, a SipHash and a share of the table's growth — most of the
//! validator's time for the benchmark's 10-node manifest (callgrind: ~700 instructions per insert).

use super::model::NodeDecl;

/// Node positions ordered by id (equal ids in declaration order).
#[derive(Debug, Default)]
pub(crate) struct IdIndex {
    by_id: Vec<usize>,
}

impl IdIndex {
    pub(crate) fn new<L>(nodes: &[NodeDecl<L>]) -> Self {
        let mut by_id: Vec<usize> = (0..nodes.len()).collect();
        // Stable: of equal ids, the first declared comes first.
        by_id.sort_by(|&a, &b| nodes[a].id.cmp(&nodes[b].id));
        IdIndex { by_id }
    }

    /// The first-declared node with id `id`.
    pub(crate) fn get<L>(&self, nodes: &[NodeDecl<L>], id: &str) -> Option<usize> {
        let at = self.by_id.partition_point(|&i| &*nodes[i].id < id);
        let &i = self.by_id.get(at)?;
        (&*nodes[i].id == id).then_some(i)
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
        let index = IdIndex::new(&g.nodes);
        let found: Vec<_> = ["a", "b", "c", "d", ""]
            .iter()
            .map(|id| index.get(&g.nodes, id))
            .collect();
        assert_eq!(found, [Some(1), Some(0), Some(2), None, None]);
    }
}
