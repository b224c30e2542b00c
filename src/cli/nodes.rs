//! `pipeline nodes`.

use super::CliError;
use std::process::ExitCode;

/// Arguments of `nodes`.
#[derive(Debug, clap::Args)]
pub struct NodesArgs {}

/// Lists every node type: names, port types, params.
pub fn run(_args: NodesArgs) -> Result<ExitCode, CliError> {
    for node_type in super::registry().types() {
        let aliases = if node_type.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", node_type.aliases.join(", "))
        };
        println!(
            "{}{aliases}: {} -> {}",
            node_type.name, node_type.accepts, node_type.emits
        );
        for param in &node_type.params {
            let default = param
                .default
                .as_ref()
                .map_or(String::new(), |d| format!(", default {d}"));
            let required = if param.required { ", required" } else { "" };
            println!("    {}: {}{required}{default}", param.name, param.kind);
        }
    }
    Ok(ExitCode::SUCCESS)
}
