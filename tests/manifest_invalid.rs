//! Every invalid example manifest fails with a message naming the node (where there is one) and the
//! location: file, line:column and JSON pointer.

use pipeline::dynamic::Registry;
use pipeline::manifest::{self, check_placement, ManifestError};
use pipeline::placement::HostInfo;

fn load_error(name: &str) -> ManifestError {
    let path = format!(
        "{}/examples/manifests/invalid/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    match manifest::load(name, &text, &Registry::with_builtins()) {
        Err(err) => err,
        Ok(lowered) => check_placement(&lowered, &HostInfo::probe())
            .err()
            .unwrap_or_else(|| panic!("{name} should be rejected")),
    }
}

/// (file, node named in backticks or None, "line:column (pointer)", words the message contains)
const CASES: &[(&str, Option<&str>, &str, &str)] = &[
    (
        "malformed_json.json",
        None,
        "5:2 (/)",
        "malformed JSON: trailing comma",
    ),
    (
        "wrong_version.json",
        None,
        "1:13 (/version)",
        "unknown variant `v2`, expected `v1`",
    ),
    (
        "no_nodes.json",
        None,
        "3:11 (/nodes)",
        "the pipeline has no nodes",
    ),
    (
        "duplicate_id.json",
        Some("calc"),
        "5:4 (/nodes/1)",
        "is declared twice",
    ),
    (
        "invalid_id.json",
        Some("calc 1"),
        "4:4 (/nodes/0)",
        "invalid node id",
    ),
    (
        "unknown_node_type.json",
        Some("calc_1"),
        "5:34 (/nodes/1/node_type)",
        "unknown node type `CalculaterNode` (did you mean `CalculatorNode`?)",
    ),
    (
        "bad_params.json",
        Some("calc_1"),
        "5:47 (/nodes/0/params/operand)",
        "param `operand`: invalid type: string \"five\", expected a JSON number",
    ),
    (
        "missing_node.json",
        Some("pass_2"),
        "9:29 (/connections/1/to)",
        "unknown node `pass_2` (did you mean `pass_0`?)",
    ),
    (
        "cycle.json",
        Some("b"),
        "11:4 (/connections/2)",
        "cycle: `b` -> `c` -> `b`",
    ),
    (
        "incompatible_ports.json",
        Some("sum"),
        "8:4 (/connections/0)",
        "`batch` emits list but `sum` accepts int",
    ),
    (
        "unreachable.json",
        Some("orphan"),
        "5:4 (/nodes/1)",
        "is not reachable from `input`",
    ),
    (
        "missing_field.json",
        Some("calc_1"),
        "4:4 (/nodes/0)",
        "missing field `node_type`",
    ),
    (
        "gpu_required.json",
        Some("infer"),
        "5:21 (/nodes/0/capabilities)",
        "needs a cuda GPU with 16 GB",
    ),
];

#[test]
fn every_invalid_manifest_names_the_node_and_the_location() {
    for (file, node, location, words) in CASES {
        let err = load_error(file);
        let message = err.to_string();
        assert_eq!(
            err.errors().count(),
            1,
            "{file}: one error expected:\n{message}"
        );
        assert!(
            message.starts_with(&format!("{file}:{location}: error: ")),
            "{file}: {message}"
        );
        assert!(message.contains(words), "{file}: {message}");
        if let Some(node) = node {
            assert!(message.contains(&format!("`{node}`")), "{file}: {message}");
            assert_eq!(err.problems[0].node.as_deref(), Some(*node), "{file}");
        }
    }
}

#[test]
fn every_invalid_example_has_a_case() {
    let dir = format!("{}/examples/manifests/invalid", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut cases: Vec<String> = CASES.iter().map(|c| c.0.to_string()).collect();
    cases.sort();
    assert_eq!(files, cases);
    assert!(files.len() >= 10);
}
