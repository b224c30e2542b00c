//! `pipeline schema`.

use super::{output, CliError};
use std::process::ExitCode;

/// Arguments of `schema`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {}

/// Prints the manifest's JSON Schema (the one committed as `schema/manifest.v1.json`).
pub fn run(_args: SchemaArgs) -> Result<ExitCode, CliError> {
    output::print(&pipeline::manifest::json_schema())?;
    Ok(ExitCode::SUCCESS)
}
