// Bad python params are compile errors at their JSON location, by the run-time loader's rules.
use pipeline::prelude::*;

fn main() {
    let _p = pipeline!(manifest = "../../../../pipeline-macros/tests/compile_fail/manifests/python_bad_params.json");
}
