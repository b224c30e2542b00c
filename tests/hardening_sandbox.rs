//! Issue #15, the in-process Python sandbox, through the real `pipeline` binary: no forged
//! bytecode, no `_thread`, no module outside the allowlist by any route, the README's module list
//! is the allowlist, builtins not shared between nodes, generators stream, values JSON cannot carry
//! are errors, and a RustPython panic is an error naming the node. Then the bytecode fuzzer: random
//! `co_code` through every forging route, in process, never a crash.
//!
//! Every run here must end by itself: [`run_within`] kills a run that outlives its deadline and
//! fails the test, and a run killed by a signal (a crash) fails it too.

mod support;

use pipeline::prelude::*;
use pipeline::python::PythonNode;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::cli::{pipeline, pipeline_within as run_within, text};

/// A fresh folder for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipeline-hs-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A one-node manifest running `function` from `code`.
fn one_node(dir: &Path, id: &str, code: &str, function: &str) -> String {
    let manifest = serde_json::json!({
        "version": "v1",
        "metadata": {"name": id},
        "nodes": [{"id": id, "node_type": "python", "params": {"code": code, "function": function}}],
        "connections": []
    });
    write(dir, &format!("{id}.json"), &manifest.to_string())
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

/// Asserts a clean failure: exit code 1 (not a signal, not a panic's 101), and `stderr` naming the
/// node and containing `expected`.
fn assert_fails_naming(out: &Output, node: &str, expected: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "status {:?}; stderr:\n{stderr}",
        out.status
    );
    assert!(stderr.contains(&format!("node `{node}`")), "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in:\n{stderr}"
    );
}

const REFUSES: &str = "the pipeline's Python sandbox refuses";

// ---- 1. No code-object forging ----

const FORGE: &str = "import types\ndef template():\n    return 1\ndef forge(x):\n    code = template.__code__.replace(co_code=b'\\xff\\x00' * 32)\n    return types.FunctionType(code, {})()\n";

#[test]
fn forged_bytecode_in_a_node_is_an_error_naming_the_node_not_a_crash() {
    let dir = scratch("forge");
    let manifest = one_node(&dir, "forge", FORGE, "forge");
    let out = run_within(Duration::from_secs(60), &["run", &manifest], "1\n");
    assert_fails_naming(&out, "forge", REFUSES);
    assert!(text(&out.stderr).contains("code.replace"));
}

#[test]
fn forged_bytecode_at_a_scripts_module_level_fails_validate_cleanly() {
    let dir = scratch("forge-script");
    let script = write(
        &dir,
        "forge.py",
        "import types\ndef f():\n    return 1\ncode = f.__code__.replace(co_code=b'\\x00\\x01' * 16)\ntypes.FunctionType(code, {})()\n",
    );
    let out = run_within(Duration::from_secs(60), &["validate", &script], "");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(REFUSES), "{stderr}");
    assert!(stderr.contains("forge.py"), "{stderr}");
}

#[test]
fn every_forging_route_is_refused_through_the_binary() {
    // One node tries each route and emits, per route, whether the sandbox refused it.
    let code = r#"
import types, copy
def template(x=1):
    return x
ROUTES = [
    lambda c: types.CodeType(0, 0, 0, 0, 0, 0, b'', (), (), (), '', '', '', 0, b'', b''),
    lambda c: type(c)(0, 0, 0, 0, 0, 0, b'', (), (), (), '', '', '', 0, b'', b''),
    lambda c: c.replace(co_code=b'\x00'),
    lambda c: copy.replace(c, co_code=b'\x00'),
    lambda c: types.FunctionType(c, {}),
    lambda c: type(template)(c, {}),
    lambda c: types.FunctionType.__new__(types.FunctionType, c, {}),
    lambda c: setattr(template, '__code__', (lambda: 2).__code__),
    lambda c: exec(c),
    lambda c: compile(compile('1', '<x>', 'eval', 0x400), '<x>', 'eval'),
]
def routes(x):
    refused = []
    for route in ROUTES:
        try:
            route(template.__code__)
            refused.append(False)
        except RuntimeError as e:
            refused.append("the pipeline's Python sandbox refuses" in str(e))
    return refused
"#;
    let dir = scratch("routes");
    let manifest = one_node(&dir, "routes", code, "routes");
    let out = run_within(Duration::from_secs(60), &["run", &manifest], "1\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let refused: Vec<bool> = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(refused, [true; 10], "per route: {refused:?}");
}

// ---- 2. No `_thread` ----

#[test]
fn thread_cannot_start_anything() {
    let dir = scratch("thread");
    let manifest = one_node(
        &dir,
        "spawner",
        "import _thread\ndef spawn(x):\n    _thread.start_new_thread(lambda: None, ())\n",
        "spawn",
    );
    let out = run_within(Duration::from_secs(60), &["run", &manifest], "1\n");
    assert_fails_naming(&out, "spawner", "has no attribute 'start_new_thread'");
}

// ---- 3. No module outside the allowlist, by any route ----

#[test]
fn imp_create_builtin_and_frozen_loaders_are_refused() {
    let dir = scratch("imp");
    for (id, body, module) in [
        (
            "gc",
            "sys.modules['_imp'].create_builtin(type(sys.__spec__)('gc', None))",
            "gc",
        ),
        (
            "marshal",
            "sys.modules['_imp'].create_builtin(type(sys.__spec__)('marshal', None))",
            "marshal",
        ),
        (
            "atexit",
            "sys.__spec__.loader.create_module(type(sys.__spec__)('atexit', None))",
            "atexit",
        ),
        (
            "frozen",
            "sys.modules['_imp'].get_frozen_object('os')",
            "os",
        ),
        (
            "bootstrap",
            "sys.modules['_frozen_importlib'].__import__('gc')",
            "gc",
        ),
    ] {
        let code = format!("import sys\ndef load(x):\n    return str({body})\n");
        let manifest = one_node(&dir, id, &code, "load");
        let out = run_within(Duration::from_secs(60), &["run", &manifest], "1\n");
        assert_fails_naming(
            &out,
            id,
            &format!("import of '{module}' is not allowed in the pipeline's Python sandbox"),
        );
    }
}

// ---- 4. The README lists exactly what is importable ----

#[test]
fn readme_lists_exactly_the_allowed_modules() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let begin = readme
        .find("<!-- allowed-modules:begin -->")
        .expect("begin marker");
    let end = readme
        .find("<!-- allowed-modules:end -->")
        .expect("end marker");
    let listed: std::collections::BTreeSet<&str> =
        readme[begin..end].split('`').skip(1).step_by(2).collect();
    let allowed: std::collections::BTreeSet<&str> = pipeline::python::allowed_modules().collect();
    assert_eq!(
        listed, allowed,
        "README (left) and allowed_modules() (right) differ"
    );
}

#[test]
fn every_listed_module_imports_through_the_binary() {
    let modules: Vec<&str> = pipeline::python::allowed_modules().collect();
    let code = format!(
        "def imports(x):\n    for name in {modules:?}:\n        __import__(name)\n    return len({modules:?})\n"
    );
    let dir = scratch("imports");
    let manifest = one_node(&dir, "imports", &code, "imports");
    let out = run_within(Duration::from_secs(60), &["run", &manifest], "1\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), modules.len().to_string());
}

// ---- 5. Builtins not shared between the nodes of a stage ----

#[test]
fn a_node_that_reassigns_builtins_changes_only_itself() {
    let meddle = "import builtins\ndef meddle(x):\n    builtins.len = lambda o: -1\n    __builtins__.sorted = lambda o: 'patched'\n    return x\n";
    let count = "def count(x):\n    return [len(x), sorted(x)]\n";
    let manifest = serde_json::json!({
        "version": "v1",
        "metadata": {"name": "builtins"},
        "nodes": [
            {"id": "meddle", "node_type": "python", "params": {"code": meddle, "function": "meddle"}},
            {"id": "count", "node_type": "python", "params": {"code": count, "function": "count"}}
        ],
        "connections": [{"from": "meddle", "to": "count"}]
    });
    let dir = scratch("builtins");
    let manifest = write(&dir, "builtins.json", &manifest.to_string());
    let out = run_within(
        Duration::from_secs(60),
        &["run", &manifest],
        "[3, 1, 2]\n[5]\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[3,[1,2,3]]\n[1,[5]]\n");
}

// ---- 6. Generators stream ----

const FOREVER: &str =
    "import itertools\ndef forever(x):\n    for i in itertools.count():\n        yield [x, i]\n";

#[test]
fn an_endless_generator_stops_when_downstream_fails() {
    // The generator never ends; the node after it fails on its 5000th item. The run must end
    // promptly with that error, the outputs before it written.
    let stop = "class Stop:\n    def __init__(self):\n        self.n = 0\n    def process(self, x):\n        self.n += 1\n        if self.n == 5000:\n            raise ValueError('enough')\n        return x\n";
    let manifest = serde_json::json!({
        "version": "v1",
        "metadata": {"name": "forever"},
        "nodes": [
            {"id": "forever", "node_type": "python", "params": {"code": FOREVER, "function": "forever"}},
            {"id": "stop", "node_type": "python", "params": {"code": stop, "class": "Stop"}}
        ],
        "connections": [{"from": "forever", "to": "stop"}]
    });
    let dir = scratch("forever-stop");
    let manifest = write(&dir, "forever.json", &manifest.to_string());
    let out = run_within(Duration::from_secs(120), &["run", &manifest], "1\n2\n3\n");
    assert_fails_naming(&out, "stop", "ValueError: enough");
}

#[test]
fn an_endless_generator_piped_into_head_prints_five_lines_and_ends() {
    let dir = scratch("forever-head");
    let manifest = one_node(&dir, "forever", FOREVER, "forever");
    let streamed = stream_then_close(&manifest, 5);
    assert_eq!(streamed.first_lines, "[1,0]\n[1,1]\n[1,2]\n[1,3]\n[1,4]\n");
}

/// A manifest of the endless generator `forever` with `fields` added to the node (`"stage"`,
/// `"isolation"`), and, with `after`, a pass-through node after it in a stage of its own.
fn forever_manifest(dir: &Path, name: &str, fields: serde_json::Value, after: bool) -> String {
    let mut node = serde_json::json!({
        "id": "forever", "node_type": "python",
        "params": {"code": FOREVER, "function": "forever"}
    });
    for (key, value) in fields.as_object().unwrap() {
        node[key] = value.clone();
    }
    let mut nodes = vec![node];
    let mut connections = Vec::new();
    if after {
        nodes.push(
            serde_json::json!({"id": "after", "node_type": "PassThroughNode", "stage": true}),
        );
        connections.push(serde_json::json!({"from": "forever", "to": "after"}));
    }
    let manifest = serde_json::json!({
        "version": "v1",
        "metadata": {"name": name},
        "nodes": nodes,
        "connections": connections
    });
    write(dir, &format!("{name}.json"), &manifest.to_string())
}

#[test]
fn an_endless_generator_streams_into_head_in_every_placement() {
    // On the caller's thread or a stage thread of its own, last or followed by another stage,
    // isolated (the default) or in process: the first outputs come out while the generator
    // runs, and closing the pipe ends the run.
    let dir = scratch("forever-placements");
    for (name, fields, after) in [
        ("staged", serde_json::json!({"stage": true}), false),
        (
            "staged_then_stage",
            serde_json::json!({"stage": true}),
            true,
        ),
        ("head_then_stage", serde_json::json!({}), true),
        (
            "in_process",
            serde_json::json!({"isolation": "in_process"}),
            false,
        ),
        (
            "in_process_staged",
            serde_json::json!({"isolation": "in_process", "stage": true}),
            false,
        ),
    ] {
        let manifest = forever_manifest(&dir, name, fields, after);
        let streamed = stream_then_close(&manifest, 5);
        assert_eq!(
            streamed.first_lines, "[1,0]\n[1,1]\n[1,2]\n[1,3]\n[1,4]\n",
            "{name}"
        );
    }
}

#[test]
fn an_endless_generator_streams_in_bounded_memory() {
    // 100,000 outputs of about 2 KiB each (200 MiB in all) pass through the CLI; its resident
    // memory (23–55 MiB seen) stays far below what holding them would take, wherever the
    // generator runs.
    const BIG: &str = "import itertools\ndef forever(x):\n    pad = 'x' * 2000\n    for i in itertools.count():\n        yield [x, i, pad]\n";
    let dir = scratch("forever-memory");
    for (name, fields) in [
        ("head", serde_json::json!({})),
        ("staged", serde_json::json!({"stage": true})),
        ("in_process", serde_json::json!({"isolation": "in_process"})),
    ] {
        let manifest = forever_manifest(&dir, name, fields, false);
        let text = std::fs::read_to_string(&manifest).unwrap();
        let escaped = serde_json::to_string(FOREVER).unwrap();
        let big = serde_json::to_string(BIG).unwrap();
        std::fs::write(&manifest, text.replace(&escaped, &big)).unwrap();
        let streamed = stream_then_close(&manifest, 100_000);
        assert!(streamed.first_lines.starts_with("[1,0,\"xxx"), "{name}");
        assert!(
            streamed.peak_rss_kib < 120 * 1024,
            "{name}: the CLI grew to {} KiB while streaming",
            streamed.peak_rss_kib
        );
    }
}

#[test]
fn a_slow_generators_outputs_show_while_it_still_runs() {
    // The generator yields 2000 values, then sleeps (no item timeout): the first piece it
    // handed over (a node hands over up to 1024 outputs per call) must reach the reader while
    // the run goes on, not wait in the CLI's output buffer — in process and isolated, on the
    // caller's thread and on a stage thread. (Outputs within one piece leave together: a
    // generator slower than that shows its outputs a piece at a time.)
    const SLOW: &str = "import time\ndef slow(x):\n    for i in range(2000):\n        yield [x, i]\n    time.sleep(1000)\n    yield [x, 'never']\n";
    let dir = scratch("slow-generator");
    for (name, fields) in [
        ("head", serde_json::json!({})),
        ("staged", serde_json::json!({"stage": true})),
        ("in_process", serde_json::json!({"isolation": "in_process"})),
    ] {
        let manifest = forever_manifest(&dir, name, fields, false);
        let text = std::fs::read_to_string(&manifest).unwrap();
        let escaped = serde_json::to_string(FOREVER).unwrap();
        let slow = serde_json::to_string(SLOW).unwrap();
        let text = text
            .replace(&escaped, &slow)
            .replace("\"forever\"}", "\"slow\"}");
        std::fs::write(&manifest, text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_pipeline"))
            .args(["run", &manifest, "--python-timeout-ms", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        child.stdin.take().unwrap().write_all(b"7\n").unwrap();
        let (reading, deadline) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            let waited = deadline.recv_timeout(Duration::from_secs(120));
            if waited == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        });
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        drop(reading);
        watchdog.join().unwrap();
        let still_running = child.try_wait().unwrap().is_none();
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(line, "[7,0]\n", "{name}");
        assert!(
            still_running,
            "{name}: the first output came only at the end"
        );
    }
}

/// What [`stream_then_close`] saw.
struct Streamed {
    /// The first five lines (or fewer, if fewer were read).
    first_lines: String,
    /// The CLI's largest resident set seen while it streamed (from `/proc`), in KiB.
    peak_rss_kib: u64,
}

/// Runs `manifest` over the input `1 2 3`, reads `lines` lines of its output, then closes the
/// pipe as `head -n` does: the run must end quietly (exit 0, nothing on stderr) within 30 s,
/// with the Python worker processes it started gone. Fails, rather than hangs, when the output
/// stops coming: the child is killed after 120 s.
fn stream_then_close(manifest: &str, lines: usize) -> Streamed {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(["run", manifest])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    child.stdin.take().unwrap().write_all(b"1\n2\n3\n").unwrap();
    let (reading, deadline) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let waited = deadline.recv_timeout(Duration::from_secs(120));
        if waited == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut first_lines, mut peak_rss_kib, mut line) = (String::new(), 0, String::new());
    let mut workers = Vec::new();
    for n in 0..lines {
        line.clear();
        let read = std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        assert!(read > 0, "{manifest}: the output ended after {n} lines");
        if n < 5 {
            first_lines.push_str(&line);
        }
        if n % 10_000 == 0 {
            peak_rss_kib = peak_rss_kib.max(resident_kib(pid));
            workers = children_of(pid);
        }
    }
    drop(stdout);
    drop(reading);
    watchdog.join().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("{manifest}: the run went on after its stdout closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "{manifest}: {status:?}, stderr:\n{stderr}"
    );
    assert_eq!(stderr, "", "{manifest}: a closed output ends quietly");
    for worker in workers {
        assert!(
            !Path::new(&format!("/proc/{worker}")).exists(),
            "{manifest}: worker process {worker} outlived the run"
        );
    }
    Streamed {
        first_lines,
        peak_rss_kib,
    }
}

/// The resident memory of process `pid` in KiB (`VmRSS` in `/proc/<pid>/status`).
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The processes whose parent is `pid` (the isolated Python workers of a run).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            // `pid (name) state ppid ...`: the name may hold spaces, so read after its `)`.
            let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after_name.split_whitespace().nth(1) == Some(&pid.to_string())
        })
        .collect()
}

// ---- 7. Values JSON cannot carry ----

#[test]
fn nan_infinity_huge_ints_and_deep_nesting_from_python_are_errors_naming_the_node() {
    let dir = scratch("values");
    for (id, body, expected) in [
        (
            "nan",
            "return float('nan')",
            "returned: Python float nan, which JSON cannot carry",
        ),
        (
            "inf",
            "yield float('inf')",
            "yielded: Python float inf, which JSON cannot carry",
        ),
        (
            "neginf",
            "return {'x': [-float('inf')]}",
            "Python float -inf, which JSON cannot carry",
        ),
        ("huge", "return 2 ** 64", "does not fit in a 64-bit integer"),
        (
            "deep",
            "y = []\n    for _ in range(10 ** 5):\n        y = [y]\n    return y",
            "nested deeper than 256 levels",
        ),
    ] {
        let code = format!("def f(x):\n    {body}\n");
        let manifest = one_node(&dir, id, &code, "f");
        let out = run_within(Duration::from_secs(60), &["run", &manifest], "1\n");
        assert_fails_naming(&out, id, expected);
        assert_eq!(
            text(&out.stdout),
            "",
            "{id}: nothing may be written for the bad value"
        );
    }
}

// ---- 8. A RustPython panic is an error naming the node ----

#[test]
fn an_interpreter_panic_is_an_error_naming_the_node() {
    let dir = scratch("panic");
    let manifest = one_node(
        &dir,
        "walker",
        "def walk(x):\n    return len([c.__name__ for c in object.__subclasses__()])\n",
        "walk",
    );
    let out = pipeline(&["run", &manifest], "1\n");
    assert_fails_naming(&out, "walker", "the Python interpreter panicked");
}

// ---- 9. The bytecode fuzzer ----

/// Random `co_code` (with random constants and names) through `code.replace` and, in turn, every
/// other forging route, in one interpreter: each must be refused with the sandbox's exception. Were a route open, the
/// forged function is called, and random bytecode crashes the process (SIGSEGV, SIGILL) or
/// panics — either fails this test.
const FUZZ: &str = r#"
import types, copy

def template(a, b=2):
    c = [a, b]
    return c

FORGERS = [
    lambda code, consts, names: template.__code__.replace(co_code=code),
    lambda code, consts, names: template.__code__.replace(co_code=code, co_consts=consts, co_names=names),
    lambda code, consts, names: copy.replace(template.__code__, co_code=code),
    lambda code, consts, names: types.CodeType(2, 0, 0, 3, 16, 3, code, consts, names, ('a', 'b', 'c'),
                                               'fuzz', 'fuzz', 'fuzz', 1, b'', b''),
    lambda code, consts, names: type(template.__code__).__new__(type(template.__code__), 2, 0, 0, 3, 16,
                                               3, code, consts, names, ('a', 'b', 'c'), 'fuzz', 'fuzz',
                                               'fuzz', 1, b'', b''),
]

def run(forged):
    for make in (lambda: types.FunctionType(forged, {}), lambda: type(template)(forged, {})):
        try:
            make()(1, 2)
            return
        except RuntimeError as e:
            if "the pipeline's Python sandbox refuses" not in str(e):
                raise
    template.__code__ = forged
    template(1, 2)

def fuzz(cases):
    # Each case goes through `code.replace` and through one of the other routes, in turn.
    refused = 0
    for n, (code, const) in enumerate(cases):
        consts = (None, const, 'x', (1, 2))
        names = ('append', 'x' * (len(code) % 7))
        for forge in (FORGERS[0], FORGERS[1 + n % (len(FORGERS) - 1)]):
            try:
                forged = forge(code, consts, names)
            except RuntimeError as e:
                if "the pipeline's Python sandbox refuses" not in str(e):
                    raise
                refused += 1
                continue
            run(forged)
    return refused
"#;

/// xorshift64*: deterministic cases, so a failure reproduces.
struct Cases(u64);

impl Cases {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `co_code`: 0..64 code units, biased towards real opcodes' range and small args.
    fn code(&mut self) -> Vec<u8> {
        let units = (self.next() % 65) as usize;
        let mut code = Vec::with_capacity(units * 2);
        for _ in 0..units {
            let r = self.next();
            code.push((r % 256) as u8);
            code.push(if r & 0x100 == 0 {
                ((r >> 9) % 8) as u8
            } else {
                (r >> 9) as u8
            });
        }
        code
    }
}

#[test]
fn random_bytecode_through_every_forging_route_never_crashes() {
    const CASES: usize = 10_000;
    const PER_CALL: usize = 250;
    const ROUTES_PER_CASE: i64 = 2;
    let mut node = PythonNode::function(FUZZ, "fuzz");
    node.initialize(&NodeContext::new("fuzz", &Value::Null))
        .unwrap();
    let mut cases = Cases(0x9E37_79B9_7F4A_7C15);
    let mut refused = 0;
    for _ in 0..CASES / PER_CALL {
        let batch = Value::list((0..PER_CALL).map(|_| {
            let code = cases.code();
            let constant = Value::Int(cases.next() as i64);
            Value::list([Value::Bytes(code.into()), constant])
        }));
        let mut out = Vec::new();
        node.process(batch, &mut out).unwrap();
        refused += out[0].as_int().unwrap();
    }
    node.cleanup().unwrap();
    assert_eq!(refused, CASES as i64 * ROUTES_PER_CASE);
}
