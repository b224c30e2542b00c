//! Real `pipeline worker` processes on 127.0.0.1 for the distributed tests, and the files and
//! runs around them.

use super::cli::pipeline_within;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The shared secret of these tests' runs: workers and runs read it from the environment, so
/// the tests never touch `~/.pipeline/token`.
pub const TOKEN: &str = "distributed-run-tests-secret";

/// A `pipeline worker` on 127.0.0.1, killed when dropped.
pub struct Worker {
    pub child: Child,
    pub address: String,
}

impl Worker {
    /// Starts a worker on a free port and waits (at most 30 s) for its `listening on` line.
    pub fn spawn(extra: &[&str]) -> Worker {
        let mut child = Command::new(binary())
            .args(["worker", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("PIPELINE_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let _ = BufReader::new(stdout).read_line(&mut first);
            let _ = sender.send(first);
        });
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the worker says where it listens within 30 s");
        let address = line
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Worker { child, address }
    }

    /// Sends `signal` (`"-9"`, `"-STOP"`, `"-CONT"`) to the worker process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} of the worker");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // SIGKILL ends a stopped worker too.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `pipeline` binary the workers run: `$PIPELINE_BIN` when set (a release build, for the
/// `#[ignore]`d measurements), else the one cargo built for these tests.
pub fn binary() -> String {
    std::env::var("PIPELINE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pipeline").to_string())
}

/// A directory of its own for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipeline-dist-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The hosts file listing `workers`, in order.
pub fn hosts_file(dir: &Path, workers: &[&Worker]) -> PathBuf {
    let path = dir.join("hosts.txt");
    let mut text = String::from("# workers of this test\n");
    for w in workers {
        text += &w.address;
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `pipeline` with the tests' token, killing it after two minutes.
pub fn pipeline(args: &[&str], stdin: &str) -> std::process::Output {
    // SAFETY of the environment: each test process sets the same value before any thread reads it.
    std::env::set_var("PIPELINE_TOKEN", TOKEN);
    pipeline_within(Duration::from_secs(120), args, stdin)
}
