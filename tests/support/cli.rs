//! Running the real `pipeline` binary, as a user would.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Starts `pipeline` with `args`, feeding `stdin` from another thread: a large input cannot fill
/// the pipe while the command is blocked writing, and a command that stops reading early (a
/// manifest error, a bad line) only breaks the pipe, which is fine.
fn spawn_fed(args: &[&str], stdin: &[u8]) -> (Child, JoinHandle<()>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    (child, feeder)
}

/// Runs `pipeline` with `args` and `stdin` to its end.
pub fn pipeline(args: &[&str], stdin: impl AsRef<[u8]>) -> Output {
    let (child, feeder) = spawn_fed(args, stdin.as_ref());
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

/// Runs `pipeline args` with `stdin`, killing it (and failing the test) after `limit`, so a hang
/// is a failure rather than a stuck test run. Its output is read while it runs, so a large output
/// cannot stall it.
pub fn pipeline_within(limit: Duration, args: &[&str], stdin: impl AsRef<[u8]>) -> Output {
    let (child, feeder) = spawn_fed(args, stdin.as_ref());
    let what = format!("`pipeline {}`", args.join(" "));
    let (out, _) = wait_within(child, limit, &what);
    feeder.join().unwrap();
    out
}

/// Waits for `child` at most `limit`, killing it and failing the test (naming it `what`) after
/// that; returns its output, read while it runs, and how long it ran.
pub fn wait_within(child: Child, limit: Duration, what: &str) -> (Output, Duration) {
    let started = Instant::now();
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
    while !waiter.is_finished() {
        if started.elapsed() > limit {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let out = waiter.join().unwrap();
            panic!(
                "{what} still running after {limit:?}; stderr:\n{}",
                text(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (waiter.join().unwrap(), started.elapsed())
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `pipeline` with `args` (which include `--tag`) over `stdin`, which must succeed, and returns
/// each output line as its output's name and its value as JSON text.
pub fn run_tagged(args: &[&str], stdin: impl AsRef<[u8]>) -> Vec<(String, String)> {
    let out = pipeline(args, stdin);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|line| {
            let tagged: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                tagged["node"].as_str().unwrap().to_string(),
                tagged["value"].to_string(),
            )
        })
        .collect()
}

/// The values of output `output` in `tagged` (from [`run_tagged`]), in order.
pub fn values_of(tagged: &[(String, String)], output: &str) -> Vec<String> {
    tagged
        .iter()
        .filter(|(name, _)| name == output)
        .map(|(_, value)| value.clone())
        .collect()
}
