//! Failures of `pipeline run --hosts` with real `pipeline worker` processes on 127.0.0.1: a node
//! error on a worker is reported as `node <id> on <host:port>: <message>` and leaves the worker
//! ready for the next run; a worker killed (`kill -9`) or stopped (`SIGSTOP`) mid-run fails the
//! run naming it, quickly, with every output line already written intact, and the local process
//! exits.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::cli::text;
use support::workers::{hosts_file, pipeline, scratch, Worker, TOKEN};

/// `input -> a -> b -> out` with `b` pinned to `worker`; `b` is `b_node` (a node's JSON fields
/// after its id).
fn pinned_chain(dir: &Path, name: &str, worker: &Worker, b_node: &str) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(
        &path,
        format!(
            r#"{{"version": "v1", "metadata": {{"name": "{name}"}},
                "nodes": [{{"id": "a", "node_type": "Calculator", "params": {{"operand": 1}}}},
                          {{"id": "b", {b_node}, "host": "{}"}},
                          {{"id": "c", "node_type": "PassThrough"}}],
                "connections": [{{"from": "a", "to": "b"}}, {{"from": "b", "to": "c"}}]}}"#,
            worker.address
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_node_error_on_a_worker_names_node_and_worker_and_the_worker_serves_the_next_run() {
    let worker = Worker::spawn(&[]);
    let dir = scratch("node-error");
    let hosts = hosts_file(&dir, &[&worker]);
    let failing = pinned_chain(
        &dir,
        "divide",
        &worker,
        r#""node_type": "Calculator", "params": {"operation": "divide", "operand": 0}"#,
    );
    let input: String = (0..1000).map(|x| format!("{x}\n")).collect();
    let out = pipeline(
        &[
            "run",
            failing.to_str().unwrap(),
            "--hosts",
            hosts.to_str().unwrap(),
        ],
        &input,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("node `b` on {}: ", worker.address))
            && stderr.contains("division by zero"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // The same worker serves the next run, to the end and correctly.
    let working = pinned_chain(
        &dir,
        "multiply",
        &worker,
        r#""node_type": "Calculator", "params": {"operation": "multiply", "operand": 2}"#,
    );
    let out = pipeline(
        &[
            "run",
            working.to_str().unwrap(),
            "--hosts",
            hosts.to_str().unwrap(),
        ],
        &input,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let want: String = (0..1000).map(|x| format!("{}\n", (x + 1) * 2)).collect();
    assert_eq!(text(&out.stdout), want);
}

/// A `pipeline run` fed an endless input, slowly, so it is mid-run whenever the test acts.
struct EndlessRun {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stop_feeding: Arc<AtomicBool>,
    feeder: Option<JoinHandle<()>>,
    reader: Option<JoinHandle<()>>,
}

impl EndlessRun {
    fn start(args: &[&str]) -> EndlessRun {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pipeline"))
            .args(args)
            .env("PIPELINE_TOKEN", TOKEN)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let stop_feeding = Arc::new(AtomicBool::new(false));
        let stop = stop_feeding.clone();
        // 2000 numbers every 5 ms: a few hundred thousand items a second at most, forever.
        let feeder = std::thread::spawn(move || {
            let mut next = 0_u64;
            while !stop.load(Ordering::SeqCst) {
                let chunk: String = (next..next + 2000).map(|x| format!("{x}\n")).collect();
                next += 2000;
                if input.write_all(chunk.as_bytes()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stdout.take().unwrap();
        let sink = stdout.clone();
        let reader = std::thread::spawn(move || {
            let mut buffer = [0_u8; 1 << 16];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    return;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        EndlessRun {
            child,
            stdout,
            stop_feeding,
            feeder: Some(feeder),
            reader: Some(reader),
        }
    }

    /// Waits (at most 60 s) until at least `bytes` of output were written: the run is flowing.
    fn wait_for_output(&mut self, bytes: usize) {
        let started = Instant::now();
        while self.stdout.lock().unwrap().len() < bytes {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                let _ = self
                    .child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr);
                panic!("the run ended ({status}) before writing {bytes} bytes: {stderr}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no output within 60 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the run to exit, killing it (and failing) after `limit`; returns its status, the
    /// time it took, its stdout and its stderr.
    fn exit_within(mut self, limit: Duration) -> (ExitStatus, Duration, String, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let mut stderr = String::new();
                let _ = self
                    .child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr);
                panic!("the run did not exit within {limit:?} of the failure; stderr:\n{stderr}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let took = started.elapsed();
        self.stop_feeding.store(true, Ordering::SeqCst);
        self.feeder.take().unwrap().join().unwrap();
        self.reader.take().unwrap().join().unwrap();
        let mut stderr = String::new();
        let _ = self
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr);
        let stdout = text(&self.stdout.lock().unwrap());
        (status, took, stdout, stderr)
    }
}

impl Drop for EndlessRun {
    fn drop(&mut self) {
        self.stop_feeding.store(true, Ordering::SeqCst);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every line of `stdout` is a whole JSON number, in the order the chain `x + 1` then `* 2`
/// writes them (nothing torn, nothing lost in the middle).
fn check_written_prefix(stdout: &str) {
    assert!(
        stdout.ends_with('\n') || stdout.is_empty(),
        "a torn last line"
    );
    for (i, line) in stdout.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("line {} `{line}` is not JSON: {err}", i + 1));
        assert_eq!(value.as_u64(), Some((i as u64 + 1) * 2), "line {}", i + 1);
    }
}

#[test]
fn a_worker_killed_mid_run_fails_the_run_within_two_seconds_naming_it() {
    let worker = Worker::spawn(&[]);
    let dir = scratch("kill");
    let hosts = hosts_file(&dir, &[&worker]);
    let manifest = pinned_chain(
        &dir,
        "kill",
        &worker,
        r#""node_type": "Calculator", "params": {"operation": "multiply", "operand": 2}"#,
    );
    let mut run = EndlessRun::start(&[
        "run",
        manifest.to_str().unwrap(),
        "--hosts",
        hosts.to_str().unwrap(),
    ]);
    run.wait_for_output(100_000);
    worker.signal("-9");
    let (status, took, stdout, stderr) = run.exit_within(Duration::from_secs(10));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(took < Duration::from_secs(2), "took {took:?}: {stderr}");
    assert!(stderr.contains(&worker.address), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.len() >= 100_000);
    check_written_prefix(&stdout);
}

#[test]
fn a_stopped_worker_fails_the_run_after_the_worker_timeout_naming_it() {
    let worker = Worker::spawn(&[]);
    let dir = scratch("stop");
    let hosts = hosts_file(&dir, &[&worker]);
    let manifest = pinned_chain(
        &dir,
        "stop",
        &worker,
        r#""node_type": "Calculator", "params": {"operation": "multiply", "operand": 2}"#,
    );
    let mut run = EndlessRun::start(&[
        "run",
        manifest.to_str().unwrap(),
        "--hosts",
        hosts.to_str().unwrap(),
        "--worker-timeout",
        "1",
    ]);
    run.wait_for_output(100_000);
    worker.signal("-STOP");
    let (status, took, stdout, stderr) = run.exit_within(Duration::from_secs(15));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&worker.address) && stderr.contains("--worker-timeout"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The timeout counts from the worker's last heartbeat (every 200 ms), which may precede the
    // stop; the run must not wait much beyond it either.
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(5),
        "took {took:?}: {stderr}"
    );
    check_written_prefix(&stdout);
}

/// A process's peak resident memory (`VmHWM`) in bytes, while it lives.
fn peak_rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

/// Bounded memory: 10 M items through a two-process manifest with the slow side on the worker
/// (sixteen threaded stages of `Calculator`s) and the local process reading and writing JSON
/// lines, and the reverse (the heavy part local, a light node on the worker). Each process's peak
/// RSS is printed and must stay far below what holding the stream would take (10 M items are
/// ~80 MB of text, several hundred MB as values).
///
/// Slow in a debug build; run it with a release binary of `pipeline`:
/// `cargo build --release --bin pipeline && PIPELINE_BIN=target/release/pipeline \
///  cargo test --test distributed_failures -- --ignored --nocapture`
#[test]
#[ignore = "10 M items: minutes; run by hand with PIPELINE_BIN (see the doc comment)"]
fn ten_million_items_across_two_processes_stay_in_bounded_memory() {
    const ITEMS: u64 = 10_000_000;
    const LIMIT: u64 = 64 << 20;
    let binary = support::workers::binary();
    for heavy_on_worker in [true, false] {
        let worker = Worker::spawn(&[]);
        let dir = scratch(&format!("memory-{heavy_on_worker}"));
        let hosts = hosts_file(&dir, &[&worker]);
        let (heavy_host, light_host) = if heavy_on_worker {
            (format!(r#", "host": "{}""#, worker.address), String::new())
        } else {
            (String::new(), format!(r#", "host": "{}""#, worker.address))
        };
        let mut nodes = vec![format!(
            r#"{{"id": "light", "node_type": "Calculator", "params": {{"operand": 1}}{light_host}}}"#
        )];
        let mut connections = Vec::new();
        let mut previous = "light".to_string();
        for i in 0..16 {
            let id = format!("heavy_{i}");
            nodes.push(format!(
                r#"{{"id": "{id}", "node_type": "Calculator", "params": {{"operation": "multiply", "operand": 1}}, "stage": true{heavy_host}}}"#
            ));
            connections.push(format!(r#"{{"from": "{previous}", "to": "{id}"}}"#));
            previous = id;
        }
        nodes.push(r#"{"id": "count", "node_type": "Count"}"#.to_string());
        connections.push(format!(r#"{{"from": "{previous}", "to": "count"}}"#));
        let manifest = dir.join("m.json");
        std::fs::write(
            &manifest,
            format!(
                r#"{{"version": "v1", "metadata": {{"name": "memory"}}, "nodes": [{}], "connections": [{}]}}"#,
                nodes.join(", "),
                connections.join(", ")
            ),
        )
        .unwrap();
        let mut child = Command::new(&binary)
            .args(["run", manifest.to_str().unwrap(), "--hosts"])
            .arg(&hosts)
            .env("PIPELINE_TOKEN", TOKEN)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            let mut next = 0;
            while next < ITEMS {
                let end = (next + 100_000).min(ITEMS);
                let chunk: String = (next..end).map(|x| format!("{x}\n")).collect();
                input.write_all(chunk.as_bytes()).unwrap();
                next = end;
            }
        });
        let pid = child.id();
        let started = Instant::now();
        let mut local_peak = 0;
        while child.try_wait().unwrap().is_none() {
            local_peak = local_peak.max(peak_rss_bytes(pid).unwrap_or(0));
            assert!(started.elapsed() < Duration::from_secs(1200), "over 20 min");
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), ITEMS.to_string());
        let worker_peak = peak_rss_bytes(worker.child.id()).unwrap();
        println!(
            "10 M items, heavy side on the {}: {:.1} s, peak RSS local {:.1} MB, worker {:.1} MB",
            if heavy_on_worker {
                "worker"
            } else {
                "local process"
            },
            started.elapsed().as_secs_f64(),
            local_peak as f64 / 1e6,
            worker_peak as f64 / 1e6
        );
        assert!(local_peak < LIMIT && worker_peak < LIMIT);
    }
}
