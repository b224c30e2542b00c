//! `pipeline run --hosts` and `pipeline plan --hosts` with real `pipeline worker` processes on
//! 127.0.0.1: random DAG manifests placed over the local process and two workers give the local
//! run's outputs (same multiset per output, same order where the local run promises it); a node
//! that needs a GPU lands on the worker that has one and nowhere else.

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use support::cli::text;
use support::random_dag::graph;
use support::workers::{hosts_file, pipeline, scratch, Worker};

#[test]
fn random_graphs_across_three_processes_give_the_local_outputs() {
    let (w1, w2) = (Worker::spawn(&[]), Worker::spawn(&[]));
    let dir = scratch("random");
    let hosts = hosts_file(&dir, &[&w1, &w2]);
    let addresses = [w1.address.clone(), w2.address.clone()];
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let case = (
        graph(),
        proptest::collection::vec(0_usize..3, 7),
        proptest::collection::vec(-1000_i64..1000, 0..400),
    );
    runner
        .run(&case, |(graph, places, input)| {
            // Node i runs where `places[i]` says: 0 local, 1 or 2 a worker.
            let manifest_text = graph.manifest_with(|i, n| {
                let mut extra = String::new();
                if n.stage {
                    extra += r#", "stage": true"#;
                }
                if n.parallelism > 1 {
                    extra += &format!(r#", "parallelism": {}"#, n.parallelism);
                }
                if places[i] > 0 {
                    extra += &format!(r#", "host": "{}""#, addresses[places[i] - 1]);
                }
                extra
            });
            let manifest = dir.join("m.json");
            std::fs::write(&manifest, &manifest_text).unwrap();
            let lines: String = input.iter().map(|x| format!("{x}\n")).collect();
            let out = pipeline(
                &[
                    "run",
                    manifest.to_str().unwrap(),
                    "--hosts",
                    hosts.to_str().unwrap(),
                    "--tag",
                ],
                &lines,
            );
            prop_assert!(
                out.status.success(),
                "{}\n{manifest_text}",
                text(&out.stderr)
            );
            let mut got = graph.empty_outputs();
            for line in text(&out.stdout).lines() {
                let tagged: serde_json::Value = serde_json::from_str(line).unwrap();
                let name = tagged["node"].as_str().unwrap();
                got.get_mut(name)
                    .unwrap_or_else(|| panic!("unknown output {name}"))
                    .push(tagged["value"].as_i64().unwrap());
            }
            graph.check(&input, &got, &manifest_text)
        })
        .unwrap();
}

/// The byte-for-byte promise on a fixed chain crossing processes twice: `--tag` output equal to
/// the local run's.
#[test]
fn a_chain_through_two_workers_writes_the_local_bytes() {
    let (w1, w2) = (Worker::spawn(&[]), Worker::spawn(&[]));
    let dir = scratch("chain");
    let hosts = hosts_file(&dir, &[&w1, &w2]);
    let manifest = |pinned: bool| {
        let host = |w: &Worker| {
            if pinned {
                format!(r#", "host": "{}""#, w.address)
            } else {
                String::new()
            }
        };
        format!(
            r#"{{"version": "v1", "metadata": {{"name": "chain"}},
              "nodes": [{{"id": "a", "node_type": "Calculator", "params": {{"operand": 1}}}},
                        {{"id": "b", "node_type": "Calculator", "params": {{"operation": "multiply", "operand": 3}}{}}},
                        {{"id": "c", "node_type": "PassThrough"}},
                        {{"id": "d", "node_type": "Echo"{}}},
                        {{"id": "n", "node_type": "Count"{}}}],
              "connections": [{{"from": "a", "to": "b"}}, {{"from": "b", "to": "c"}},
                              {{"from": "c", "to": "d"}}, {{"from": "b", "to": "n"}}]}}"#,
            host(&w1),
            host(&w2),
            host(&w2)
        )
    };
    let (local, distributed) = (dir.join("local.json"), dir.join("dist.json"));
    std::fs::write(&local, manifest(false)).unwrap();
    std::fs::write(&distributed, manifest(true)).unwrap();
    let input: String = (0..20_000).map(|x| format!("{x}\n")).collect();
    let want = pipeline(&["run", local.to_str().unwrap(), "--tag"], &input);
    assert!(want.status.success(), "{}", text(&want.stderr));
    let got = pipeline(
        &[
            "run",
            distributed.to_str().unwrap(),
            "--hosts",
            hosts.to_str().unwrap(),
            "--tag",
        ],
        &input,
    );
    assert!(got.status.success(), "{}", text(&got.stderr));
    // Each output's lines in the same order; outputs may interleave differently.
    let by_output = |bytes: &[u8]| {
        let mut outputs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in text(bytes).lines() {
            let name = line.split('"').nth(3).unwrap().to_string();
            outputs.entry(name).or_default().push(line.to_string());
        }
        outputs
    };
    assert_eq!(by_output(&got.stdout), by_output(&want.stdout));
    assert_eq!(by_output(&want.stdout)["d"].len(), 20_000);
}

#[test]
fn a_gpu_node_is_planned_and_run_on_the_worker_with_the_gpu() {
    let (plain, gpu) = (Worker::spawn(&[]), Worker::spawn(&["--gpu", "cuda:16"]));
    let dir = scratch("gpu");
    let hosts = hosts_file(&dir, &[&plain, &gpu]);
    let manifest = dir.join("m.json");
    std::fs::write(
        &manifest,
        r#"{"version": "v1", "metadata": {"name": "gpu"},
            "nodes": [{"id": "read", "node_type": "PassThrough"},
                      {"id": "infer", "node_type": "Calculator", "params": {"operand": 1},
                       "capabilities": {"gpu": {"type": "cuda", "min_memory_gb": 8}}}],
            "connections": [{"from": "read", "to": "infer"}]}"#,
    )
    .unwrap();
    let plan = pipeline(
        &[
            "plan",
            manifest.to_str().unwrap(),
            "--hosts",
            hosts.to_str().unwrap(),
        ],
        "",
    );
    let printed = text(&plan.stdout);
    assert!(plan.status.success(), "{}{printed}", text(&plan.stderr));
    assert!(printed.contains("  read: local"), "{printed}");
    assert!(
        printed.contains(&format!("  infer: worker {} (", gpu.address)),
        "{printed}"
    );
    // Each process's part is a segment, entered where the process changes.
    assert!(
        printed.contains("segment 0 on local (entered at input): read"),
        "{printed}"
    );
    assert!(
        printed.contains(&format!(
            "segment 1 on {} (entered at infer): infer",
            gpu.address
        )),
        "{printed}"
    );
    // Without the GPU worker the node fits nowhere: exit 1 naming the requirement.
    let only_plain = hosts_file(&scratch("gpu-none"), &[&plain]);
    let plan = pipeline(
        &[
            "plan",
            manifest.to_str().unwrap(),
            "--hosts",
            only_plain.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(plan.status.code(), Some(1));
    assert!(
        text(&plan.stdout).contains("needs a cuda GPU"),
        "{}",
        text(&plan.stdout)
    );
    // And the run computes on it.
    let out = pipeline(
        &[
            "run",
            manifest.to_str().unwrap(),
            "--hosts",
            hosts.to_str().unwrap(),
        ],
        "1\n2\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "2\n3\n");
    // Which process ran it: a failure there is reported with the worker it happened on.
    let failing = dir.join("failing.json");
    let divide = std::fs::read_to_string(&manifest).unwrap().replace(
        r#""params": {"operand": 1}"#,
        r#""params": {"operation": "divide", "operand": 0}"#,
    );
    std::fs::write(&failing, divide).unwrap();
    let out = pipeline(
        &[
            "run",
            failing.to_str().unwrap(),
            "--hosts",
            hosts.to_str().unwrap(),
        ],
        "1\n",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("node `infer` on {}", gpu.address)),
        "{stderr}"
    );
}
