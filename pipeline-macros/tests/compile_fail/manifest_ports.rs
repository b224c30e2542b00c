// Paths are relative to CARGO_MANIFEST_DIR, which under trybuild is target/tests/trybuild/pipeline.
// `Route` compiles (its ports named by its params) over `Value` items only, as it runs at run time.
use pipeline::prelude::*;

fn main() {
    let _p = pipeline!(manifest = "../../../../pipeline-macros/tests/compile_fail/manifests/ports.json", item = i64);
}
