//! Profiling aid: runs the `simple` manifest over 100 items many times (`perf record` it).
use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::Value;

fn main() {
    let text = include_str!("manifests/simple.json");
    let registry = Registry::with_builtins();
    let lowered = pipeline::manifest::load("simple.json", text, &registry).expect("valid manifest");
    let mut p = build(lowered, BuildOptions::default());
    let input: Vec<Value> = (0..100).map(Value::Int).collect();
    let start = std::time::Instant::now();
    let runs = 200_000;
    let mut outputs = 0;
    for _ in 0..runs {
        outputs += p.run(input.iter().cloned()).expect("runs").len();
    }
    eprintln!("{outputs} outputs, {:?} per run", start.elapsed() / runs);
}
