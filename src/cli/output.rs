//! Where subcommands write their results, through writes that return errors instead of the
//! panicking `println!`.
//!
//! Two failures matter. A closed reader (`pipeline nodes | head -n 1`: `EPIPE`, since Rust ignores
//! `SIGPIPE`) is the reader saying it has seen enough: the command stops and exits 0 quietly, as
//! `ripgrep` and `fd` do, rather than dying by the signal (which would skip joining threads and
//! flushing other files) or printing `Broken pipe`. Anything else (`/dev/full`: `ENOSPC`) is an
//! error naming the output, and the command exits non-zero.

#[cfg(feature = "python")]
use super::same_file::{create_output, Source};
use super::CliError;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The name errors give standard output.
pub const STDOUT: &str = "<stdout>";

/// The error for a failed write to `path`: [`CliError::OutputClosed`] when the reader went away.
pub fn write_error(path: &Path, source: io::Error) -> CliError {
    if source.kind() == io::ErrorKind::BrokenPipe {
        CliError::OutputClosed
    } else {
        CliError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Writes `text` to standard output and flushes it, reporting a failure instead of panicking.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| write_error(Path::new(STDOUT), source))
}

/// Writes `text` to `path` (replacing it), or to standard output when there is no path; refuses
/// to overwrite any of `inputs` (the files the text was made from).
#[cfg(feature = "python")]
pub fn print_to(path: Option<&Path>, inputs: &[Source], text: &str) -> Result<(), CliError> {
    let Some(path) = path else {
        return print(text);
    };
    let mut file = create_output(path, inputs)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|source| write_error(path, source))
}

/// The display name of an optional output file.
pub fn name(path: Option<&Path>) -> PathBuf {
    path.map_or_else(|| PathBuf::from(STDOUT), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_reader_is_not_an_error_but_a_full_disk_is() {
        let closed = write_error(Path::new("x"), io::ErrorKind::BrokenPipe.into());
        assert!(matches!(closed, CliError::OutputClosed));
        let full = write_error(Path::new("x"), io::Error::from_raw_os_error(28));
        assert!(full.to_string().starts_with("x: "), "{full}");
    }
}
