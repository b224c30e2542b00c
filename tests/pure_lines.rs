//! Fused lines of nodes with pure functions (`Node::pure_fn`): a batch with no flagged item runs
//! through the functions alone; a flagged one runs item by item, with the same outputs and the
//! same error as a line without pure functions.

use pipeline::prelude::*;
use pipeline::runtime::{Pipeline, Stage};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Doubles each item and refuses `refuse`. It counts its `process` calls (an effect a real pure
/// node must not have: here it shows which path a batch took).
struct Doubler {
    refuse: i64,
    calls: Arc<AtomicUsize>,
}

impl Node for Doubler {
    type Input = i64;
    type Output = i64;

    fn process<E: Emitter<i64> + ?Sized>(&mut self, item: i64, out: &mut E) -> Result<()> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if item == self.refuse {
            return Err(Error::msg(format!("refused {item}")));
        }
        out.emit(item * 2)
    }

    fn pure_fn(&self) -> Option<impl Fn(i64) -> (i64, i64) + '_> {
        Some(move |item: i64| (item * 2, -i64::from(item == self.refuse)))
    }
}

fn doubler(refuse: i64) -> (Doubler, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let node = Doubler {
        refuse,
        calls: Arc::clone(&calls),
    };
    (node, calls)
}

/// Runs `0..n` through `p` (a line doubling and adding 1) and checks that no item went through
/// `process`.
fn takes_the_pure_path<S: Stage<Input = i64, Output = i64>>(
    mut p: Pipeline<S>,
    calls: &AtomicUsize,
    n: i64,
) {
    let expected: Vec<i64> = (0..n).map(|x| x * 2 + 1).collect();
    assert_eq!(p.run(0..n).unwrap(), expected);
    assert_eq!(calls.load(Ordering::Relaxed), 0, "`process` was called");
}

#[test]
fn a_batch_no_item_fails_in_runs_through_the_pure_functions_alone() {
    let (node, calls) = doubler(-1);
    let fused = pipeline! {
        pass = PassThrough::new();
        double = node;
        add = Calculator::add(1_i64);
        input -> pass -> double -> add -> output;
    };
    takes_the_pure_path(fused, &calls, 1000);
    // A worker stage that is a line too.
    let (node, calls) = doubler(-1);
    let staged = pipeline! {
        head = PassThrough::new();
        double = node;
        add = Calculator::add(1_i64);
        input -> head => double -> add -> output;
    };
    takes_the_pure_path(staged, &calls, 5000);
}

#[test]
fn a_flagged_batch_runs_item_by_item_with_the_outputs_before_the_failure() {
    let (node, calls) = doubler(300);
    let mut p = pipeline! {
        double = node;
        add = Calculator::add(1_i64);
        input -> double -> add -> output;
    };
    let mut outputs = Vec::new();
    let err = p
        .run_with(0..1000, |x| {
            outputs.push(x);
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.node(), Some("double"));
    assert_eq!(err.message(), "refused 300");
    assert_eq!(outputs, (0..300).map(|x| x * 2 + 1).collect::<Vec<_>>());
    // The chunks before the failing one took the pure path; the failing chunk went item by item
    // up to the failure (chunks hold 256 items).
    assert_eq!(calls.load(Ordering::Relaxed), 300 - 256 + 1);
}

#[test]
fn an_overflow_in_a_line_of_calculators_names_the_node_and_keeps_the_items_before_it() {
    let mut p = pipeline! {
        add = Calculator::add(1_i64);
        times = Calculator::multiply(3_i64);
        input -> add -> times -> output;
    };
    let items = [1, 2, i64::MAX / 3, 4];
    let mut outputs = Vec::new();
    let err = p
        .run_with(items, |x| {
            outputs.push(x);
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.node(), Some("times"));
    assert!(err.message().contains("overflows"), "{err}");
    assert_eq!(outputs, [6, 9]);
}

#[test]
fn items_that_need_drop_and_nodes_without_pure_functions_run_item_by_item() {
    let mut strings = pipeline! {
        first = PassThrough::new();
        second = PassThrough::new();
        input -> first -> second -> output;
    };
    let words = ["a", "bb", "ccc"].map(String::from);
    assert_eq!(strings.run(words.clone()).unwrap(), words);

    let (node, calls) = doubler(-1);
    let mut mixed = pipeline! {
        double = node;
        square = Map::new(|x: i64| x * x);
        input -> double -> square -> output;
    };
    assert_eq!(mixed.run([1, 2, 3]).unwrap(), [4, 16, 36]);
    assert_eq!(calls.load(Ordering::Relaxed), 3);
}

/// What the line `add k0 -> subtract k1 -> multiply k2 -> divide k3` makes of `items` item by
/// item: the outputs before the first failure, and the failing node.
fn reference(items: &[i64], k: [i64; 4]) -> (Vec<i64>, Option<&'static str>) {
    type Checked = fn(i64, i64) -> Option<i64>;
    let steps: [(&str, Checked); 4] = [
        ("add", i64::checked_add),
        ("sub", i64::checked_sub),
        ("mul", i64::checked_mul),
        ("div", i64::checked_div),
    ];
    let mut outputs = Vec::new();
    for &item in items {
        let mut value = item;
        for ((node, step), operand) in steps.into_iter().zip(k) {
            match step(value, operand) {
                Some(next) => value = next,
                None => return (outputs, Some(node)),
            }
        }
        outputs.push(value);
    }
    (outputs, None)
}

/// Operands that overflow often (any), rarely (small), never (one), or divide by zero.
fn operand() -> impl Strategy<Value = i64> {
    prop_oneof![Just(1_i64), -3_i64..3, any::<i64>()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_line_of_calculators_matches_the_item_by_item_reference(
        items in prop::collection::vec(
            prop_oneof![any::<i64>(), -1000_i64..1000, Just(i64::MAX), Just(i64::MIN)],
            0..600,
        ),
        k in [operand(), operand(), operand(), operand()],
    ) {
        let mut p = pipeline! {
            add = Calculator::add(k[0]);
            sub = Calculator::subtract(k[1]);
            mul = Calculator::multiply(k[2]);
            div = Calculator::divide(k[3]);
            input -> add -> sub -> mul -> div -> output;
        };
        let mut outputs = Vec::new();
        let outcome = p.run_with(items.iter().copied(), |x| {
            outputs.push(x);
            Ok(())
        });
        let (expected, failing) = reference(&items, k);
        prop_assert_eq!(outputs, expected);
        prop_assert_eq!(outcome.err().and_then(|e| e.node().map(str::to_string)), failing.map(str::to_string));
    }
}
