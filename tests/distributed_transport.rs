//! Runs across processes, on loopback, with real `pipeline worker` processes: the worker's
//! stdout contract, the token, busy workers, unreachable workers, a worker's node error, and a
//! worker killed (`kill -9`) or stopped (`SIGSTOP`) mid-run. The local process is
//! `pipeline __mesh-check`, which runs a small real dataflow across itself and the workers.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::cli::{text, wait_within};

const TOKEN: &str = "transport-test-token-0123456789";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pipeline")
}

/// A private scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("pipeline-transport-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A token file (mode 0600) holding `token`.
fn token_file(dir: &Path, name: &str, token: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A running `pipeline worker`, killed when dropped.
struct Worker {
    child: Child,
    address: String,
    stderr: Arc<Mutex<String>>,
    lines: Receiver<String>,
    stdout: Option<std::process::ChildStdout>,
}

impl Worker {
    fn start(token: &Path, extra: &[&str]) -> Worker {
        let mut child = Command::new(bin())
            .args(["worker", "--listen", "127.0.0.1:0", "--token-file"])
            .arg(token)
            .args(extra)
            .env_remove("PIPELINE_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        // The first line, byte by byte: nothing more may be read here (the rest is checked).
        let mut first = Vec::new();
        let mut byte = [0u8];
        while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            first.push(byte[0]);
        }
        let first = String::from_utf8(first).unwrap();
        let address = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line `{first}`"))
            .to_string();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (send, lines) = channel();
        let (log, pipe) = (stderr.clone(), child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = send.send(line);
            }
        });
        Worker {
            child,
            address,
            stderr,
            lines,
            stdout: Some(stdout),
        }
    }

    /// Waits (at most 20 s) for a stderr line containing `text`.
    fn wait_for(&self, text: &str) {
        self.wait_for_any(&[text]);
    }

    /// Waits (at most 20 s) for a stderr line containing any of `texts`.
    fn wait_for_any(&self, texts: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if texts.iter().any(|text| line.contains(text)) => return,
                Ok(_) => {}
                Err(_) => panic!(
                    "worker {} never logged any of {texts:?}; stderr:\n{}",
                    self.address,
                    self.log()
                ),
            }
        }
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Kills the worker and returns everything it wrote to stdout after its first line.
    fn kill_and_rest_of_stdout(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut rest = String::new();
        self.stdout
            .take()
            .unwrap()
            .read_to_string(&mut rest)
            .unwrap();
        rest
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hosts_file(dir: &Path, workers: &[&str]) -> PathBuf {
    let path = dir.join("hosts");
    let mut text = String::from("# test cluster\n");
    for worker in workers {
        text += &format!("{worker}\n");
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts the local process (`__mesh-check`) over `hosts`.
fn start_check(hosts: &Path, token: &Path, extra: &[&str]) -> Child {
    Command::new(bin())
        .args(["__mesh-check", "--hosts"])
        .arg(hosts)
        .arg("--token-file")
        .arg(token)
        .args(extra)
        .env_remove("PIPELINE_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `limit` (killing it and failing the test after that).
fn finish_within(child: Child, limit: Duration) -> (Output, Duration) {
    wait_within(child, limit, "the local process")
}

fn check(hosts: &Path, token: &Path, extra: &[&str]) -> Output {
    finish_within(start_check(hosts, token, extra), Duration::from_secs(60)).0
}

fn report(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr:\n{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Nothing of the engine's panics leaks to the user.
fn assert_no_raw_panic(stderr: &str) {
    for raw in ["panicked", "MergeQueue", "RUST_BACKTRACE", "internal error"] {
        assert!(!stderr.contains(raw), "`{raw}` in stderr:\n{stderr}");
    }
}

#[test]
fn a_worker_prints_one_line_describes_its_host_and_runs_a_dataflow() {
    let dir = scratch("describe");
    let token = token_file(&dir, "token", TOKEN);
    let worker = Worker::start(
        &token,
        &["--gpu", "cuda:16", "--cores", "7", "--memory-gb", "3"],
    );
    assert!(worker.address.starts_with("127.0.0.1:"));
    assert!(!worker.address.ends_with(":0"), "{}", worker.address);
    let hosts = hosts_file(&dir, &[&worker.address]);
    let out = report(&check(&hosts, &token, &[]));
    assert_eq!(out["processes"], 2);
    assert_eq!(out["sum"], out["expected"]);
    let host = &out["workers"][0]["host"];
    assert_eq!(out["workers"][0]["address"], worker.address.as_str());
    assert_eq!(host["cores"], 7);
    assert_eq!(host["memory_gb"], 3.0);
    assert_eq!(host["gpus"][0]["kind"], "cuda");
    assert_eq!(host["gpus"][0]["memory_gb"], 16.0);
    worker.wait_for("done");
    assert_eq!(
        worker.kill_and_rest_of_stdout(),
        "",
        "stdout after `listening on`"
    );
}

#[test]
fn runs_span_the_local_process_and_two_workers_one_after_another() {
    let dir = scratch("two");
    let token = token_file(&dir, "token", TOKEN);
    let (one, two) = (Worker::start(&token, &[]), Worker::start(&token, &[]));
    let hosts = hosts_file(&dir, &[&one.address, &two.address]);
    for _ in 0..2 {
        let out = report(&check(
            &hosts,
            &token,
            &["--rounds", "20", "--per-round", "50"],
        ));
        assert_eq!(out["processes"], 3);
        assert_eq!(out["expected"], 2999 * 3000 / 2);
        assert_eq!(out["sum"], out["expected"]);
    }
    assert!(one.log().contains("process 1 of 3"), "{}", one.log());
    assert!(two.log().contains("process 2 of 3"), "{}", two.log());
}

#[test]
fn a_wrong_token_is_refused_by_the_worker() {
    let dir = scratch("token");
    let token = token_file(&dir, "token", TOKEN);
    let wrong = token_file(&dir, "wrong", "a-different-token-0123456789");
    let worker = Worker::start(&token, &[]);
    let hosts = hosts_file(&dir, &[&worker.address]);
    let out = check(&hosts, &wrong, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("worker {} refused the token", worker.address)),
        "{stderr}"
    );
    worker.wait_for("does not hold this worker's token");
    // The token can also come from the environment.
    let out = Command::new(bin())
        .args(["__mesh-check", "--hosts"])
        .arg(&hosts)
        .env("PIPELINE_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_busy_worker_refuses_a_second_run_and_serves_the_next() {
    let dir = scratch("busy");
    let token = token_file(&dir, "token", TOKEN);
    let worker = Worker::start(&token, &[]);
    let hosts = hosts_file(&dir, &[&worker.address]);
    let long = start_check(&hosts, &token, &["--rounds", "150", "--delay-ms", "10"]);
    worker.wait_for("process 1 of 2");
    let out = check(&hosts, &token, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "worker {} is busy with another run",
            worker.address
        )),
        "{stderr}"
    );
    let (first, _) = finish_within(long, Duration::from_secs(60));
    report(&first);
    report(&check(&hosts, &token, &[]));
}

#[test]
fn an_unreachable_worker_fails_after_bounded_attempts() {
    let dir = scratch("unreachable");
    let token = token_file(&dir, "token", TOKEN);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hosts = hosts_file(&dir, &[&format!("127.0.0.1:{port}")]);
    let (out, took) = finish_within(start_check(&hosts, &token, &[]), Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot reach worker 127.0.0.1:{port} (3 attempts")),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_listener_that_never_answers_times_out() {
    let dir = scratch("silent");
    let token = token_file(&dir, "token", TOKEN);
    // Accepts (the kernel does) and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let hosts = hosts_file(&dir, &[&address]);
    let (out, took) = finish_within(
        start_check(&hosts, &token, &["--connect-timeout", "0.5"]),
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot reach worker {address} (3 attempts")),
        "{stderr}"
    );
    assert!(stderr.contains("no handshake within 500ms"), "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    drop(silent);
}

#[test]
fn a_bad_hosts_file_is_named_with_its_line() {
    let dir = scratch("hostsfile");
    let token = token_file(&dir, "token", TOKEN);
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, "# ok\n127.0.0.1\n").unwrap();
    let out = check(&hosts, &token, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:2: `127.0.0.1` has no port", hosts.display())),
        "{stderr}"
    );
}

#[test]
fn a_node_error_on_a_worker_names_the_node_and_the_worker() {
    let dir = scratch("node-error");
    let token = token_file(&dir, "token", TOKEN);
    let (one, two) = (Worker::start(&token, &[]), Worker::start(&token, &[]));
    let hosts = hosts_file(&dir, &[&one.address, &two.address]);
    // Three processes: 5 % 3 == 2, so the second worker holds number 5.
    let out = check(&hosts, &token, &["--fail-on", "5"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "node `check` on {}: refused the number 5",
            two.address
        )),
        "{stderr}"
    );
    assert_no_raw_panic(&stderr);
    // Both workers are free again.
    report(&check(&hosts, &token, &[]));
}

#[test]
fn a_killed_worker_fails_the_run_within_two_seconds_naming_it() {
    let dir = scratch("kill");
    let token = token_file(&dir, "token", TOKEN);
    let (one, two) = (Worker::start(&token, &[]), Worker::start(&token, &[]));
    let hosts = hosts_file(&dir, &[&one.address, &two.address]);
    let run = start_check(&hosts, &token, &["--rounds", "2000", "--delay-ms", "10"]);
    one.wait_for("process 1 of 3");
    two.wait_for("process 2 of 3");
    std::thread::sleep(Duration::from_millis(300));
    two.signal("-9");
    let (out, took) = finish_within(run, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "worker {} (process 2) was lost mid-run",
            two.address
        )),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_no_raw_panic(&stderr);
    // The surviving worker serves the next run, with a new second worker.
    let three = Worker::start(&token, &[]);
    let hosts = hosts_file(&dir, &[&one.address, &three.address]);
    report(&check(&hosts, &token, &[]));
}

#[test]
fn a_stopped_worker_is_caught_by_the_watchdog() {
    let dir = scratch("stop");
    let token = token_file(&dir, "token", TOKEN);
    let (one, two) = (Worker::start(&token, &[]), Worker::start(&token, &[]));
    let hosts = hosts_file(&dir, &[&one.address, &two.address]);
    let run = start_check(
        &hosts,
        &token,
        &[
            "--rounds",
            "2000",
            "--delay-ms",
            "10",
            "--worker-timeout",
            "1.5",
        ],
    );
    one.wait_for("process 1 of 3");
    two.wait_for("process 2 of 3");
    std::thread::sleep(Duration::from_millis(300));
    two.signal("-STOP");
    let (out, took) = finish_within(run, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "worker {} (process 2) sent nothing for 1.5s (stopped or hung?); the limit is --worker-timeout",
            two.address
        )),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_no_raw_panic(&stderr);
    // The other worker ends its part of the run — told to abort, or its link to the local
    // process broke first as that process exited; which comes first is a race — and is free
    // again for a run of its own.
    one.wait_for_any(&["aborted", "failed"]);
    let alone = dir.join("alone");
    std::fs::write(&alone, format!("{}\n", one.address)).unwrap();
    report(&serves_a_run_within(
        &alone,
        &token,
        Duration::from_secs(10),
    ));
    // `two` is killed while stopped when dropped.
}

#[test]
fn workers_outlive_a_killed_local_process_and_serve_the_next_run() {
    let dir = scratch("kill-local");
    let token = token_file(&dir, "token", TOKEN);
    let (one, two) = (Worker::start(&token, &[]), Worker::start(&token, &[]));
    let hosts = hosts_file(&dir, &[&one.address, &two.address]);
    let mut run = start_check(&hosts, &token, &["--rounds", "2000", "--delay-ms", "10"]);
    one.wait_for("process 1 of 3");
    two.wait_for("process 2 of 3");
    run.kill().unwrap();
    run.wait().unwrap();
    // Each worker ends its part of the dead run (its links or its control connection broke)
    // and logs how ("run <id> failed: ..." or "run <id> aborted: ...").
    one.wait_for("run ");
    two.wait_for("run ");
    report(&serves_a_run_within(
        &hosts,
        &token,
        Duration::from_secs(10),
    ));
}

/// Runs the check over `hosts` until the workers take it (they may still be busy ending a
/// broken run), for at most `limit`.
fn serves_a_run_within(hosts: &Path, token: &Path, limit: Duration) -> Output {
    let started = Instant::now();
    while started.elapsed() < limit {
        let out = check(hosts, token, &[]);
        if out.status.success() {
            return out;
        }
        assert!(text(&out.stderr).contains("busy"), "{}", text(&out.stderr));
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the workers were still busy after {limit:?}");
}

#[test]
fn a_worker_that_cannot_start_says_why_and_exits_1() {
    let dir = scratch("no-start");
    let token = token_file(&dir, "token", TOKEN);
    let worker = Worker::start(&token, &[]);
    let run = |args: &[&str]| {
        let child = Command::new(bin())
            .args(args)
            .env_remove("PIPELINE_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        finish_within(child, Duration::from_secs(20)).0
    };
    let token_arg = token.to_str().unwrap();
    let out = run(&[
        "worker",
        "--listen",
        &worker.address,
        "--token-file",
        token_arg,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {}", worker.address)),
        "{stderr}"
    );
    let missing = dir.join("missing");
    let out = run(&[
        "worker",
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("token file {}", missing.display())),
        "{stderr}"
    );
    let out = run(&["worker", "--listen", "127.0.0.1:0", "--gpu", "tpu"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`tpu` is not a GPU type"));
}
