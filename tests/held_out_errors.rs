//! `pipeline!` programs from a held-out suite that used to fail to compile or read badly; each now
//! compiles and runs as documented. (Their compile-fail counterparts, the errors that must read
//! well, are in `pipeline-macros/tests/compile_fail/`.)

use pipeline::prelude::*;

/// Built and only described (no `run`, no `push`): the input type comes from the first node.
#[test]
fn a_pipeline_that_is_only_described_compiles() {
    let p = pipeline! {
        inc = Map::new(|x: i64| x + 1);
        input -> inc -> output;
    };
    let text = p.describe().to_string();
    assert!(text.contains("inc: "), "{text}");
    assert!(text.contains("input -> inc\ninc -> output\n"), "{text}");
    println!("{}", p.describe());
}

#[test]
fn described_pipelines_with_stages_fan_out_and_named_outputs_compile() {
    let p = pipeline! {
        double = Calculator::multiply(2_i64);
        text = Map::new(|x: i64| x.to_string());
        input => double -> output.doubled;
        input -> text -> output.words;
    };
    let text = p.describe().to_string();
    assert!(text.contains("input => double"), "{text}");
    assert!(text.contains("text -> output.words"), "{text}");
    assert_eq!(p.describe().stage_count(), 2);

    // The input straight to the output: its type comes from the output's other edges, or nothing
    // else needs one (a `PassThrough` typed by its turbofish).
    let p = pipeline! {
        pass = PassThrough::<u8>::new();
        input -> pass -> output;
    };
    assert!(p.describe().to_mermaid().contains("pass"));
}

/// Pinning the input to the first node's type does not take the choice from `run`: a generic first
/// node still gets its type from the items.
#[test]
fn run_still_decides_the_input_type_of_a_generic_first_node() {
    let mut p = pipeline! {
        pass = PassThrough::new();
        count = Map::new(|s: &str| s.len());
        input -> pass -> count -> output;
    };
    println!("{}", p.describe());
    assert_eq!(p.run(["a", "bcd"]).unwrap(), vec![1, 3]);

    let mut p = pipeline! {
        pass = PassThrough::new();
        input -> pass -> output;
    };
    assert_eq!(p.run(vec![1.5_f64]).unwrap(), vec![1.5]);
}

/// A described pipeline runs later with the pinned type.
#[test]
fn a_described_pipeline_runs_with_the_first_nodes_type() {
    let mut p = pipeline! {
        inc = Map::new(|x: i64| x + 1);
        input -> inc -> output;
    };
    let before = p.describe().clone();
    assert_eq!(p.run(0..3).unwrap(), vec![1, 2, 3]);
    assert_eq!(*p.describe(), before);
}

/// The fix the help for a twice-entered group suggests (`=>` into `c`, where `b` and `d` meet)
/// compiles and runs: `c` is a stage of its own fed by both.
#[test]
fn the_suggested_fix_for_two_entries_runs() {
    let mut p = pipeline! {
        a = PassThrough::<i64>::new();
        b = Calculator::multiply(10_i64);
        c = Merge::<i64>::new();
        d = Calculator::add(1_i64);
        input -> a => b => c -> output;
        a => d => c;
    };
    let mut out = p.run(vec![1_i64, 2]).unwrap();
    out.sort_unstable();
    assert_eq!(out, vec![2, 3, 10, 20]);
    assert_eq!(p.describe().stage_count(), 4);
}

/// `par(n)` on a `Clone + Send` node passes its checks, with and without `unordered` and `batch`.
#[test]
fn par_on_clone_and_send_nodes_still_runs() {
    let mut p = pipeline! {
        square = Map::new(|x: u64| x * x) @ par(3), batch(4);
        any_order = Map::new(|x: u64| x + 1) @ par(2, unordered);
        input -> square -> any_order -> output;
    };
    let mut out = p.run(0..20_u64).unwrap();
    out.sort_unstable();
    assert_eq!(out, (0..20_u64).map(|x| x * x + 1).collect::<Vec<_>>());
}
