//! The same graph gives the same outputs whether its nodes are fused on the caller's thread or
//! split into stages with `=>`.

use pipeline::prelude::*;

const N: i64 = 5_000; // several batches of the default 1024 per boundary

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

#[test]
fn chain() {
    let expected: Vec<i64> = (0..N).map(|x| (x + 3) * 2).filter(|x| x % 3 != 0).collect();
    let mut fused = pipeline! {
        add = Calculator::add(3);
        double = Map::new(|x: i64| x * 2);
        drop_thirds = Filter::new(|x: &i64| x % 3 != 0);
        input -> add -> double -> drop_thirds -> output;
    };
    let mut threaded = pipeline! {
        add = Calculator::add(3);
        double = Map::new(|x: i64| x * 2);
        drop_thirds = Filter::new(|x: &i64| x % 3 != 0);
        input => add => double => drop_thirds -> output;
    };
    assert_eq!(threaded.describe().stage_count(), 4);
    assert_eq!(fused.run(0..N).unwrap(), expected);
    // A linear chain keeps the order across stages.
    assert_eq!(threaded.run(0..N).unwrap(), expected);
}

#[test]
fn diamond() {
    let mut fused = pipeline! {
        split = PassThrough::new();
        tens = Calculator::multiply(10);
        negate = Map::new(|x: i64| -x);
        join = Merge::new();
        input -> split -> tens -> join -> output;
        split -> negate -> join;
    };
    let mut threaded = pipeline! {
        split = PassThrough::new();
        tens = Calculator::multiply(10);
        negate = Map::new(|x: i64| -x);
        join = Merge::new();
        input -> split => tens => join -> output;
        split => negate => join;
    };
    let fused_out = fused.run(0..N).unwrap();
    assert_eq!(fused_out.len(), 2 * N as usize);
    assert_eq!(&fused_out[..4], &[0, 0, 10, -1]);
    // Branches on different threads interleave differently; the multiset is the same.
    assert_eq!(sorted(threaded.run(0..N).unwrap()), sorted(fused_out));
}

#[test]
fn fan_in_across_stages_with_finish() {
    // Two staged branches merge into a stage that sums: the sum comes once, after both ended.
    let mut fused = pipeline! {
        evens = Filter::new(|x: &i64| x % 2 == 0);
        odds = Filter::new(|x: &i64| x % 2 == 1);
        total = Sum::new();
        input -> evens -> total -> output;
        input -> odds -> total;
    };
    let mut threaded = pipeline! {
        evens = Filter::new(|x: &i64| x % 2 == 0);
        odds = Filter::new(|x: &i64| x % 2 == 1);
        total = Sum::new();
        input => evens => total -> output;
        input => odds => total;
    };
    let expected = vec![(0..N).sum::<i64>()];
    assert_eq!(fused.run(0..N).unwrap(), expected);
    assert_eq!(threaded.run(0..N).unwrap(), expected);
    // End of stream is per run: the next run sums afresh.
    assert_eq!(threaded.run(0..10).unwrap(), vec![45]);
}

#[test]
fn several_named_outputs() {
    let mut fused = pipeline! {
        evens = Filter::new(|x: &i64| x % 2 == 0);
        odds = Filter::new(|x: &i64| x % 2 != 0);
        count = Count::new();
        input -> evens -> output.evens;
        input -> odds -> output.odds;
        input -> count -> output.count;
    };
    let mut threaded = pipeline! {
        evens = Filter::new(|x: &i64| x % 2 == 0);
        odds = Filter::new(|x: &i64| x % 2 != 0);
        count = Count::new();
        input => evens -> output.evens;
        input => odds -> output.odds;
        input => count -> output.count;
    };
    let a = fused.run(0..N).unwrap();
    let b = threaded.run(0..N).unwrap();
    assert_eq!(a.evens, (0..N).step_by(2).collect::<Vec<_>>());
    assert_eq!(a.odds, (1..N).step_by(2).collect::<Vec<_>>());
    assert_eq!(a.count, vec![N as u64]);
    // Each output is fed by one branch, so even its order is the same. (Each `pipeline!` generates
    // its own outputs struct, so compare field by field.)
    assert_eq!((a.evens, a.odds, a.count), (b.evens, b.odds, b.count));
}

#[test]
fn batch_partial_arrives_at_finish() {
    let mut fused = pipeline! {
        group = Batch::new(4);
        input -> group -> output;
    };
    let mut threaded = pipeline! {
        group = Batch::new(4);
        input => group -> output;
    };
    let expected = vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]];
    assert_eq!(fused.run(0..10_i64).unwrap(), expected);
    assert_eq!(threaded.run(0..10_i64).unwrap(), expected);
    // A run with no items still ends the stream: nothing is pending, nothing is emitted.
    assert_eq!(threaded.run(0..0_i64).unwrap(), Vec::<Vec<i64>>::new());
    let mut count = pipeline! {
        count = Count::new();
        input => count -> output;
    };
    assert_eq!(count.run(Vec::<i64>::new()).unwrap(), vec![0]);
}

#[test]
fn batch_and_unbatch_round_trip_across_stages() {
    let mut p = pipeline! {
        group = Batch::new(7);
        flat = Unbatch::new();
        input -> group => flat -> output;
    };
    assert_eq!(p.run(0..100_i64).unwrap(), (0..100).collect::<Vec<_>>());
}
