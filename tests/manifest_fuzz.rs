//! Fuzzing the manifest loader with proptest: structure-aware mutations of the example manifests
//! (valid and invalid ones) and random JSON text. Whatever the input, loading never panics, every
//! error names a location inside the text, and a manifest that loads builds and runs without a panic.
//!
//! CI runs a few thousand cases. For a long run outside CI:
//!
//! ```sh
//! PIPELINE_FUZZ_CASES=1000000 cargo test --release --test manifest_fuzz -- --ignored --nocapture
//! ```

use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::manifest;
use pipeline::Value;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value as Json;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

fn examples() -> &'static [String] {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/manifests");
        let mut texts = Vec::new();
        for sub in ["", "/invalid"] {
            let mut paths: Vec<_> = std::fs::read_dir(format!("{dir}{sub}"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            paths.sort();
            texts.extend(paths.iter().map(|p| std::fs::read_to_string(p).unwrap()));
        }
        texts
    })
}

/// Values worth trying anywhere: wrong types, edge numbers, names that exist or almost do.
fn interesting(choice: u32) -> Json {
    let table: [fn() -> Json; 24] = [
        || Json::Null,
        || Json::Bool(true),
        || Json::Bool(false),
        || 0.into(),
        || 1.into(),
        || (-1).into(),
        || u64::MAX.into(),
        || i64::MIN.into(),
        || 1e308.into(),
        || 2.5.into(),
        || "".into(),
        || "input".into(),
        || "output".into(),
        || "output.x".into(),
        || "n1".into(),
        || "v1".into(),
        || "PassThrough".into(),
        || "CalculatorNode".into(),
        || "Batch".into(),
        || "é\u{0}\u{202e}".into(),
        || Json::Array(vec![]),
        || Json::Object(Default::default()),
        || serde_json::json!({"id": "n1", "node_type": "PassThrough", "stage": true, "parallelism": 3}),
        || serde_json::json!({"from": "input", "to": "output"}),
    ];
    table[choice as usize % table.len()]()
}

const FIELDS: [&str; 17] = [
    "id",
    "node_type",
    "params",
    "stage",
    "parallelism",
    "ordered",
    "batch_size",
    "channel_capacity",
    "accepts",
    "emits",
    "capabilities",
    "from",
    "to",
    "version",
    "metadata",
    "nodes",
    "connections",
];

/// JSON pointers of every value in `json`.
fn paths(json: &Json, at: String, out: &mut Vec<String>) {
    match json {
        Json::Object(map) => map
            .iter()
            .for_each(|(k, v)| paths(v, format!("{at}/{k}"), out)),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| paths(v, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

/// Applies one structure-aware mutation to `json`.
fn mutate(json: &mut Json, op: u8, target: u32, choice: u32) {
    let mut all = Vec::new();
    paths(json, String::new(), &mut all);
    let pointer = &all[target as usize % all.len()];
    let Some(value) = json.pointer_mut(pointer) else {
        return;
    };
    match op % 6 {
        0 => *value = interesting(choice),
        1 => match value {
            Json::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(choice as usize % map.len()).unwrap().clone();
                map.remove(&key);
            }
            Json::Array(items) if !items.is_empty() => {
                items.remove(choice as usize % items.len());
            }
            _ => *value = Json::Null,
        },
        2 => match value {
            Json::Object(map) => {
                let field = FIELDS[choice as usize % FIELDS.len()];
                map.insert(field.to_string(), interesting(choice / 7));
            }
            Json::Array(items) if !items.is_empty() => {
                let copy = items[choice as usize % items.len()].clone();
                items.push(copy);
            }
            _ => *value = interesting(choice),
        },
        3 => {
            if value.is_number() {
                let big = [
                    0_u64,
                    2,
                    255,
                    256,
                    257,
                    1 << 20,
                    (1 << 20) + 1,
                    65_537,
                    u64::MAX,
                ];
                *value = big[choice as usize % big.len()].into();
            } else {
                *value = interesting(choice);
            }
        }
        4 => {
            if let Json::String(s) = value {
                s.push_str(["_", "x", ".", "-0", " "][choice as usize % 5]);
            } else {
                *value = Json::String("x".repeat(choice as usize % 5));
            }
        }
        _ => *value = Json::Array(vec![value.clone(), interesting(choice)]),
    }
}

/// Damages the text itself: truncates it, or drops or inserts a character.
fn damage(text: &mut String, op: u8, at: u32) {
    if text.is_empty() {
        return;
    }
    let mut at = at as usize % text.len();
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    match op % 3 {
        0 => text.truncate(at),
        1 => {
            text.remove(at);
        }
        _ => text.insert(
            at,
            ['{', '}', '"', ',', ':', '[', '\\', 'é'][op as usize % 8],
        ),
    }
}

type Case = (usize, Vec<(u8, u32, u32)>, Option<(u8, u32)>, bool);

fn case() -> impl Strategy<Value = Case> {
    (
        any::<usize>(),
        proptest::collection::vec((any::<u8>(), any::<u32>(), any::<u32>()), 0..6),
        proptest::option::weighted(0.2, (any::<u8>(), any::<u32>())),
        any::<bool>(),
    )
}

fn text_of((example, ops, damage_op, pretty): &Case) -> String {
    let source = &examples()[example % examples().len()];
    let mut text = match serde_json::from_str::<Json>(source) {
        Ok(mut json) => {
            for &(op, target, choice) in ops {
                mutate(&mut json, op, target, choice);
            }
            if *pretty {
                serde_json::to_string_pretty(&json).unwrap()
            } else {
                json.to_string()
            }
        }
        Err(_) => source.clone(), // the malformed example, damaged further below
    };
    if let Some((op, at)) = damage_op {
        damage(&mut text, *op, *at);
    }
    text
}

static LOADED: AtomicU64 = AtomicU64::new(0);

/// The property: no panic; errors located inside the text; loaded manifests build and run.
fn check(text: &str) -> Result<(), TestCaseError> {
    let registry = Registry::with_builtins();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        manifest::load("fuzz.json", text, &registry)
    }));
    let loaded = match outcome {
        Err(_) => return Err(TestCaseError::fail(format!("panic loading:\n{text}"))),
        Ok(loaded) => loaded,
    };
    match loaded {
        Err(err) => {
            prop_assert!(
                err.errors().next().is_some(),
                "an error without a problem:\n{text}"
            );
            for problem in err.errors() {
                let loc = &problem.location;
                prop_assert!(
                    loc.line >= 1 && loc.column >= 1 && loc.offset <= text.len(),
                    "{}: location {:?} outside the text:\n{}",
                    problem.message(),
                    loc,
                    text
                );
            }
            let rendered = catch_unwind(AssertUnwindSafe(|| err.to_string()));
            prop_assert!(rendered.is_ok(), "panic rendering the error:\n{}", text);
        }
        Ok(lowered) => {
            let n = LOADED.fetch_add(1, Ordering::Relaxed);
            let ran = catch_unwind(AssertUnwindSafe(|| {
                let mut p = build(lowered, BuildOptions::default());
                // Running starts threads: do it for a sample of the manifests that load.
                if n % 8 == 0 {
                    let _ = p.run([Value::Int(1), Value::from("x"), Value::Null]);
                }
            }));
            prop_assert!(ran.is_ok(), "panic building or running:\n{}", text);
        }
    }
    Ok(())
}

fn fuzz(cases: u32) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let random_text = proptest::collection::vec(any::<u8>(), 0..200)
        .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    let strategy = prop_oneof![9 => case().prop_map(|c| text_of(&c)), 1 => random_text];
    // Panics inside the loader are caught and reported as failures; keep the log quiet.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = runner.run(&strategy, |text| check(&text));
    std::panic::set_hook(hook);
    if let Err(err) = result {
        panic!("{err}");
    }
    println!(
        "{cases} cases in {:.1?} ({} loaded)",
        started.elapsed(),
        LOADED.load(Ordering::Relaxed)
    );
}

fn cases_from_env(default: u32) -> u32 {
    std::env::var("PIPELINE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutated_manifests_never_panic_and_errors_have_locations() {
    fuzz(2_000);
}

/// Crash inputs the fuzzer found, kept as regression tests.
#[test]
fn crash_regressions() {
    // A `Batch` size of u64::MAX reserved that many items up front: capacity overflow panic.
    let huge_batch = r#"{"connections":[{"from":"batch","to":"sum"}],"metadata":{"name":"incompatible ports"},"nodes":[{"id":"batch","node_type":"Batch","params":{"size":18446744073709551615}},{"id":"sum","node_type":"Sum"}],"version":"v1"}"#;
    let huge_batch_ok = huge_batch.replace(r#","to":"sum""#, r#","to":"output""#);
    for text in [huge_batch, huge_batch_ok.as_str()] {
        check(text).unwrap();
    }
}

#[test]
#[ignore = "long: run with --release and PIPELINE_FUZZ_CASES"]
fn long_fuzz_run() {
    fuzz(cases_from_env(1_000_000));
}
