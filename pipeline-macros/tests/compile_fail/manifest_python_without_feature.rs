// The compile-fail suite builds the facade without its `python` feature: a compiled manifest with
// python nodes is a compile error per node, naming it and its place in the JSON file.
use pipeline::prelude::*;

fn main() {
    let _p = pipeline!(manifest = "../../../../pipeline-macros/tests/compile_fail/manifests/python.json", item = i64);
}
