//! `pipeline nodes`.

use super::{output, CliError};
use std::fmt::Write;
use std::process::ExitCode;

/// Arguments of `nodes`.
#[derive(Debug, clap::Args)]
pub struct NodesArgs {}

/// Lists every node type: names, port types, what it does (when its spec says), named output
/// ports, params.
pub fn run(_args: NodesArgs) -> Result<ExitCode, CliError> {
    let mut text = String::new();
    for node_type in super::registry().types() {
        let aliases = if node_type.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", node_type.aliases.join(", "))
        };
        let _ = writeln!(
            text,
            "{}{aliases}: {} -> {}",
            node_type.name, node_type.accepts, node_type.emits
        );
        if !node_type.doc.is_empty() {
            let _ = writeln!(text, "    {}", node_type.doc);
        }
        if !node_type.ports_doc.is_empty() {
            let _ = writeln!(text, "    ports: {}", node_type.ports_doc);
        }
        for param in &node_type.params {
            let default = param
                .default
                .as_ref()
                .map_or(String::new(), |d| format!(", default {d}"));
            let required = if param.required { ", required" } else { "" };
            let _ = writeln!(
                text,
                "    {}: {}{required}{default}",
                param.name, param.kind
            );
        }
    }
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}
