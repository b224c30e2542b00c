//! `pipeline run` over object lines, through the real binary: what the object fast path shares
//! (short strings and keys from per-thread tables) and how a chunk of lines is split into batches
//! (64 KiB of text each) must not show in the output or in where a failure is reported.

mod support;

use std::process::Output;
use support::cli::{pipeline, text};

fn simple() -> String {
    format!(
        "{}/examples/manifests/simple.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `pipeline run simple.json --input FILE` over `input`, from a file: a pipe hands over at most
/// its buffer (64 KiB) per read, a file a whole chunk (256 KiB), several batches.
fn run_file(input: &str, name: &str) -> Output {
    let path = std::env::temp_dir().join(format!(
        "pipeline-objects-fast-{name}-{}",
        std::process::id()
    ));
    std::fs::write(&path, input).unwrap();
    let out = pipeline(&["run", &simple(), "--input", path.to_str().unwrap()], "");
    let _ = std::fs::remove_file(&path);
    out
}

/// Runs `input` through `simple.json` (which leaves objects as they are) and checks the output is
/// the input, byte for byte.
fn passes_through(input: &str, name: &str) {
    let out = run_file(input, name);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout) == input,
        "the output differs from the input"
    );
}

#[test]
fn object_lines_pass_through_byte_for_byte() {
    // Repeated short values and keys (shared), unique ones (not), escapes, long strings, more
    // distinct keys and values than a sharing table holds.
    let input: String = (0..20_000)
        .map(|i| {
            format!(
                r#"{{"id":{i},"k{}":"v{}","name":"item-{i}","note":"a\"q\\\n{}","tags":["a","b{}",""],"text":"{}","value":{}}}"#,
                i % 600,
                i % 900,
                i % 3,
                i % 7,
                "long ".repeat(i % 5 * 4),
                i % 1000
            ) + "\n"
        })
        .collect();
    passes_through(&input, "objects");
}

#[test]
fn lines_of_one_shape_whose_values_change_length_and_kind_pass_through_byte_for_byte() {
    // The keys stay, so each line is read into the last one's values in place: strings of the
    // same or another length, lists of as many items or not, values that change kind.
    let input: String = (0..20_000)
        .map(|i| {
            let tags: Vec<String> = (0..i % 4)
                .map(|t| format!("\"t{}\"", i % (t + 3)))
                .collect();
            let value = match i % 5 {
                0 => format!("{i}"),
                1 => format!("\"s{}\"", "x".repeat(i % 11)),
                2 => "[1,\"two\",null]".to_string(),
                3 => "null".to_string(),
                _ => format!("{{\"inner\":{i}}}"),
            };
            format!(
                r#"{{"id":{i},"name":"item-{i}","tags":[{}],"value":{value}}}"#,
                tags.join(",")
            ) + "\n"
        })
        .collect();
    passes_through(&input, "one-shape");
}

#[test]
fn a_failure_after_the_first_batch_of_a_chunk_names_its_line() {
    // About 150 KiB of int lines with a blank line every thousand (and one just after the
    // failure, in its batch): one read's chunk, several batches; line 15,001 overflows `add 1`.
    let line = |n: u64| match n {
        _ if n % 1000 == 0 || n == 15_003 => String::new(),
        15_001 => i64::MAX.to_string(),
        _ => (100_000 + n).to_string(),
    };
    let input: String = (1..=20_000).map(|n| line(n) + "\n").collect();
    let out = run_file(&input, "failure");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("stopped at input line 15001: 14985 items read, 14985 outputs written"),
        "{stderr}"
    );
    let expected: String = (1..15_001)
        .filter(|n| n % 1000 != 0)
        .map(|n| format!("{}\n", 100_001 + n))
        .collect();
    assert!(text(&out.stdout) == expected, "{stderr}");
}

#[test]
fn object_keys_come_out_in_key_order_with_the_last_of_a_repeated_key() {
    // Keys in any order, repeated (the last value counts, as serde_json reads it), escaped and
    // non-ASCII (byte order: "B" < "a" < "z" < "é"), in nested maps, over several batches.
    let input: String = (0..20_000)
        .map(|i| {
            let inner = format!(r#"{{"k\"q":1,"b":[{i}],"k\"q":2}}"#);
            let line = match i % 3 {
                0 => format!(
                    r#"{{"z":{i},"a":"x","é":{inner},"B":null,"a":"y{}"}}"#,
                    i % 3
                ),
                1 => format!(r#"{{"é":{inner},"B":null,"a":"y{}","z":{i}}}"#, i % 3),
                _ => format!(
                    r#"{{ "B" : null , "z" : {i} , "a" : "y{}" , "é" : {inner} }}"#,
                    i % 3
                ),
            };
            line + "\n"
        })
        .collect();
    let expected: String = (0..20_000)
        .map(|i| {
            format!(
                r#"{{"B":null,"a":"y{}","z":{i},"é":{{"b":[{i}],"k\"q":2}}}}"#,
                i % 3
            ) + "\n"
        })
        .collect();
    let out = run_file(&input, "key-order");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout == expected, "first line {:?}", stdout.lines().next());
}
