// Paths are relative to CARGO_MANIFEST_DIR, which under trybuild is target/tests/trybuild/pipeline.
use pipeline::prelude::*;

fn main() {
    let _p = pipeline!(manifest = "../../../../pipeline-macros/tests/compile_fail/manifests/output_names.json");
}
