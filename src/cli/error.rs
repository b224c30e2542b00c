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
    /// The output's reader went away (`| head`): the command stops and exits 0 without a message.
    #[error("the output was closed")]
    OutputClosed,
    /// The output is a file the command reads.
    #[error("refusing to write to {}: it is the same file as {} (writing would empty it before it is read); write to another file, then rename it", output.display(), input.display())]
    SameFile {
        /// The output.
        output: PathBuf,
        /// The input it would overwrite.
        input: PathBuf,
    },
    /// An output value cannot be written as JSON (NaN or an infinity).
    #[error("{output}: {message}{}", line.map_or(String::new(), |line| format!(" (input line {line} was the last read)")))]
    Unwritable {
        /// The output and the node(s) it comes from: "output `name` (from node `id`)".
        output: String,
        /// The last input line read when the value reached the writer.
        line: Option<usize>,
        /// What is wrong with the value, and where in it.
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
