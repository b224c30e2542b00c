use pipeline::prelude::*;

#[test]
fn linear_fused_chain() {
    let mut p = pipeline! {
        pass_in = PassThrough::new();
        add = Calculator::add(1);
        pass_out = PassThrough::new();
        input -> pass_in -> add -> pass_out -> output;
    };
    let out: Vec<i64> = p.run(0..100).unwrap();
    assert_eq!(out, (1..101).collect::<Vec<i64>>());
}

#[test]
fn threaded_chain() {
    let mut p = pipeline! {
        pass_in = PassThrough::new();
        add = Calculator::add(1);
        pass_out = PassThrough::new();
        input => pass_in => add => pass_out -> output;
    };
    let out: Vec<i64> = p.run(0..10_000).unwrap();
    assert_eq!(out, (1..10_001).collect::<Vec<i64>>());
    let out: Vec<i64> = p.run(0..3).unwrap();
    assert_eq!(out, vec![1, 2, 3]);
}
