//! `pipeline run --hosts` with real `pipeline worker` processes on 127.0.0.1 writes the outputs
//! of what it has read while its input pauses, as a local run does, instead of holding them
//! back until the next line or the end of the input.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::cli::{text, wait_within};
use support::workers::{binary, hosts_file, scratch, Worker, TOKEN};

/// How long the outputs of the lines written may take to appear: generous, the machine is shared;
/// without the fix they never appear while the input stays open.
const OUTPUTS_WITHIN: Duration = Duration::from_secs(10);

/// The manifest of these tests: `a` here, `b` on `worker`, `c` here again, so every item crosses
/// to the worker and back.
fn manifest(worker: &Worker) -> String {
    format!(
        r#"{{"version": "v1", "metadata": {{"name": "prompt"}},
          "nodes": [{{"id": "a", "node_type": "Calculator", "params": {{"operand": 1}}}},
                    {{"id": "b", "node_type": "Calculator", "params": {{"operation": "multiply", "operand": 10}}, "host": "{}"}},
                    {{"id": "c", "node_type": "PassThrough"}}],
          "connections": [{{"from": "a", "to": "b"}}, {{"from": "b", "to": "c"}}]}}"#,
        worker.address
    )
}

#[test]
fn outputs_of_lines_read_appear_while_the_input_stays_open() {
    let worker = Worker::spawn(&[]);
    let dir = scratch("prompt");
    let hosts = hosts_file(&dir, &[&worker]);
    let path = dir.join("prompt.json");
    std::fs::write(&path, manifest(&worker)).unwrap();
    let mut run = Command::new(binary())
        .args([
            "run",
            path.to_str().unwrap(),
            "--hosts",
            hosts.to_str().unwrap(),
        ])
        .env("PIPELINE_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = run.stdout.take().unwrap();
    let (lines, outputs) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdin = run.stdin.take().unwrap();
    stdin.write_all(b"1\n2\n3\n").unwrap();
    stdin.flush().unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        match outputs.recv_timeout(OUTPUTS_WITHIN) {
            Ok(line) => seen.push(line),
            Err(_) => {
                drop(stdin);
                let (out, _) = wait_within(run, Duration::from_secs(60), "the run");
                panic!(
                    "only {seen:?} of the 3 outputs within {OUTPUTS_WITHIN:?} while the input \
                     stayed open; stderr:\n{}",
                    text(&out.stderr)
                );
            }
        }
    }
    assert_eq!(seen, ["20", "30", "40"]);
    // More input after the pause goes through as well, and the end of the input ends the run.
    stdin.write_all(b"4\n").unwrap();
    drop(stdin);
    let (out, _) = wait_within(run, Duration::from_secs(60), "the run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    reader.join().unwrap();
    let rest: Vec<String> = outputs.try_iter().collect();
    assert_eq!(rest, ["50"]);
}
