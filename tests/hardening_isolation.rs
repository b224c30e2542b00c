//! Issue #15: Python nodes run isolated in a confined worker process when the CLI runs a manifest
//! or a script. Every test spawns the real binary.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};
use support::cli::{pipeline, text};

/// A fresh directory for one test's files.
fn dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("hardening-isolation-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A manifest of one `python` function node `f` with id `id` and extra node fields.
fn manifest(dir: &Path, id: &str, code: &str, fields: serde_json::Value) -> PathBuf {
    let mut node = serde_json::json!({
        "id": id, "node_type": "python", "params": {"code": code, "function": "f"}
    });
    for (k, v) in fields.as_object().unwrap() {
        node[k] = v.clone();
    }
    let path = dir.join(format!("{id}.json"));
    let doc = serde_json::json!({
        "version": "v1", "metadata": {"name": id}, "nodes": [node], "connections": []
    });
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs and checks the command ended on its own with status 1 (an error, not a signal).
fn fails(args: &[&str], input: &str) -> (String, String) {
    let out = pipeline(args, input);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

fn run_path(args: &[&str], path: &Path) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.push(path.display().to_string());
    all
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn a_memory_bomb_names_the_node_and_the_limit_and_keeps_earlier_outputs() {
    let dir = dir("bomb");
    let m = manifest(
        &dir,
        "bomb",
        "def f(x):\n    if x == 3:\n        s = 'x' * 10**10\n    return x\n",
        serde_json::json!({}),
    );
    let args = run_path(&["run"], &m);
    let (stdout, stderr) = fails(&strs(&args), "1\n2\n3\n4\n");
    assert_eq!(stdout, "1\n2\n");
    assert!(
        stderr.contains(
            "node `bomb`: the Python worker was killed: memory limit of 2048 MiB reached (limits.memory_mb)"
        ),
        "{stderr}"
    );
    // A lower limit from the flag is the one named.
    let args = run_path(&["run", "--python-memory-mb", "1024"], &m);
    let (_, stderr) = fails(&strs(&args), "3\n");
    assert!(stderr.contains("memory limit of 1024 MiB"), "{stderr}");
    // `[0] * 10**9` too.
    let m = manifest(
        &dir,
        "lists",
        "def f(x):\n    return [0] * 10**9\n",
        serde_json::json!({"limits": {"memory_mb": 1024}}),
    );
    let (_, stderr) = fails(&strs(&run_path(&["run"], &m)), "1\n");
    assert!(stderr.contains("node `lists`"), "{stderr}");
    assert!(stderr.contains("memory limit of 1024 MiB"), "{stderr}");
}

#[test]
fn an_endless_loop_is_stopped_by_the_item_timeout_keeping_earlier_outputs() {
    let dir = dir("spin");
    let m = manifest(
        &dir,
        "spin",
        "def f(x):\n    if x == 3:\n        while True:\n            pass\n    return x\n",
        serde_json::json!({"limits": {"item_timeout_ms": 2000}}),
    );
    let started = Instant::now();
    let (stdout, stderr) = fails(&strs(&run_path(&["run"], &m)), "1\n2\n3\n4\n");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(stdout, "1\n2\n");
    assert!(
        stderr.contains(
            "node `spin`: the Python worker was killed: an item took longer than 2000 ms (limits.item_timeout_ms)"
        ),
        "{stderr}"
    );
}

#[test]
fn sleep_and_regex_blowups_are_stopped_by_the_timeout_flag() {
    let dir = dir("sleep");
    for (id, code) in [
        (
            "sleepy",
            "import time\ndef f(x):\n    time.sleep(100)\n    return x\n",
        ),
        (
            "regex",
            "import re\ndef f(x):\n    return bool(re.match(r'(a+)+$', 'a' * 40 + '!'))\n",
        ),
    ] {
        let m = manifest(&dir, id, code, serde_json::json!({}));
        let started = Instant::now();
        let args = run_path(&["run", "--python-timeout-ms", "1500"], &m);
        let (stdout, stderr) = fails(&strs(&args), "1\n");
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(stdout, "");
        assert!(
            stderr.contains(&format!(
                "node `{id}`: the Python worker was killed: an item took longer than 1500 ms"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn the_cpu_limit_is_named() {
    let dir = dir("cpu");
    let m = manifest(
        &dir,
        "burn",
        "def f(x):\n    if x == 2:\n        while True:\n            pass\n    return x\n",
        serde_json::json!({"limits": {"cpu_seconds": 1, "item_timeout_ms": 0}}),
    );
    let (stdout, stderr) = fails(&strs(&run_path(&["run"], &m)), "1\n2\n");
    assert_eq!(stdout, "1\n");
    assert!(
        stderr.contains(
            "node `burn`: the Python worker was killed: CPU time limit of 1 s reached (limits.cpu_seconds)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_background_thread_cannot_keep_the_run_alive() {
    let dir = dir("thread");
    let script = write(
        &dir,
        "thread.py",
        "import pipeline\nimport _thread\n\ndef spin():\n    while True:\n        pass\n\n\
         def f(x):\n    _thread.start_new_thread(spin, ())\n    return x\n\npipeline.node(f)\n",
    );
    let started = Instant::now();
    // (A timeout well above a debug build's start-up time on a loaded machine.)
    let args = run_path(&["run", "--python-timeout-ms", "3000"], &script);
    let out = pipeline(&strs(&args), "1\n");
    assert!(started.elapsed() < Duration::from_secs(30));
    // Either the thread cannot be started (an error naming the node) or it ran on the node's own
    // time and was stopped: never a run that does not end.
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("node `f`"), "{stderr}");
}

#[test]
fn forged_bytecode_never_takes_the_cli_down() {
    let dir = dir("forge");
    // Opcodes that read past the stack or the constants, jump anywhere, or return garbage.
    let payloads = [
        "bytes([100, 255, 83, 0] * 4)",
        "bytes([1, 0] * 8 + [83, 0])",
        "bytes([113, 200, 83, 0])",
        "bytes(range(0, 256))",
        "bytes([124, 250, 83, 0])",
        "bytes([90, 255, 90, 255, 83, 0])",
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let script = write(
            &dir,
            &format!("forge{i}.py"),
            &format!(
                "import pipeline\nimport types\n\ndef g(x):\n    return x\n\n\
                 def f(x):\n    code = g.__code__.replace(co_code={payload})\n    \
                 return types.FunctionType(code, {{}})(x)\n\npipeline.node(f)\n"
            ),
        );
        let out: Output = pipeline(
            &strs(&run_path(&["run", "--python-timeout-ms", "5000"], &script)),
            "1\n",
        );
        let stderr = text(&out.stderr);
        // Refused, raised, crashed the worker or even ran: the CLI itself always ends cleanly.
        assert!(
            matches!(out.status.code(), Some(0) | Some(1)),
            "payload {payload}: {:?}\n{stderr}",
            out.status
        );
        if out.status.code() == Some(1) {
            assert!(stderr.contains("error: "), "{stderr}");
        }
    }
}

#[test]
fn the_worker_is_confined() {
    let out = pipeline(
        &["__python-sandbox-check", "--python-memory-mb", "1536"],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["env"], serde_json::json!([]), "{report}");
    assert_eq!(report["fds"], serde_json::json!([0, 1, 2]), "{report}");
    let cwd = report["cwd"].as_str().unwrap();
    assert!(cwd.contains("pipeline-python-"), "{report}");
    assert!(!Path::new(cwd).exists(), "the scratch directory is removed");
    assert_eq!(report["memory_limit_mb"], 1536, "{report}");
    if report["seccomp_error"].is_null() {
        assert_eq!(report["seccomp_mode"], 2, "{report}");
        for call in ["socket", "open", "fork", "kill_parent"] {
            assert_eq!(report[call], "EPERM", "{call}: {report}");
        }
    } else {
        eprintln!("no seccomp on this kernel: {}", report["seccomp_error"]);
    }
}

#[test]
fn scripts_are_evaluated_in_the_worker() {
    let dir = dir("script");
    let hang = write(&dir, "hang.py", "import pipeline\nwhile True:\n    pass\n");
    let started = Instant::now();
    let args = run_path(&["validate", "--python-timeout-ms", "500"], &hang);
    let (_, stderr) = fails(&strs(&args), "");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        stderr.contains("hang.py: the Python worker was killed: an item took longer than 500 ms"),
        "{stderr}"
    );
    let bomb = write(&dir, "bomb.py", "import pipeline\ns = 'x' * 10**10\n");
    let (_, stderr) = fails(&strs(&run_path(&["validate"], &bomb)), "");
    assert!(
        stderr.contains("bomb.py: the Python worker was killed: memory limit of 2048 MiB reached"),
        "{stderr}"
    );
    // A good script still validates and runs, its `print` forwarded to stderr.
    let good = write(
        &dir,
        "good.py",
        "import pipeline\n\ndef f(x):\n    print('saw', x)\n    return x * 2\n\npipeline.node(f)\n",
    );
    let out = pipeline(&strs(&run_path(&["validate"], &good)), "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = pipeline(&strs(&run_path(&["run"], &good)), "21\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "42\n");
    assert!(
        text(&out.stderr).contains("[python f] saw 21"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn in_process_stays_available_per_node_and_by_flag() {
    let dir = dir("inproc");
    // Sleeping past a tiny timeout: only an isolated node is stopped.
    let code = "import time\ndef f(x):\n    time.sleep(0.3)\n    return x + 1\n";
    let inproc = manifest(
        &dir,
        "inproc",
        code,
        serde_json::json!({"isolation": "in_process", "limits": {"item_timeout_ms": 50}}),
    );
    let out = pipeline(&strs(&run_path(&["run"], &inproc)), "1\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2\n");
    let isolated = manifest(
        &dir,
        "isolated",
        code,
        serde_json::json!({"limits": {"item_timeout_ms": 50}}),
    );
    let (_, stderr) = fails(&strs(&run_path(&["run"], &isolated)), "1\n");
    assert!(stderr.contains("longer than 50 ms"), "{stderr}");
    let out = pipeline(
        &strs(&run_path(&["run", "--python-in-process"], &isolated)),
        "1\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Script keywords.
    let script = write(
        &dir,
        "kw.py",
        "import pipeline\nimport time\n\ndef f(x):\n    time.sleep(0.3)\n    return x + 1\n\n\
         pipeline.node(f, isolation='in_process', limits={'item_timeout_ms': 50})\n",
    );
    let out = pipeline(&strs(&run_path(&["run"], &script)), "1\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2\n");
}

#[test]
fn isolation_fields_are_for_python_nodes_only() {
    let dir = dir("fields");
    let path = write(
        &dir,
        "m.json",
        r#"{"version": "v1", "metadata": {"name": "m"},
            "nodes": [{"id": "p", "node_type": "PassThrough", "limits": {"memory_mb": 1}}],
            "connections": []}"#,
    );
    let (_, stderr) = fails(&strs(&run_path(&["validate"], &path)), "");
    assert!(
        stderr.contains("`limits` applies to `python` nodes only"),
        "{stderr}"
    );
    let path = write(
        &dir,
        "bad.json",
        r#"{"version": "v1", "metadata": {"name": "m"},
            "nodes": [{"id": "p", "node_type": "python", "limits": {"memory": 1},
                       "params": {"code": "def f(x):\n    return x\n", "function": "f"}}],
            "connections": []}"#,
    );
    let (_, stderr) = fails(&strs(&run_path(&["validate"], &path)), "");
    assert!(stderr.contains("memory"), "{stderr}");
}

#[test]
fn generator_outputs_stream_through_the_boundary_up_to_a_failure() {
    let dir = dir("gen");
    let m = manifest(
        &dir,
        "gen",
        "def f(n):\n    if n < 0:\n        raise ValueError('done')\n    for i in range(n):\n        yield i\n",
        serde_json::json!({}),
    );
    // 5000 outputs cross in several chunks; the next item fails.
    let (stdout, stderr) = fails(&strs(&run_path(&["run"], &m)), "5000\n-1\n");
    assert_eq!(stdout.lines().count(), 5000, "{stderr}");
    assert_eq!(stdout.lines().last(), Some("4999"));
    assert!(stderr.contains("node `gen`"), "{stderr}");
    assert!(stderr.contains("ValueError: done"), "{stderr}");
}

#[test]
fn a_batch_runs_in_the_worker_and_finish_runs_for_the_nodes_that_define_it() {
    // `Count` defines finish and reports what it saw at the end of the stream; `Pass` has none
    // (its worker is not asked).
    let dir = dir("finish");
    let code = "class Count:\n    def __init__(self):\n        self.n = 0\n        self.total = 0\n    def process(self, x):\n        self.n += 1\n        self.total += x\n        return x * 2\n    def finish(self):\n        yield {'count': self.n}\n        yield {'total': self.total}\n\nclass Pass:\n    def process(self, x):\n        return x\n";
    let doc = serde_json::json!({
        "version": "v1", "metadata": {"name": "finish"},
        "nodes": [
            {"id": "count", "node_type": "python", "params": {"code": code, "class": "Count"}},
            {"id": "pass", "node_type": "python", "params": {"code": code, "class": "Pass"}}
        ],
        "connections": [{"from": "count", "to": "pass"}]
    });
    let path = write(&dir, "finish.json", &doc.to_string());
    let input: String = (1..=3000).map(|i| format!("{i}\n")).collect();
    let out = pipeline(&strs(&run_path(&["run"], &path)), &input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3002, "{}", text(&out.stderr));
    assert_eq!(lines[0], "2");
    assert_eq!(lines[2999], "6000");
    assert_eq!(lines[3000], r#"{"count":3000}"#);
    assert_eq!(lines[3001], r#"{"total":4501500}"#);
}

#[test]
fn a_worker_dying_mid_batch_names_the_item_after_those_that_ended_even_without_outputs() {
    // Lines reach the worker as one batch; items 1, 2 and 4 emit nothing, 3 emits, 5 dies of the
    // memory limit, 6 raises. Whatever ended before the death is written and counted.
    let dir = dir("mid-batch");
    let m = manifest(
        &dir,
        "mid",
        "def f(x):\n    if x == 5:\n        s = 'x' * 10**10\n    if x == 6:\n        raise ValueError('six')\n    if x == 3:\n        return x\n",
        serde_json::json!({"limits": {"memory_mb": 512}}),
    );
    let (stdout, stderr) = fails(&strs(&run_path(&["run"], &m)), "1\n2\n3\n4\n5\n6\n");
    assert_eq!(stdout, "3\n");
    assert!(stderr.contains("memory limit of 512 MiB"), "{stderr}");
    assert!(stderr.contains("stopped at input line 5:"), "{stderr}");
    // An exception after items without outputs: the same, through the worker's own report.
    let (stdout, stderr) = fails(&strs(&run_path(&["run"], &m)), "1\n2\n3\n4\n6\n7\n");
    assert_eq!(stdout, "3\n");
    assert!(stderr.contains("ValueError: six"), "{stderr}");
    assert!(stderr.contains("stopped at input line 5:"), "{stderr}");
}

/// A manifest of isolated Python nodes in one fused chain, `(id, function)` each, all defined in
/// `code`, with `fields` added to each node.
fn chain_manifest(
    dir: &Path,
    code: &str,
    nodes: &[(&str, &str)],
    fields: serde_json::Value,
) -> PathBuf {
    let nodes_json: Vec<serde_json::Value> = nodes
        .iter()
        .map(|(id, function)| {
            let mut node = serde_json::json!({"id": id, "node_type": "python",
                "params": {"code": code, "function": function}});
            if let (Some(node), Some(extra)) = (node.as_object_mut(), fields.as_object()) {
                node.extend(extra.clone());
            }
            node
        })
        .collect();
    let connections: Vec<serde_json::Value> = nodes
        .windows(2)
        .map(|pair| serde_json::json!({"from": pair[0].0, "to": pair[1].0}))
        .collect();
    let doc = serde_json::json!({"version": "v1", "metadata": {"name": "chain"},
        "nodes": nodes_json, "connections": connections});
    write(dir, "chain.json", &doc.to_string())
}

#[test]
fn a_chain_of_isolated_nodes_in_one_worker_names_the_failing_node_and_item() {
    // Three consecutive isolated nodes run as one chain in one worker: a generator, a batch
    // node, a node that fails on the item from input line 4. Items before it go all the way.
    let dir = dir("chain-failure");
    let code = "def twice(x):\n    yield x\n    yield x\n\ndef plus(x):\n    return x + 100\n\ndef picky(x):\n    if x == 104:\n        raise ValueError('no 104')\n    return x\n";
    let m = chain_manifest(
        &dir,
        code,
        &[("twice", "twice"), ("plus", "plus"), ("picky", "picky")],
        serde_json::json!({}),
    );
    let out = pipeline(&strs(&run_path(&["run"], &m)), "1\n2\n3\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "101\n101\n102\n102\n103\n103\n");
    let (stdout, stderr) = fails(&strs(&run_path(&["run"], &m)), "1\n2\n3\n4\n5\n");
    assert_eq!(stdout, "101\n101\n102\n102\n103\n103\n");
    assert!(stderr.contains("node `picky`"), "{stderr}");
    assert!(stderr.contains("ValueError: no 104"), "{stderr}");
    assert!(stderr.contains("stopped at input line 4:"), "{stderr}");
}

#[test]
fn a_chain_member_hitting_the_memory_limit_is_the_node_named() {
    // The worker dies in the chain's second node: the parent names that node (not the first),
    // the limit, and the item; earlier items' outputs are written.
    let dir = dir("chain-memory");
    let code = "def first(x):\n    return x\n\ndef bomb(x):\n    if x == 3:\n        s = 'x' * 10**10\n    return x * 10\n";
    let m = chain_manifest(
        &dir,
        code,
        &[("first", "first"), ("bomb", "bomb")],
        serde_json::json!({"limits": {"memory_mb": 512}}),
    );
    let (stdout, stderr) = fails(&strs(&run_path(&["run"], &m)), "1\n2\n3\n4\n");
    assert_eq!(stdout, "10\n20\n");
    assert!(stderr.contains("node `bomb`"), "{stderr}");
    assert!(stderr.contains("memory limit of 512 MiB"), "{stderr}");
    assert!(stderr.contains("stopped at input line 3:"), "{stderr}");
}

#[test]
fn nodes_with_different_limits_or_stats_keep_their_own_workers_and_agree() {
    // Different limits cannot share a worker; `--stats` keeps every node on its own to count
    // it. Each way, the outputs are those of the chain.
    let dir = dir("chain-apart");
    let code = "def a(x):\n    return x + 1\n\ndef b(x):\n    return x * 2\n";
    let chained = chain_manifest(&dir, code, &[("a", "a"), ("b", "b")], serde_json::json!({}));
    let together = pipeline(&strs(&run_path(&["run"], &chained)), "1\n2\n");
    assert_eq!(
        text(&together.stdout),
        "4\n6\n",
        "{}",
        text(&together.stderr)
    );
    let stats = pipeline(&strs(&run_path(&["run", "--stats"], &chained)), "1\n2\n");
    assert_eq!(text(&stats.stdout), "4\n6\n", "{}", text(&stats.stderr));
    let stderr = text(&stats.stderr);
    assert!(stderr.contains('a') && stderr.contains('b'), "{stderr}");
    let doc = std::fs::read_to_string(&chained).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    doc["nodes"][1]["limits"] = serde_json::json!({"item_timeout_ms": 9000});
    let apart = write(&dir, "apart.json", &doc.to_string());
    let out = pipeline(&strs(&run_path(&["run"], &apart)), "1\n2\n");
    assert_eq!(text(&out.stdout), "4\n6\n", "{}", text(&out.stderr));
}
