//! Bad JSON Lines input to the real `pipeline run` binary: invalid JSON, a value of the wrong type
//! for the first node, huge lines, bytes that are not UTF-8. Each stops the run with an error naming
//! the input line, and every output of the lines before it is written.

mod support;

use std::process::Output;
use support::cli::{pipeline, text};

fn example(name: &str) -> String {
    format!("{}/examples/manifests/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `pipeline run` with `args` after the manifest.
fn run(manifest: &str, args: &[&str], stdin: Vec<u8>) -> Output {
    let all: Vec<&str> = ["run", manifest]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    pipeline(&all, stdin)
}

/// Lines `1..=n` as JSON Lines.
fn numbers(n: usize) -> String {
    (1..=n).map(|i| format!("{i}\n")).collect()
}

/// The outputs `simple.json` / `staged.json` give for `1..=n` (each plus one).
fn plus_one(n: usize) -> String {
    (2..=n + 1).map(|i| format!("{i}\n")).collect()
}

#[test]
fn invalid_json_names_the_line_and_keeps_every_earlier_output() {
    for manifest in ["simple.json", "staged.json"] {
        let input = format!("{}{{oops\n9\n", numbers(5000));
        let out = run(&example(manifest), &[], input.into_bytes());
        assert!(!out.status.success());
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("input line 5001, column 2: not valid JSON"),
            "{manifest}: {stderr}"
        );
        // Every line before the bad one went through, even across stage threads.
        assert_eq!(text(&out.stdout), plus_one(5000), "{manifest}");
    }
}

#[test]
fn a_value_of_the_wrong_type_names_the_node_and_the_line() {
    let dir = std::env::temp_dir().join(format!("pipeline-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("unbatch.json");
    std::fs::write(
        &manifest,
        r#"{"version": "v1", "metadata": {"name": "unbatch"},
            "nodes": [{"id": "flatten", "node_type": "Unbatch"}], "connections": []}"#,
    )
    .unwrap();
    let out = run(
        manifest.to_str().unwrap(),
        &[],
        b"[1, 2]\n[3]\n\"four\"\n[5]\n".to_vec(),
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("node `flatten`: expected list"), "{stderr}");
    assert!(
        stderr.contains("stopped at input line 3: 2 items read, 3 outputs written"),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "1\n2\n3\n");
}

#[test]
fn a_failing_item_names_its_node_and_line_in_fused_and_staged_runs_alike() {
    // Number lines are parsed on the input's parser thread in both runs; a blank line among them
    // moves every later item's line by one.
    let input = format!(
        "{}\n{}9223372036854775807\n8\n",
        numbers(3000),
        (3001..=6000).map(|i| format!("{i}\n")).collect::<String>()
    );
    for manifest in ["simple.json", "staged.json"] {
        let out = run(&example(manifest), &[], input.clone().into_bytes());
        assert!(!out.status.success(), "{manifest}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("node `calc_1`: add 9223372036854775807 and 1 overflows"),
            "{manifest}: {stderr}"
        );
        assert!(
            stderr.contains("stopped at input line 6002: 6000 items read, 6000 outputs written"),
            "{manifest}: {stderr}"
        );
        assert_eq!(text(&out.stdout), plus_one(6000), "{manifest}");
    }
}

#[test]
fn a_huge_line_is_refused_without_reading_it_whole() {
    let huge = "7".repeat(1 << 20);
    let input = format!("1\n2\n{huge}\n3\n");
    let out = run(
        &example("staged.json"),
        &["--max-line-bytes", "1000"],
        input.into_bytes(),
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("input line 3, column 1001: the line is longer than 1000 bytes"),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "2\n3\n");
}

#[test]
fn a_line_that_is_not_utf8_names_the_line_and_column() {
    let mut input = b"1\n2\n\"ab".to_vec();
    input.extend([0xff, 0xfe]);
    input.extend(b"\"\n4\n");
    let out = run(&example("simple.json"), &[], input);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("input line 3, column 4: not valid UTF-8"),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "2\n3\n");
}

#[test]
fn a_line_just_under_the_limit_and_crlf_endings_are_fine() {
    let out = run(
        &example("simple.json"),
        &["--max-line-bytes", "4"],
        b"1234\r\n5\r\n".to_vec(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "1235\n6\n");
}
