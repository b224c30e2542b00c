//! Everything a subcommand can fail with.

use pipeline::manifest::ManifestError;
use std::path::PathBuf;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The manifest is invalid (rendered with snippets).
    #[error("{0}")]
    Manifest(ManifestError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A Python pipeline script failed before it described a pipeline (syntax error, exception).
    #[error("{}: {error}", path.display())]
    Script {
        /// The script.
        path: PathBuf,
        /// The Python error, with its traceback.
        error: pipeline::Error,
    },
    /// An input line is not JSON.
    #[error("input line {line}, column {column}: {message}")]
    InputLine {
        /// 1-based line number.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The pipeline failed while running.
    #[error("{0}")]
    Pipeline(pipeline::Error),
    /// The pipeline failed while running over the input: where, and how far it got.
    #[error("{error}\n  stopped at input line {line}: {read} items read, {written} outputs written before the failure")]
    Run {
        /// The pipeline's error (naming the node).
        error: pipeline::Error,
        /// The input line of the failing item (when the runtime could not tell which item
        /// failed: the line being read when the failure surfaced).
        line: usize,
        /// Items read from the input.
        read: u64,
        /// Outputs written (and flushed) before the failure.
        written: u64,
    },
}

impl From<ManifestError> for CliError {
    fn from(err: ManifestError) -> Self {
        CliError::Manifest(err)
    }
}

impl From<pipeline::Error> for CliError {
    fn from(err: pipeline::Error) -> Self {
        CliError::Pipeline(err)
    }
}
