//! What a run across processes reports, and how its workers recover, with real `pipeline worker`
//! processes on 127.0.0.1: `pipeline run --hosts --stats` names every node once with the local
//! run's counts and where it ran; a worker whose local process vanishes while the run's links
//! are made serves the next run promptly; a library user (no CLI panic hook) sees no panic text
//! when a link breaks.

mod support;

use pipeline::distributed::{connect, ClusterOptions, ExchangeSum, HostsFile, Job, Secret};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::cli::text;
use support::workers::{hosts_file, pipeline, scratch, Worker, TOKEN};

/// A manifest over two workers: `b` pinned to `w1`, `count` to `w2`, `spread` (a stateless
/// `"distribute": true` node) on every process, the rest local. Without `workers`, the same
/// manifest with no pins (for a local run).
fn crossing_manifest(workers: Option<(&str, &str)>) -> String {
    let (pin1, pin2, spread) = match workers {
        Some((w1, w2)) => (
            format!(r#", "host": "{w1}""#),
            format!(r#", "host": "{w2}""#),
            r#", "distribute": true"#,
        ),
        None => (String::new(), String::new(), ""),
    };
    format!(
        r#"{{"version": "v1", "metadata": {{"name": "crossing"}},
  "nodes": [
    {{"id": "a", "node_type": "Calculator", "params": {{"operand": 1}}}},
    {{"id": "b", "node_type": "Calculator", "params": {{"operation": "multiply", "operand": 3}}{pin1}}},
    {{"id": "split", "node_type": "Partition", "params": {{"op": "even"}}}},
    {{"id": "count", "node_type": "Count"{pin2}}},
    {{"id": "spread", "node_type": "Calculator", "params": {{"operand": 7}}, "parallelism": 2{spread}}},
    {{"id": "tail", "node_type": "PassThrough"}}],
  "connections": [
    {{"from": "a", "to": "b"}}, {{"from": "b", "to": "split"}},
    {{"from": "split.true", "to": "count"}}, {{"from": "split.false", "to": "spread"}},
    {{"from": "spread", "to": "tail"}}, {{"from": "a", "to": "tail"}}]}}"#
    )
}

/// One row of a `--stats` table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    items_in: u64,
    items_out: u64,
    /// The `where` column (empty in a local run's table).
    place: String,
}

/// The rows of the `--stats` table in `stderr`, by node, and how often each node was named;
/// the `(total)` row under `(total)`.
fn stats_rows(stderr: &str) -> (BTreeMap<String, Row>, BTreeMap<String, usize>) {
    let mut lines = stderr.lines().skip_while(|l| !l.starts_with("node "));
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("no stats:\n{stderr}"));
    assert!(header.contains("items in") && header.contains("items out"));
    let mut rows = BTreeMap::new();
    let mut named = BTreeMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [node, items_in, items_out, _time, place @ ..] = &fields[..] else {
            panic!("a stats line of too few fields: {line:?}\n{stderr}");
        };
        let row = Row {
            items_in: items_in.parse().unwrap(),
            items_out: items_out.parse().unwrap(),
            place: place.join(" "),
        };
        *named.entry(node.to_string()).or_insert(0) += 1;
        rows.insert(node.to_string(), row);
        if *node == "(total)" {
            break;
        }
    }
    (rows, named)
}

#[test]
fn stats_across_processes_name_every_node_once_with_the_local_runs_counts_and_place() {
    let (w1, w2) = (Worker::spawn(&[]), Worker::spawn(&[]));
    let dir = scratch("stats");
    let hosts = hosts_file(&dir, &[&w1, &w2]);
    let across = dir.join("across.json");
    std::fs::write(&across, crossing_manifest(Some((&w1.address, &w2.address)))).unwrap();
    let local = dir.join("local.json");
    std::fs::write(&local, crossing_manifest(None)).unwrap();
    // Enough items for several epochs (4096 items each) on every process.
    let input: String = (0..20_000).map(|x| format!("{x}\n")).collect();

    // `pipeline run M --stats` with `extra` arguments: its stderr, once it succeeded.
    let run_with_stats = |manifest: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["run", manifest.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--stats", "--output", "/dev/null"]);
        let out = pipeline(&args, &input);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        stderr
    };
    let (local_rows, _) = stats_rows(&run_with_stats(&local, &[]));

    let stderr = run_with_stats(&across, &["--hosts", hosts.to_str().unwrap()]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (rows, named) = stats_rows(&stderr);

    let nodes = ["a", "b", "split", "count", "spread", "tail", "(total)"];
    assert_eq!(
        named.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut sorted = nodes.to_vec();
            sorted.sort_unstable();
            sorted
        },
        "{stderr}"
    );
    assert!(named.values().all(|&n| n == 1), "{named:?}\n{stderr}");
    for node in nodes {
        let (got, want) = (&rows[node], &local_rows[node]);
        assert_eq!(
            (got.items_in, got.items_out),
            (want.items_in, want.items_out),
            "node {node}\nacross:\n{stderr}"
        );
    }
    // Not a trivial count: every node saw items.
    assert_eq!(rows["a"].items_in, 20_000);
    assert!(rows["spread"].items_in > 0 && rows["count"].items_in > 0);
    // Where each ran.
    assert_eq!(rows["a"].place, "local");
    assert_eq!(rows["b"].place, w1.address);
    assert_eq!(rows["count"].place, w2.address);
    assert_eq!(
        rows["spread"].place,
        format!("local, {}, {}", w1.address, w2.address)
    );
}

/// Runs `manifest` on `hosts` with `input` until it is not refused as busy (at most `limit`);
/// how long that took.
fn next_run_within(manifest: &str, hosts: &str, input: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let out = pipeline(&["run", manifest, "--hosts", hosts], input);
        let stderr = text(&out.stderr);
        if out.status.success() {
            assert_eq!(text(&out.stdout), "2\n4\n6\n");
            return started.elapsed();
        }
        assert!(
            stderr.contains("busy") && started.elapsed() < limit,
            "after {:?}: {stderr}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Before, such a worker waited for the local process's mesh link for connect timeout ×
/// (attempts + 1) = 20 s with the defaults, refusing every run as busy meanwhile.
#[test]
fn a_worker_whose_local_process_vanishes_during_setup_serves_the_next_run_promptly() {
    let (w1, w2) = (Worker::spawn(&[]), Worker::spawn(&[]));
    let dir = scratch("vanish");
    let hosts = hosts_file(&dir, &[&w1, &w2]);
    let manifest = dir.join("double.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"version": "v1", "metadata": {{"name": "double"}},
                "nodes": [{{"id": "double", "node_type": "Calculator",
                            "params": {{"operation": "multiply", "operand": 2}}, "host": "{}"}}],
                "connections": []}}"#,
            w2.address
        ),
    )
    .unwrap();
    // A local process that starts a run (both workers accept it and begin linking) and is gone
    // before it makes its own links, as one killed at that moment.
    let secret = Secret::from_text(TOKEN).unwrap();
    let listed = HostsFile::from_addresses([w1.address.clone(), w2.address.clone()]).unwrap();
    let cluster = connect(&listed, &secret, &ClusterOptions::default()).unwrap();
    let job = ExchangeSum {
        rounds: 1,
        per_round: 1,
        delay_ms: 0,
        fail_on: None,
    };
    cluster
        .abandon_during_setup(&Job::ExchangeSum(job))
        .unwrap();

    // A bound on a failure (the old 20 s), not a speed test.
    let took = next_run_within(
        manifest.to_str().unwrap(),
        hosts.to_str().unwrap(),
        "1\n2\n3\n",
        Duration::from_secs(8),
    );
    assert!(took < Duration::from_secs(8), "{took:?}");
}

/// Set in the child process of [`a_library_user_sees_no_panic_text_when_a_link_breaks`].
const LIBRARY_CHILD: &str = "PIPELINE_TEST_LIBRARY_CHILD";

/// Timely's threads panic on a closed socket; the CLI's panic hook keeps that quiet, but a
/// program using the library has the default hook, which printed `thread 'timely:recv-0'
/// panicked at ...: timely communication error` (and `MergeQueue poisoned`) for every broken
/// link. This test runs itself again in a child process with the default hook and output not
/// captured, breaks a link on both sides (the library as the local process, its worker killed;
/// the library as a worker, its local process killed), and reads the child's stderr.
#[test]
fn a_library_user_sees_no_panic_text_when_a_link_breaks() {
    if std::env::var_os(LIBRARY_CHILD).is_some() {
        return break_links_as_a_library_user();
    }
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "a_library_user_sees_no_panic_text_when_a_link_breaks",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(LIBRARY_CHILD, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (out, _) = support::cli::wait_within(child, Duration::from_secs(90), "the child test");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}\n{stderr}");
    // The runs' errors may quote timely (`a link between the processes broke (timely: ...)`);
    // what must not appear is the default hook's report of a panic.
    for panic_text in ["panicked at", "stack backtrace", "RUST_BACKTRACE"] {
        assert!(
            !stderr.contains(panic_text) && !stdout.contains(panic_text),
            "`{panic_text}` in the child's output:\n{stdout}\n{stderr}"
        );
    }
}

/// The child's part (default panic hook): both sides of a broken link, as a library user.
fn break_links_as_a_library_user() {
    use pipeline::distributed::{WorkerConfig, WorkerServer};
    use pipeline::placement::HostInfo;
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    let secret = Secret::from_text(TOKEN).unwrap();
    // The library as the local process: its worker is killed mid-run.
    let worker = Worker::spawn(&[]);
    let hosts = HostsFile::from_addresses([worker.address.clone()]).unwrap();
    let cluster = connect(&hosts, &secret, &ClusterOptions::default()).unwrap();
    let job = ExchangeSum {
        rounds: 10_000,
        per_round: 10,
        delay_ms: 5,
        fail_on: None,
    };
    let pid = worker.child.id().to_string();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        Command::new("kill").args(["-9", &pid]).status().unwrap();
    });
    let err = cluster
        .run(&Job::ExchangeSum(job.clone()), |w| job.run(w))
        .unwrap_err();
    killer.join().unwrap();
    assert!(err.to_string().contains(&worker.address), "{err}");
    // Timely's threads of the broken run are joined before `run` returns; give stragglers a
    // moment all the same, so that anything they print is in this process's output.
    std::thread::sleep(Duration::from_millis(300));

    // The library as a worker: its local process (`pipeline run --hosts`) is killed mid-run.
    let config = WorkerConfig::new(HostInfo::probe(), secret);
    let server = WorkerServer::bind("127.0.0.1:0", config).unwrap();
    let address = server.local_addr().to_string();
    std::thread::spawn(move || server.serve());
    let dir = scratch("library-worker");
    let hosts = dir.join("hosts.txt");
    std::fs::write(&hosts, format!("{address}\n")).unwrap();
    let manifest = dir.join("pinned.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"version": "v1", "metadata": {{"name": "pinned"}},
                "nodes": [{{"id": "double", "node_type": "Calculator",
                            "params": {{"operation": "multiply", "operand": 2}}, "host": "{address}"}}],
                "connections": []}}"#
        ),
    )
    .unwrap();
    let mut local = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(["run", manifest.to_str().unwrap(), "--hosts"])
        .arg(&hosts)
        .env("PIPELINE_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = local.stdin.take().unwrap();
    std::thread::spawn(move || {
        for x in 0_u64.. {
            if writeln!(input, "{x}").is_err() {
                return;
            }
            if x % 1000 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
    // Mid-run once the first output came back through the worker.
    let mut first = String::new();
    BufReader::new(local.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "0\n");
    local.kill().unwrap();
    local.wait().unwrap();
    // The worker gives the run up and serves the next one.
    let once = dir.join("once.json");
    std::fs::write(&once, std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let started = Instant::now();
    loop {
        let out = pipeline(
            &[
                "run",
                once.to_str().unwrap(),
                "--hosts",
                hosts.to_str().unwrap(),
            ],
            "1\n2\n",
        );
        if out.status.success() {
            assert_eq!(text(&out.stdout), "2\n4\n");
            break;
        }
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("busy") && started.elapsed() < Duration::from_secs(30),
            "{stderr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The peak resident memory of a `pipeline worker` (what the distributed bench reports beside
/// the local process's) comes back with its `Done`: the worker process's, as the kernel has it.
#[test]
#[cfg(target_os = "linux")]
fn a_workers_peak_memory_comes_back_with_its_done() {
    let worker = Worker::spawn(&[]);
    let hosts = HostsFile::from_addresses([worker.address.clone()]).unwrap();
    let secret = Secret::from_text(TOKEN).unwrap();
    let cluster = connect(&hosts, &secret, &ClusterOptions::default()).unwrap();
    let job = ExchangeSum {
        rounds: 20,
        per_round: 1000,
        delay_ms: 0,
        fail_on: None,
    };
    let run = cluster
        .run_with_summaries(&Job::ExchangeSum(job.clone()), |w| job.run(w))
        .unwrap();
    assert_eq!(run.local, job.expected(2));
    let reported = run.workers[0].peak_rss_bytes.expect("known on Linux");
    // The kernel's figure for the worker process, read after its `Done` (it can only grow).
    let status = std::fs::read_to_string(format!("/proc/{}/status", worker.child.id())).unwrap();
    let high_water_kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(
        reported > 1 << 20 && reported <= high_water_kb * 1024,
        "reported {reported} bytes, the kernel's peak {high_water_kb} kB"
    );
}
