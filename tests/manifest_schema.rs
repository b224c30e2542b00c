//! The committed JSON Schema is the generated one, and every example manifest fits the model it is
//! generated from (validated by deserialising: a JSON Schema validator would cost more to compile
//! than it checks here).

use pipeline::manifest::{self, json_schema, Manifest};

#[test]
fn committed_schema_is_up_to_date() {
    let path = format!("{}/schema/manifest.v1.json", env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(path).unwrap();
    assert!(
        committed == json_schema(),
        "schema/manifest.v1.json is stale: run `cargo run --bin pipeline -- schema > schema/manifest.v1.json`"
    );
}

#[test]
fn every_valid_example_fits_the_schema_model() {
    let dir = format!("{}/examples/manifests", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            // The loader's way in: unknown fields (a seed example has one) are warnings.
            let parsed = manifest::parse(&path.display().to_string(), &text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!parsed.manifest.nodes.is_empty(), "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} examples");
}

#[test]
fn the_model_alone_refuses_unknown_fields_the_loader_warns_about() {
    let text = r#"{"version": "v1", "metadata": {"name": "m"},
        "nodes": [{"id": "a", "node_type": "PassThrough", "is_streaming": true}], "connections": []}"#;
    let err = serde_json::from_str::<Manifest>(text).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `is_streaming`"),
        "{err}"
    );
    let parsed = manifest::parse("m.json", text).unwrap();
    assert_eq!(parsed.warnings.len(), 1);
    assert_eq!(&*parsed.manifest.nodes[0].id, "a");
}

#[test]
fn schema_requires_the_seed_fields() {
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let required = schema["required"].as_array().unwrap();
    for field in ["version", "metadata", "nodes", "connections"] {
        assert!(required.iter().any(|r| r == field), "{field}");
    }
    assert_eq!(
        schema["$defs"]["NodeSpec"]["properties"]["id"]["pattern"],
        "^[a-zA-Z0-9_-]+$"
    );
}
