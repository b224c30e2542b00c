//! Graph mistakes in `pipeline!` are compile errors at the offending token.
//!
//! Each case in `tests/compile_fail/` has its expected compiler output committed next to it as
//! `.stderr`. The snapshots depend on the rustc version that wrote them; regenerate with
//! `TRYBUILD=overwrite cargo test --test compile_fail` after a toolchain change and read the diff.

#[test]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
}
