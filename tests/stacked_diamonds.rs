//! Ten fused diamonds stacked (`j0 -> l1 -> j1; j0 -> r1 -> j1; j1 -> l2 -> j2; ...`), the shape of
//! issue #17: `pipeline!` once inlined each node per path from the stage entry, so this file's
//! expansion grew as 2^10 and its release build took hours (8 diamonds: 514 s). Its code now grows
//! with nodes + edges; this test is part of the normal test build, so a return to exponential code
//! shows up as a build that does not finish. (`pipeline-macros`' unit tests check the growth itself:
//! `expansion_grows_linearly_with_stacked_diamonds`.)

use pipeline::prelude::*;

/// Every item reaches `j10` once per path: 2^10 paths, and a path through `m` of the `l` (add one)
/// nodes adds `m`, so `x + m` arrives C(10, m) times.
#[test]
fn ten_stacked_fused_diamonds_deliver_every_path() {
    let mut p = pipeline! {
        j0 = PassThrough::new();
        l1 = Map::new(|x: i64| x + 1); r1 = PassThrough::new(); j1 = PassThrough::new();
        l2 = Map::new(|x: i64| x + 1); r2 = PassThrough::new(); j2 = PassThrough::new();
        l3 = Map::new(|x: i64| x + 1); r3 = PassThrough::new(); j3 = PassThrough::new();
        l4 = Map::new(|x: i64| x + 1); r4 = PassThrough::new(); j4 = PassThrough::new();
        l5 = Map::new(|x: i64| x + 1); r5 = PassThrough::new(); j5 = PassThrough::new();
        l6 = Map::new(|x: i64| x + 1); r6 = PassThrough::new(); j6 = PassThrough::new();
        l7 = Map::new(|x: i64| x + 1); r7 = PassThrough::new(); j7 = PassThrough::new();
        l8 = Map::new(|x: i64| x + 1); r8 = PassThrough::new(); j8 = PassThrough::new();
        l9 = Map::new(|x: i64| x + 1); r9 = PassThrough::new(); j9 = PassThrough::new();
        l10 = Map::new(|x: i64| x + 1); r10 = PassThrough::new(); j10 = PassThrough::new();
        input -> j0;
        j0 -> l1 -> j1; j0 -> r1 -> j1;
        j1 -> l2 -> j2; j1 -> r2 -> j2;
        j2 -> l3 -> j3; j2 -> r3 -> j3;
        j3 -> l4 -> j4; j3 -> r4 -> j4;
        j4 -> l5 -> j5; j4 -> r5 -> j5;
        j5 -> l6 -> j6; j5 -> r6 -> j6;
        j6 -> l7 -> j7; j6 -> r7 -> j7;
        j7 -> l8 -> j8; j7 -> r8 -> j8;
        j8 -> l9 -> j9; j8 -> r9 -> j9;
        j9 -> l10 -> j10; j9 -> r10 -> j10;
        j10 -> output;
    };
    assert_eq!(p.describe().stage_count(), 1, "all fused");
    for (run, inputs) in [vec![0_i64], vec![100, 1000]].into_iter().enumerate() {
        let mut outputs = p.run(inputs.clone()).unwrap();
        outputs.sort_unstable();
        let mut expected = Vec::new();
        for x in inputs {
            let mut ways = 1_usize; // C(10, m)
            for m in 0..=10 {
                expected.extend(std::iter::repeat_n(x + m as i64, ways));
                ways = ways * (10 - m) / (m + 1);
            }
        }
        expected.sort_unstable();
        assert_eq!(outputs.len(), expected.len(), "run {run}");
        assert_eq!(outputs, expected, "run {run}");
    }
}

/// Fan-in nodes reached from several places: `k` is fed by the regions of `j1` and `j2` (so its
/// delivery is shared between two closures), and `total` emits only at finish, through a diamond
/// (`after_j` is fed by two finish-time closures). Every path delivers, in order.
#[test]
fn shared_fan_in_deliveries_reach_every_path_on_items_and_at_finish() {
    let mut p = pipeline! {
        a = Map::new(|x: i64| x + 1);
        b = Map::new(|x: i64| x * 10);
        j1 = PassThrough::new();
        j2 = Map::new(|x: i64| x + 1000);
        k = PassThrough::new();
        total = Sum::new();
        after_l = Map::new(|x: i64| x + 1);
        after_r = PassThrough::new();
        after_j = PassThrough::new();
        input -> a; input -> b;
        a -> j1; a -> j2; b -> j1; b -> j2;
        j1 -> k; j2 -> k;
        k -> output.items;
        input -> total -> after_l -> after_j; total -> after_r -> after_j;
        after_j -> output.sums;
    };
    let out = p.run([1_i64, 2]).unwrap();
    assert_eq!(out.items, vec![2, 1002, 10, 1010, 3, 1003, 20, 1020]);
    assert_eq!(out.sums, vec![4, 3]);
    let again = p.run([5_i64]).unwrap();
    assert_eq!(again.items, vec![6, 1006, 50, 1050]);
    assert_eq!(again.sums, vec![6, 5]);
}
