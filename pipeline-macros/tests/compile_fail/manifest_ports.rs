// Paths are relative to CARGO_MANIFEST_DIR, which under trybuild is target/tests/trybuild/pipeline.
// `Route` (ports named by its params) runs only in a run-time manifest; `Partition` compiles.
use pipeline::prelude::*;

fn main() {
    let _p = pipeline!(manifest = "../../../../pipeline-macros/tests/compile_fail/manifests/ports.json");
}
