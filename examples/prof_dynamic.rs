use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::Value;
fn main() {
    let text = std::fs::read_to_string("examples/manifests/simple.json").unwrap();
    let reg = Registry::with_builtins();
    let mut p = build(
        pipeline::manifest::load("s", &text, &reg).unwrap(),
        BuildOptions::default(),
    );
    let input: Vec<Value> = (0..100).map(Value::Int).collect();
    let mut total = 0usize;
    for _ in 0..200_000 {
        total += p.run(input.iter().cloned()).unwrap().len();
    }
    let t = std::time::Instant::now();
    for _ in 0..2000 {
        let lowered = pipeline::manifest::load("s", &text, &reg).unwrap();
        total += build(lowered, BuildOptions::default())
            .describe()
            .nodes
            .len();
    }
    eprintln!("{total} cold {:?}", t.elapsed() / 2000);
}
