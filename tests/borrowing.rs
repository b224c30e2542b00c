//! Fused pipelines run on the caller's thread, so nodes may borrow the caller's locals.

use pipeline::prelude::*;

#[test]
fn nodes_capture_locals_by_reference() {
    let offset = 100_i64;
    let mut seen = Vec::new();
    let mut total = 0_i64;
    {
        let mut p = pipeline! {
            shift = Map::new(|x: i64| x + offset);
            log = Inspect::new(|x: &i64| seen.push(*x));
            add_up = Inspect::new(|x: &i64| total += *x);
            input -> shift -> log -> add_up -> output;
        };
        assert_eq!(p.run(0..3).unwrap(), vec![100, 101, 102]);
        assert_eq!(p.run([5]).unwrap(), vec![105]);
    }
    assert_eq!(seen, vec![100, 101, 102, 105]);
    assert_eq!(total, 408);
}

#[test]
fn user_variables_do_not_clash_with_generated_names() {
    // Names the macro uses internally, as user variables captured by node expressions.
    let __input = 1_i64;
    let __out = 2_i64;
    let __node0 = 3_i64;
    // Names derived from the node id `a`: its value and field, its binding, its input marker.
    let node_a = 10_i64;
    let n_a = 20_i64;
    let input_of_a = 40_i64;
    let mut p = pipeline! {
        a = Map::new(move |x: i64| x + __input + __out + __node0 + node_a + n_a + input_of_a);
        input -> a -> output;
    };
    assert_eq!(p.run([0]).unwrap(), vec![76]);
}
