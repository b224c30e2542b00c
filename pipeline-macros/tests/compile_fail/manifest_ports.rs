// Paths are relative to CARGO_MANIFEST_DIR, which under trybuild is target/tests/trybuild/pipeline.
// A node with output ports runs only in a run-time manifest.
use pipeline::prelude::*;

fn main() {
    let _p = pipeline!(manifest = "../../../../pipeline-macros/tests/compile_fail/manifests/ports.json");
}
