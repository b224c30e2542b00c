//! Each vertex's neighbours along edges, all in one array (compressed sparse rows).
//!
//! Sorting and reachability walk every vertex's edges; scanning the whole edge list per vertex was
//! quadratic, and a `Vec` per vertex was an allocation per node.

/// The neighbours of vertices `0..n` along `(from, to)` pairs, grouped by `from`.
#[derive(Debug, Clone)]
pub(crate) struct Adjacency {
    /// One allocation for both parts (two were ~150 instructions more to build and to drop,
    /// callgrind): `rows[..=n]` where each vertex's group starts in the rest, then the rest,
    /// `rows[n + 1..]`, the neighbours of each vertex in turn.
    rows: Vec<usize>,
    /// `n + 1`: where the neighbours start in `rows`.
    ends_at: usize,
}

impl Adjacency {
    /// Groups `pairs` by their first vertex (all `< n`).
    pub(crate) fn new(n: usize, pairs: impl Iterator<Item = (usize, usize)> + Clone) -> Self {
        // Count each vertex's edges, turn counts into the end of each group, then fill each group
        // from its end: `starts[v]` steps back to the group's start as `v`'s edges are placed.
        // Room for every pair when the iterator knows its length (a slice's does).
        let (fewest, most) = pairs.size_hint();
        let mut rows = Vec::with_capacity(n + 1 + most.unwrap_or(fewest));
        rows.resize(n + 1, 0);
        for (from, _) in pairs.clone() {
            rows[from + 1] += 1;
        }
        for v in 1..=n {
            rows[v] += rows[v - 1];
        }
        let count = rows[n];
        rows.resize(n + 1 + count, 0);
        let (starts, ends) = rows.split_at_mut(n + 1);
        for (from, to) in pairs {
            starts[from + 1] -= 1;
            ends[starts[from + 1]] = to;
        }
        // `starts[from + 1]` now holds the start of `from`'s group; shift back by one.
        starts.rotate_left(1);
        starts[n] = count;
        Adjacency {
            rows,
            ends_at: n + 1,
        }
    }

    /// The neighbours of `v`.
    pub(crate) fn of(&self, v: usize) -> &[usize] {
        let (starts, ends) = self.rows.split_at(self.ends_at);
        &ends[starts[v]..starts[v + 1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_every_pair_under_its_first_vertex() {
        let pairs = [(2, 0), (0, 1), (2, 1), (0, 2), (3, 3)];
        let adjacency = Adjacency::new(5, pairs.iter().copied());
        let mut groups: Vec<Vec<usize>> = (0..5).map(|v| adjacency.of(v).to_vec()).collect();
        groups.iter_mut().for_each(|g| g.sort());
        assert_eq!(groups, [vec![1, 2], vec![], vec![0, 1], vec![3], vec![]]);
        // Each group is filled from its end: pairs given last to first come out first to last.
        let ordered = Adjacency::new(2, [(1, 7), (0, 5), (1, 8), (0, 6)].into_iter().rev());
        assert_eq!((ordered.of(0), ordered.of(1)), (&[5, 6][..], &[7, 8][..]));
    }
}
