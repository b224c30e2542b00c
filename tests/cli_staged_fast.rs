//! `pipeline run` through a stage per node gives exactly the fused run's outputs, in order, now
//! that each batch of input lines crosses the stage boundaries as it is pushed (rather than
//! waiting for the stage channel's own batches to fill): many batches, of objects and of ints,
//! and a last partial one.

mod support;

use std::fmt::Write;
use std::time::Duration;
use support::cli::{pipeline_within, text};

fn example(name: &str) -> String {
    format!("{}/examples/manifests/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `manifest` over `input`, returning its standard output.
fn run(manifest: &str, input: &str) -> String {
    let out = pipeline_within(
        Duration::from_secs(120),
        &["run", &example(manifest)],
        input,
    );
    assert!(out.status.success(), "{manifest}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn a_staged_run_writes_what_the_fused_run_writes_across_many_batches() {
    // ~2.5 MB of objects and ~0.6 MB of ints: dozens of the 64 KiB batches the run pushes, the
    // last one partial.
    let mut objects = String::new();
    for i in 0..40_007 {
        let _ = writeln!(
            objects,
            r#"{{"id":{i},"name":"item-{i}","tags":["a","b{}"],"value":{}}}"#,
            i % 7,
            i % 1000
        );
    }
    let ints: String = (0..100_003).map(|i| format!("{i}\n")).collect();
    for input in [objects, ints] {
        let fused = run("simple.json", &input);
        let staged = run("staged.json", &input);
        assert_eq!(
            fused.lines().count(),
            input.lines().count(),
            "one output per line"
        );
        assert!(
            staged == fused,
            "the staged run's outputs differ from the fused run's"
        );
    }
}
