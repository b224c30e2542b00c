//! Issue #15, the manifest side: the real `pipeline` binary given hostile or careless manifests.
//! Each case must end promptly with a clear error naming the place (and the node), never a
//! crash, a hang, a host file's content, or a silent change of meaning.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

mod support;

/// How long any one command may take before the test fails (a debug build on a shared machine).
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs `pipeline` with `args` and `stdin`, failing the test if it has not ended by
/// [`DEADLINE`].
fn pipeline(args: &[&str], stdin: &[u8]) -> Output {
    support::cli::pipeline_within(DEADLINE, args, stdin)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command failed with exit code 1: an error, not a crash (a signal has no code) or a panic
/// (101).
fn assert_error(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a clean error; stderr: {}",
        stderr(out)
    );
}

/// A folder of its own, removed at the end.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let dir =
            std::env::temp_dir().join(format!("hardening_manifest_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Folder(dir)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A manifest of `nodes` and `connections` (JSON array contents).
fn manifest(nodes: &str, connections: &str) -> String {
    format!(
        r#"{{"version": "v1", "metadata": {{"name": "m"}}, "nodes": [{nodes}], "connections": [{connections}]}}"#
    )
}

/// A manifest with one python node reading `file`.
fn python_file_manifest(file: &str) -> String {
    manifest(
        &format!(
            r#"{{"id": "reader", "node_type": "python", "params": {{"file": {}, "function": "f"}}}}"#,
            serde_json::to_string(file).unwrap()
        ),
        "",
    )
}

/// `validate` of a python node whose `file` must be refused: an error at the `file` param naming
/// the node, and nothing of `secret`'s content.
fn assert_file_refused(folder: &Folder, file: &str, reason: &str) {
    let m = folder.write("m.json", python_file_manifest(file));
    let out = pipeline(&["validate", &m], b"");
    assert_error(&out);
    let err = stderr(&out);
    assert!(err.contains(reason), "{file}: {err}");
    assert!(err.contains("node `reader`"), "{err}");
    assert!(err.contains("at /nodes/0/params/file"), "{err}");
    assert!(
        !err.contains("root:"),
        "a refused file's content was printed: {err}"
    );
}

#[test]
fn python_file_stays_inside_the_manifest_folder() {
    let folder = Folder::new("confined");
    assert_file_refused(&folder, "/etc/passwd", "absolute paths are not allowed");
    assert_file_refused(&folder, "../../../../etc/passwd", "`..` is not allowed");
    assert_file_refused(&folder, "nodes/../../x.py", "`..` is not allowed");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", folder.0.join("passwd.py")).unwrap();
        assert_file_refused(&folder, "passwd.py", "leads outside the manifest's folder");
        std::os::unix::fs::symlink("/dev/zero", folder.0.join("zero.py")).unwrap();
        assert_file_refused(&folder, "zero.py", "leads outside the manifest's folder");
    }
    // Inside the folder it is read (and then checked by the python node type).
    folder.write("nodes/f.py", "def f(x):\n    return x + 1\n");
    let m = folder.write("m.json", python_file_manifest("nodes/f.py"));
    let out = pipeline(&["run", &m], b"1\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "2\n");
}

#[test]
fn python_file_must_be_a_small_regular_file() {
    let folder = Folder::new("regular");
    std::fs::create_dir_all(folder.0.join("dir.py")).unwrap();
    assert_file_refused(&folder, "dir.py", "not a regular file (a directory)");
    #[cfg(unix)]
    if Command::new("mkfifo")
        .arg(folder.path("fifo.py"))
        .status()
        .is_ok_and(|s| s.success())
    {
        // Opening a FIFO would wait for a writer forever: it is refused without being opened.
        assert_file_refused(&folder, "fifo.py", "not a regular file (a FIFO)");
    }
    let big = format!("def f(x):\n    return x\n{}\n", "#".repeat(2 << 20));
    folder.write("big.py", &big);
    assert_file_refused(&folder, "big.py", "larger than the limit of 1048576 bytes");
    // The limit has a flag.
    let m = folder.write("m.json", python_file_manifest("big.py"));
    let out = pipeline(&["validate", "--max-python-file-bytes", "4000000", &m], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn manifest_is_read_only_from_a_regular_file_with_a_size_cap() {
    // `/dev/zero` would be read until memory runs out.
    let out = pipeline(&["validate", "/dev/zero"], b"");
    assert_error(&out);
    assert!(
        stderr(&out).contains("/dev/zero: not a regular file (a character device)"),
        "{}",
        stderr(&out)
    );
    let folder = Folder::new("manifest_size");
    let text = manifest(r#"{"id": "a", "node_type": "PassThrough"}"#, "");
    let padded = format!("{text}{}", " ".repeat(100));
    let m = folder.write("m.json", &padded);
    let limit = (padded.len() - 1).to_string();
    let out = pipeline(&["validate", "--max-manifest-bytes", &limit, &m], b"");
    assert_error(&out);
    assert!(
        stderr(&out).contains(&format!("larger than the limit of {limit} bytes")),
        "{}",
        stderr(&out)
    );
    let out = pipeline(
        &[
            "validate",
            "--max-manifest-bytes",
            &padded.len().to_string(),
            &m,
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Stdin as `-`, with the same cap.
    let out = pipeline(&["validate", "-"], text.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = pipeline(
        &["validate", "--max-manifest-bytes", "10", "-"],
        text.as_bytes(),
    );
    assert_error(&out);
    assert!(
        stderr(&out).contains("larger than the limit of 10 bytes"),
        "{}",
        stderr(&out)
    );
    // A pipeline script too.
    let script = folder.write("p.py", format!("# {}\n", "x".repeat(200)));
    let out = pipeline(&["validate", "--max-manifest-bytes", "100", &script], b"");
    assert_error(&out);
    assert!(
        stderr(&out).contains("larger than the limit of 100 bytes"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn deep_nesting_is_an_error_at_its_place_not_a_crash() {
    let folder = Folder::new("deep");
    let depth = 45_000;
    let params = format!(r#"{{"p": {}{}}}"#, "[".repeat(depth), "]".repeat(depth));
    let m = folder.write(
        "m.json",
        manifest(
            &format!(r#"{{"id": "a", "node_type": "PassThrough", "params": {params}}}"#),
            "",
        ),
    );
    let out = pipeline(&["validate", &m], b"");
    assert_error(&out);
    let err = stderr(&out);
    assert!(
        err.contains("arrays and objects nested more than 128 deep"),
        "{err}"
    );
    assert!(err.contains("m.json:1:"), "{err}");
}

/// A chain of `n` PassThrough nodes; `"stage": true` on every `stage_every`-th node (and the
/// first), so the stages are on threads of their own.
fn chain(n: usize, stage_every: usize) -> String {
    let nodes: Vec<String> = (0..n)
        .map(|i| {
            let stage = if i % stage_every == 0 {
                r#", "stage": true"#
            } else {
                ""
            };
            format!(r#"{{"id": "n{i}", "node_type": "PassThrough"{stage}}}"#)
        })
        .collect();
    let connections: Vec<String> = (1..n)
        .map(|i| format!(r#"{{"from": "n{}", "to": "n{i}"}}"#, i - 1))
        .collect();
    manifest(&nodes.join(", "), &connections.join(", "))
}

#[test]
fn a_long_fused_chain_is_refused_by_validate_and_run() {
    let folder = Folder::new("chain");
    let m = folder.write("m.json", chain(50_000, 100_000));
    for command in ["validate", "run"] {
        let out = pipeline(&[command, &m], b"1\n");
        assert_error(&out);
        let err = stderr(&out);
        assert!(
            err.contains("a chain of 513 fused nodes ends at `n512`: the most one stage may call in a row is 512"),
            "{command}: {err}"
        );
        assert!(err.contains("at /nodes/512"), "{err}");
    }
    let out = pipeline(&["validate", "--max-fused-chain", "50000", &m], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_graph_that_validates_runs_at_the_limits() {
    // The longest fused chain allowed, on a stage thread of its own (2 MiB stack in a debug build).
    let folder = Folder::new("at_limits");
    let m = folder.write("chain.json", chain(512, 100_000));
    let out = pipeline(&["run", &m], b"1\n2\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "1\n2\n");
    // 5,000 nodes in stages of 500: long, but no chain past the limit.
    let m = folder.write("stages.json", chain(5_000, 500));
    let out = pipeline(&["run", &m], b"7\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "7\n");
}

#[test]
fn too_many_stages_are_refused_and_the_limit_runs() {
    let folder = Folder::new("stages");
    let staged = |n: usize| {
        let nodes: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"id": "n{i}", "node_type": "PassThrough", "stage": true}}"#))
            .collect();
        manifest(&nodes.join(", "), "")
    };
    let m = folder.write("many.json", staged(100_000));
    let out = pipeline(&["validate", &m], b"");
    assert_error(&out);
    let err = stderr(&out);
    assert!(
        err.contains("the pipeline has 100001 stages (one thread each; `n1023` enters stage 1024), the most is 1024"),
        "{err}"
    );
    // 1,023 stage threads and the caller's: the most allowed, and it runs.
    let m = folder.write("limit.json", staged(1023));
    let out = pipeline(&["run", &m], b"5\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "5\n".repeat(1023));
    let out = pipeline(&["validate", "--max-stages", "100", &m], b"");
    assert_error(&out);
}

#[test]
fn a_hundred_thousand_unconnected_nodes_validate() {
    // Was > 300 s (quadratic); the 2 s goal (release) is measured separately, this only checks
    // that it completes and is right.
    let folder = Folder::new("wide");
    let nodes: Vec<String> = (0..100_000)
        .map(|i| format!(r#"{{"id": "n{i}", "node_type": "PassThrough"}}"#))
        .collect();
    let m = folder.write("m.json", manifest(&nodes.join(", "), ""));
    let out = pipeline(&["validate", &m], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("100000 nodes, 0 connections, 1 stage(s)"));
}

#[test]
fn warnings_and_errors_are_capped_and_summarised() {
    let folder = Folder::new("capped");
    let n = 20_000;
    let nodes: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"id": "n{i}", "node_type": "PassThrough", "is_streaming": true}}"#))
        .collect();
    let m = folder.write("warn.json", manifest(&nodes.join(", "), ""));
    let out = pipeline(&["validate", &m], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err.matches("unknown field `is_streaming` is ignored")
            .count(),
        20,
        "{err}"
    );
    assert!(
        err.contains(
            "... and 19980 more unknown fields are ignored (the first 20 warnings are listed)"
        ),
        "{err}"
    );
    assert!(err.len() < 20_000, "{} bytes of warnings", err.len());
    let nodes: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"id": "n{i}", "node_type": "NoSuchType"}}"#))
        .collect();
    let m = folder.write("err.json", manifest(&nodes.join(", "), ""));
    let out = pipeline(&["validate", &m], b"");
    assert_error(&out);
    let err = stderr(&out);
    assert_eq!(
        err.matches("unknown node type `NoSuchType`").count(),
        50,
        "{err}"
    );
    assert!(
        err.contains("... and 19950 more errors (the first 50 are listed)"),
        "{err}"
    );
}

#[test]
fn repeated_keys_are_errors_at_their_place() {
    let folder = Folder::new("repeated");
    let node = r#"{"id": "a", "node_type": "PassThrough"}"#;
    let cases = [
        // A whole `nodes` array would silently vanish.
        (
            format!(
                r#"{{"version": "v1", "metadata": {{"name": "m"}}, "nodes": [{node}],
 "connections": [], "nodes": [{{"id": "b", "node_type": "Nope"}}]}}"#
            ),
            "key `nodes` appears twice",
            "m.json:2:21 at /nodes",
        ),
        (
            manifest(
                r#"{"id": "a", "node_type": "PassThrough",
 "node_type": "Echo"}"#,
                "",
            ),
            "node `a`: key `node_type` appears twice",
            "m.json:2:2 at /nodes/0/node_type",
        ),
        (
            manifest(
                r#"{"id": "c", "node_type": "Calculator",
 "params": {"operation": "add", "operand": 1, "operand": 2}}"#,
                "",
            ),
            "node `c`: key `operand` appears twice",
            "m.json:2:47 at /nodes/0/params/operand",
        ),
        (
            manifest(
                r#"{"id": "p", "node_type": "python", "params": {"code": "def f(x): return x",
 "function": "f", "args": {"deep": [{"k": 1, "k": 2}]}}}"#,
                "",
            ),
            "node `p`: key `k` appears twice",
            "m.json:2:46 at /nodes/0/params/args/deep/0/k",
        ),
    ];
    for (text, message, place) in cases {
        let m = folder.write("m.json", &text);
        let out = pipeline(&["validate", &m], b"");
        assert_error(&out);
        let err = stderr(&out);
        assert!(err.contains(message), "{err}");
        assert!(err.contains(place), "{err}");
    }
}

#[test]
fn a_leading_byte_order_mark_is_accepted() {
    let folder = Folder::new("bom");
    let text = manifest(r#"{"id": "a", "node_type": "PassThrough"}"#, "");
    let m = folder.write("m.json", format!("\u{feff}{text}"));
    let out = pipeline(&["run", &m], b"3\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "3\n");
}

#[test]
fn integers_beyond_i64_in_params_are_errors_naming_the_node() {
    let folder = Folder::new("big_int");
    for big in [
        "18446744073709551616",
        "9223372036854775808",
        "-9223372036854775809",
    ] {
        let text = manifest(
            &format!(
                r#"{{"id": "c", "node_type": "Calculator", "params": {{"operation": "add", "operand": {big}}}}}"#
            ),
            "",
        );
        let m = folder.write("m.json", &text);
        let out = pipeline(&["validate", &m], b"");
        assert_error(&out);
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "node `c`: integer {big} does not fit in a 64-bit signed integer"
            )),
            "{err}"
        );
        assert!(err.contains("at /nodes/0/params/operand"), "{err}");
    }
    // The largest i64 is kept exactly.
    let text = manifest(
        r#"{"id": "c", "node_type": "Calculator", "params": {"operation": "add", "operand": 9223372036854775807}}"#,
        "",
    );
    let m = folder.write("m.json", &text);
    let out = pipeline(&["run", &m], b"0\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "9223372036854775807\n");
}

#[test]
fn the_limit_flags_are_on_every_command_that_reads_a_manifest() {
    let folder = Folder::new("flags");
    let m = folder.write(
        "m.json",
        manifest(r#"{"id": "a", "node_type": "PassThrough"}"#, ""),
    );
    for command in ["validate", "graph", "plan", "run"] {
        let out = pipeline(
            &[
                command,
                "--max-manifest-bytes",
                "20",
                "--max-fused-chain",
                "1",
                "--max-stages",
                "1",
                &m,
            ],
            b"",
        );
        assert_error(&out);
        assert!(
            stderr(&out).contains("larger than the limit of 20 bytes"),
            "{command}: {}",
            stderr(&out)
        );
    }
    assert!(Path::new(&m).exists());
}
