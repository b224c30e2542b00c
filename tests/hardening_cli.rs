//! Issue #15, the CLI's side, against the real binary: the same file as input and output, output
//! errors (a closed reader, a full disk) in every subcommand, input values that would change
//! silently (a BOM, integers beyond i64), values JSON cannot carry at the writer, `graph` with
//! hostile names, and panic noise.

mod support;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};
use support::cli::{pipeline, text};

fn example(name: &str) -> String {
    format!("{}/examples/manifests/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pipeline-hardening-cli-{}-{test}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pipeline"))
}

/// Waits for `child`, failing the test (and killing the child) if it has not ended in a minute:
/// a hang detector, not a speed check.
fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command did not end within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
        "{stderr}"
    );
}

// ---- 1. The same file as input and output -------------------------------------------------

fn numbers(path: &Path) {
    std::fs::write(path, "1\n2\n3\n").unwrap();
}

#[test]
fn run_refuses_to_write_over_its_input_file_by_any_name() {
    let dir = scratch("same-input");
    let input = dir.join("f.jsonl");
    numbers(&input);
    let link = dir.join("link.jsonl");
    std::fs::hard_link(&input, &link).unwrap();
    let dotted = dir.join(".").join("f.jsonl");
    for output in [&input, &dotted, &link] {
        let out = pipeline(
            &[
                "run",
                &example("simple.json"),
                "--input",
                input.to_str().unwrap(),
                "--output",
                output.to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("refusing to write to") && stderr.contains("same file as"),
            "{stderr}"
        );
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "1\n2\n3\n");
    }
}

#[test]
fn run_refuses_to_write_over_its_manifest_or_its_redirected_stdin() {
    let dir = scratch("same-manifest");
    let manifest = dir.join("m.json");
    std::fs::copy(example("simple.json"), &manifest).unwrap();
    let before = std::fs::read_to_string(&manifest).unwrap();
    let out = pipeline(
        &[
            "run",
            manifest.to_str().unwrap(),
            "--output",
            manifest.to_str().unwrap(),
        ],
        "1\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("refusing to write to"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), before);

    // `pipeline run M --output f < f`
    let input = dir.join("f.jsonl");
    numbers(&input);
    let out = binary()
        .args([
            "run",
            &example("simple.json"),
            "--output",
            input.to_str().unwrap(),
        ])
        .stdin(File::open(&input).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("same file as <stdin>"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "1\n2\n3\n");
}

#[test]
fn run_refuses_a_stdout_appending_to_its_input() {
    // `pipeline run M --input f >> f` would read its own outputs forever.
    let dir = scratch("append");
    let input = dir.join("f.jsonl");
    numbers(&input);
    let append = OpenOptions::new().append(true).open(&input).unwrap();
    let mut child = binary()
        .args([
            "run",
            &example("simple.json"),
            "--input",
            input.to_str().unwrap(),
        ])
        .stdout(append)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("refusing to write to <stdout>"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "1\n2\n3\n");
}

#[test]
fn export_refuses_to_write_over_its_script() {
    let dir = scratch("export");
    let script = dir.join("pipeline.py");
    std::fs::copy(
        format!("{}/examples/python/pipeline.py", env!("CARGO_MANIFEST_DIR")),
        &script,
    )
    .unwrap();
    let before = std::fs::read_to_string(&script).unwrap();
    let path = script.to_str().unwrap();
    let out = pipeline(&["export", path, "-o", path], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("refusing to write to"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&script).unwrap(), before);
    // Another file is written as before.
    let json = dir.join("pipeline.json");
    let out = pipeline(&["export", path, "-o", json.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&json)
        .unwrap()
        .contains("\"nodes\""));
}

// ---- 2. Output errors ----------------------------------------------------------------------

/// Every subcommand that prints to stdout, with its arguments and its stdin.
fn printing_commands() -> Vec<(Vec<String>, &'static str)> {
    let script = format!("{}/examples/python/pipeline.py", env!("CARGO_MANIFEST_DIR"));
    let simple = example("simple.json");
    [
        (vec!["validate", &simple], ""),
        (vec!["graph", &simple], ""),
        (vec!["graph", &simple, "--format", "dot"], ""),
        (vec!["plan", &simple], ""),
        (vec!["nodes"], ""),
        (vec!["schema"], ""),
        (vec!["export", &script], ""),
        (vec!["run", &simple], "1\n2\n3\n"),
    ]
    .into_iter()
    .map(|(args, stdin)| (args.into_iter().map(String::from).collect(), stdin))
    .collect()
}

fn run_with_stdout(args: &[String], stdin: &str, stdout: Stdio) -> Output {
    let mut child = binary()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn a_full_disk_is_an_error_naming_stdout_in_every_subcommand() {
    for (args, stdin) in printing_commands() {
        let full = File::create("/dev/full").unwrap();
        let out = run_with_stdout(&args, stdin, full.into());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: <stdout>: No space left on device"),
            "{args:?}: {stderr}"
        );
        assert_no_panic(&stderr);
    }
}

/// Int lines whose outputs fill the run's output buffer (256 KiB) several times over: the errors
/// come from a write of a full buffer, not from the final flush.
fn lines_past_the_output_buffer() -> String {
    (0..200_000).map(|i| format!("{i}\n")).collect()
}

/// The run failed naming its full output `name`, without panic noise.
fn assert_full(out: &Output, name: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("error: {name}: No space left on device")),
        "{stderr}"
    );
    assert_no_panic(&stderr);
}

#[test]
fn a_full_output_is_an_error_naming_it() {
    // Two lines fail at the final flush; many, at a write of a full buffer.
    for input in ["1\n2\n".to_string(), lines_past_the_output_buffer()] {
        let out = pipeline(
            &["run", &example("simple.json"), "--output", "/dev/full"],
            &input,
        );
        assert_full(&out, "/dev/full");
        let full = File::create("/dev/full").unwrap();
        let args = ["run".to_string(), example("simple.json")];
        assert_full(&run_with_stdout(&args, &input, full.into()), "<stdout>");
    }
}

#[test]
fn a_closed_stdout_ends_a_large_run_quietly() {
    let out = run_with_stdout(
        &[
            "run".to_string(),
            example("simple.json"),
            "--tag".to_string(),
        ],
        &lines_past_the_output_buffer(),
        closed_pipe().into(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

/// The write end of a pipe whose reader has already exited: every write fails with `EPIPE`.
fn closed_pipe() -> ChildStdin {
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let write_end = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    write_end
}

#[test]
fn a_closed_stdout_ends_every_subcommand_quietly() {
    for (args, stdin) in printing_commands() {
        let out = run_with_stdout(&args, stdin, closed_pipe().into());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[test]
fn run_stops_promptly_when_its_reader_goes_away() {
    // `endless-input | pipeline run staged.json | head -n 5`: a threaded pipeline, an input that
    // never ends; when the reader leaves, the run must stop (exit 0, nothing on stderr) instead of
    // reading on.
    let mut child = binary()
        .args(["run", &example("staged.json")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let mut line = 0u64;
        // Ends when the command closes its stdin (by exiting).
        while input.write_all(format!("{line}\n").as_bytes()).is_ok() {
            line += 1;
        }
        line
    });
    let mut outputs = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..5 {
        let mut line = String::new();
        outputs.read_line(&mut line).unwrap();
        assert!(line.trim().parse::<i64>().is_ok(), "{line:?}");
    }
    drop(outputs);
    let status = wait_bounded(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
    assert!(feeder.join().unwrap() > 5);
}

// ---- 3. Input values -----------------------------------------------------------------------

/// Runs `stdin` through a PassThrough node: outputs are the inputs as the CLI understood them.
fn pass_through(stdin: &str) -> Output {
    let dir = scratch(&format!("pass-{}", stdin.len()));
    let manifest = dir.join("pass.json");
    std::fs::write(
        &manifest,
        r#"{"version": "v1", "metadata": {"name": "pass"},
            "nodes": [{"id": "pass", "node_type": "PassThrough"}], "connections": []}"#,
    )
    .unwrap();
    pipeline(&["run", manifest.to_str().unwrap()], stdin)
}

#[test]
fn a_byte_order_mark_before_the_first_line_is_accepted() {
    let out = pipeline(&["run", &example("simple.json")], "\u{feff}1\n2\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2\n3\n");
    // Elsewhere it is not JSON.
    let out = pipeline(&["run", &example("simple.json")], "1\n\u{feff}2\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("input line 2, column 1: not valid JSON"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn integers_beyond_i64_are_an_error_at_their_line_and_column() {
    for (line, column) in [
        ("18446744073709551616", 1),
        ("-9223372036854775809", 1),
        ("9223372036854775808", 1),
        ("18446744073709551615", 1),
        (r#"{"a": [1, 100000000000000000000000]}"#, 11),
    ] {
        let out = pass_through(&format!("1\n{line}\n3\n"));
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{line}: {stderr}");
        assert!(
            stderr.contains(&format!("input line 2, column {column}: the integer"))
                && stderr.contains("does not fit 64 bits"),
            "{line}: {stderr}"
        );
        // The line before it was processed and written.
        assert_eq!(text(&out.stdout), "1\n", "{line}");
    }
}

#[test]
fn integers_within_i64_and_floats_keep_their_exact_form() {
    let out = pass_through(
        "9223372036854775807\n-9223372036854775808\n1.0\n1e2\n18446744073709551616.0\n-0.5e-3\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "9223372036854775807\n-9223372036854775808\n1.0\n100.0\n1.8446744073709552e+19\n-0.0005\n"
    );
}

// ---- 4. Values JSON cannot carry -----------------------------------------------------------

#[test]
fn nan_or_infinity_reaching_the_writer_is_an_error_naming_the_output_after_earlier_outputs() {
    let dir = scratch("nan");
    for (bad, shown) in [
        ("float('inf')", "inf"),
        ("float('nan')", "NaN"),
        ("-float('inf')", "-inf"),
    ] {
        let manifest = dir.join("nan.json");
        let code = format!("def ratio(x):\n    return {{'r': [x, {bad} if x == 3 else x / 2]}}\n");
        std::fs::write(
            &manifest,
            serde_json::json!({
                "version": "v1",
                "metadata": {"name": "nan"},
                "nodes": [{"id": "ratio", "node_type": "python",
                           "params": {"code": code, "function": "ratio"}}],
                "connections": [{"from": "ratio", "to": "output.ratios"}]
            })
            .to_string(),
        )
        .unwrap();
        let out = pipeline(&["run", manifest.to_str().unwrap()], "1\n2\n3\n4\n");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        // Every output before the bad one is written.
        assert_eq!(
            text(&out.stdout),
            "{\"r\":[1,0.5]}\n{\"r\":[2,1.0]}\n",
            "{stderr}"
        );
        // The writer names the output and its node; a Python node may refuse the value itself.
        assert!(
            stderr.contains("output `ratios` (from node `ratio`)")
                || stderr.contains("node `ratio`"),
            "{stderr}"
        );
        assert!(
            stderr.contains(shown) || stderr.to_lowercase().contains("nan"),
            "{stderr}"
        );
        assert!(!text(&out.stdout).contains("null"));
    }
}

// ---- 5. `pipeline graph` -------------------------------------------------------------------

/// Splits DOT text into what lies outside quoted strings and the strings' raw contents.
fn dot_strings(dot: &str) -> (String, Vec<String>) {
    let (mut outside, mut strings) = (String::new(), Vec::new());
    let mut chars = dot.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            outside.push(c);
            continue;
        }
        let mut string = String::new();
        loop {
            match chars.next().expect("every string is closed") {
                '\\' => {
                    string.push('\\');
                    string.push(chars.next().expect("an escape has a character"));
                }
                '"' => break,
                '\n' => panic!("a raw newline inside a string: {dot}"),
                c => string.push(c),
            }
        }
        strings.push(string);
    }
    (outside, strings)
}

const HOSTILE_OUTPUT: &str = "we\"ird\n}\\ name <b>{x|y}</b> ; `md` #quot; é ✓";

fn hostile_manifest(dir: &Path) -> PathBuf {
    let manifest = dir.join("hostile.json");
    std::fs::write(
        &manifest,
        serde_json::json!({
            "version": "v1",
            "metadata": {"name": "hostile"},
            "nodes": [{"id": "a", "node_type": "PassThrough"},
                      {"id": "b", "node_type": "PassThrough", "stage": true}],
            "connections": [{"from": "a", "to": "b"},
                            {"from": "a", "to": format!("output.{HOSTILE_OUTPUT}")},
                            {"from": "b", "to": "output.b"}]
        })
        .to_string(),
    )
    .unwrap();
    manifest
}

#[test]
fn graph_draws_outputs_as_terminals_not_self_loops() {
    let out = pipeline(&["graph", &example("simple.json"), "--format", "dot"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dot = text(&out.stdout);
    assert!(
        dot.contains("out0 [shape=oval, label=\"output.pass_2\"];"),
        "{dot}"
    );
    assert!(dot.contains("n2 -> out0;"), "{dot}");
    let out = pipeline(&["graph", &example("simple.json")], "");
    let mermaid = text(&out.stdout);
    assert!(mermaid.contains("out0([\"output.pass_2\"])"), "{mermaid}");
    assert!(mermaid.contains("n2 --> out0"), "{mermaid}");
    for text in [&dot, &mermaid] {
        for line in text.lines() {
            let ends: Vec<&str> = line
                .split(['-', '=', '>', ';', ' '])
                .filter(|s| !s.is_empty())
                .collect();
            if line.contains("->") || line.contains("-->") || line.contains("==>") {
                assert_ne!(ends.first(), ends.get(1), "a self-loop: {line}");
            }
        }
    }
}

#[test]
fn graph_escapes_hostile_names_in_dot() {
    let dir = scratch("graph-dot");
    let out = pipeline(
        &[
            "graph",
            hostile_manifest(&dir).to_str().unwrap(),
            "--format",
            "dot",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dot = text(&out.stdout);
    let (outside, strings) = dot_strings(&dot);
    // Outside quoted strings there are only generated ids and DOT punctuation.
    assert!(
        outside
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " \n_{}[]=;,->".contains(c)),
        "{outside}"
    );
    assert!(
        strings
            .contains(&"output.we\\\"ird\\n}\\\\ name <b>{x|y}</b> ; `md` #quot; é ✓".to_string()),
        "{strings:?}"
    );
    assert!(
        dot.contains("n0 -> out0;") && dot.contains("n1 -> out1;"),
        "{dot}"
    );
    // Where Graphviz is installed, it must read the text (the tests do not need it).
    if let Ok(mut dot_tool) = Command::new("dot")
        .arg("-Tcanon")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        dot_tool
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        let parsed = dot_tool.wait_with_output().unwrap();
        assert!(parsed.status.success(), "{}", text(&parsed.stderr));
    }
}

#[test]
fn graph_escapes_hostile_names_in_mermaid() {
    let dir = scratch("graph-mermaid");
    let out = pipeline(&["graph", hostile_manifest(&dir).to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mermaid = text(&out.stdout);
    // The header, the input, 2 subgraphs of 3 lines, 2 outputs and 4 edges.
    assert_eq!(mermaid.lines().count(), 1 + 1 + 6 + 2 + 4, "{mermaid}");
    for line in mermaid.lines() {
        assert_eq!(line.matches('"').count() % 2, 0, "{line}");
        for (k, part) in line.split('"').enumerate() {
            if k % 2 == 1 {
                assert!(
                    !part.contains(['[', ']', '(', ')', '{', '}', '<', '>', '|', '`', '\\']),
                    "{part}"
                );
            }
        }
    }
    assert!(
        mermaid.contains("out0([\"output.we#34;ird#10;#125;#92; name #60;b#62;#123;x#124;y#125;"),
        "{mermaid}"
    );
    assert!(mermaid.contains(" é #10003;\"])"), "{mermaid}");
}

// ---- 6. Panics -----------------------------------------------------------------------------

#[test]
fn a_caught_panic_is_reported_once_naming_the_node_without_rust_panic_text() {
    // RustPython 0.5 panics (an internal assertion) reading `__name__` of every subclass of
    // `object`; the runtime catches it. With a backtrace asked for, still only the error shows.
    let dir = scratch("panic");
    let manifest = dir.join("walker.json");
    std::fs::write(
        &manifest,
        serde_json::json!({
            "version": "v1",
            "metadata": {"name": "walker"},
            "nodes": [{"id": "walker", "node_type": "python", "params": {
                "code": "def walk(x):\n    return len([c.__name__ for c in object.__subclasses__()])\n",
                "function": "walk"}}],
            "connections": []
        })
        .to_string(),
    )
    .unwrap();
    let out = binary()
        .args(["run", manifest.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(b"1\n")?;
            child.wait_with_output()
        })
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("thread '"), "{stderr}");
    assert!(!stderr.contains("panicked at"), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    if !out.status.success() {
        // Reported once, naming the node, with the panic's own message.
        assert!(stderr.starts_with("error: node `walker`"), "{stderr}");
        assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    }
}
