//! Describing a pipeline script in an isolated worker: the script's module level is node code
//! too, so `pipeline validate script.py` must not hang, exhaust or crash the CLI either.

use super::process::Worker;
use super::protocol::{Frame, Reply, DESCRIBE};
use super::IsolationConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::manifest::Manifest;
use crate::python::ScriptPipeline;
use std::time::Instant;

/// What the worker sends back for a described script.
#[derive(serde::Serialize, serde::Deserialize)]
struct Described {
    manifest: Manifest,
    node_lines: Vec<usize>,
    connection_lines: Vec<usize>,
}

/// The described pipeline as the worker's reply text.
pub(crate) fn to_text(described: &ScriptPipeline) -> String {
    let (node_lines, connection_lines) = described.lines();
    serde_json::json!({
        "manifest": described.manifest,
        "node_lines": node_lines,
        "connection_lines": connection_lines,
    })
    .to_string()
}

/// Runs the script in a fresh worker under the configured limits (the item timeout bounds the
/// whole evaluation).
pub(crate) fn describe(
    config: &IsolationConfig,
    file: &str,
    source: &str,
) -> Result<ScriptPipeline> {
    let limits = config.limits;
    let mut worker = Worker::spawn(config, limits, &[])?;
    let frame = Frame::new(DESCRIBE).str(file).str(source).finish();
    if let Err(stop) = worker.send(&frame) {
        return Err(worker.fail(stop, limits.item_timeout_ms));
    }
    let deadline = limits.item_timeout().map(|t| Instant::now() + t);
    let text = match worker.receive(deadline) {
        Ok(Reply::Text(text)) => text,
        Ok(Reply::Failed(err, _)) => return Err(err),
        Ok(_) => {
            let stop =
                super::process::Stop::Invalid("outputs where a description was expected".into());
            return Err(worker.fail(stop, limits.item_timeout_ms));
        }
        Err(stop) => return Err(worker.fail(stop, limits.item_timeout_ms)),
    };
    let described: Described = serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorKind::Graph,
            format_args!("the Python worker described an unexpected shape: {e}"),
        )
    })?;
    Ok(ScriptPipeline::from_parts(
        file,
        source,
        described.manifest,
        described.node_lines,
        described.connection_lines,
    ))
}
