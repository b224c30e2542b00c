//! Refusing to write over a file the command reads: `pipeline run M --input f --output f` would
//! truncate `f` before reading it, and `--input f >> f` would read its own outputs forever.
//!
//! Files are compared by identity (device and inode), so `./f` and `f`, symlinks and hard links
//! are the same file. Only regular files count: a terminal or `/dev/null` on both sides is fine.
//! The output is opened without truncating, compared, and only then emptied, so a refused file is
//! never touched. (`pipeline run M <f >f` is the one case that cannot be caught: the shell empties
//! `f` before the command starts; it is then refused because stdin and stdout are one file.)

use super::CliError;
use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A regular file's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    #[cfg(unix)]
    fn of(meta: &Metadata) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        meta.is_file().then(|| FileId {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }

    /// Without device and inode numbers, files are compared by canonical path (see `Source::new`).
    #[cfg(not(unix))]
    fn of(_meta: &Metadata) -> Option<FileId> {
        None
    }
}

/// A file the command reads: its name for messages, and its identity when it is a regular file.
#[derive(Debug, Clone)]
pub struct Source {
    name: PathBuf,
    id: Option<FileId>,
    #[cfg(not(unix))]
    canonical: Option<PathBuf>,
}

impl Source {
    /// The file at `path` (nothing to compare if it cannot be inspected).
    pub fn path(path: &Path) -> Source {
        Source {
            name: path.to_path_buf(),
            id: std::fs::metadata(path).ok().as_ref().and_then(FileId::of),
            #[cfg(not(unix))]
            canonical: std::fs::canonicalize(path).ok(),
        }
    }

    /// Standard input (a regular file when redirected with `<`).
    pub fn stdin() -> Source {
        Source {
            name: PathBuf::from("<stdin>"),
            id: stdio_id(StdStream::In),
            #[cfg(not(unix))]
            canonical: None,
        }
    }

    fn is(&self, id: Option<FileId>, _path: Option<&Path>) -> bool {
        if id.is_some() && id == self.id {
            return true;
        }
        #[cfg(not(unix))]
        if let (Some(path), Some(canonical)) = (_path, &self.canonical) {
            return std::fs::canonicalize(path).is_ok_and(|p| &p == canonical);
        }
        false
    }
}

#[derive(Clone, Copy)]
enum StdStream {
    In,
    Out,
}

/// The identity of stdin or stdout, when it is a regular file.
#[cfg(unix)]
fn stdio_id(stream: StdStream) -> Option<FileId> {
    use std::os::fd::AsFd;
    let fd = match stream {
        StdStream::In => io::stdin().as_fd().try_clone_to_owned(),
        StdStream::Out => io::stdout().as_fd().try_clone_to_owned(),
    }
    .ok()?;
    File::from(fd).metadata().ok().as_ref().and_then(FileId::of)
}

#[cfg(not(unix))]
fn stdio_id(_stream: StdStream) -> Option<FileId> {
    None
}

fn refused(output: &Path, input: &Source) -> CliError {
    CliError::SameFile {
        output: output.to_path_buf(),
        input: input.name.clone(),
    }
}

/// Opens `path` for writing, emptied, unless it is one of `inputs`: then it is left as it was.
pub fn create_output(path: &Path, inputs: &[Source]) -> Result<File, CliError> {
    let io_error = |source: io::Error| CliError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    let id = FileId::of(&meta);
    if let Some(input) = inputs.iter().find(|input| input.is(id, Some(path))) {
        return Err(refused(path, input));
    }
    if meta.is_file() {
        file.set_len(0).map_err(io_error)?;
    }
    Ok(file)
}

/// Refuses a standard output redirected to one of `inputs` (`--input f >> f`).
pub fn check_stdout(inputs: &[Source]) -> Result<(), CliError> {
    let id = stdio_id(StdStream::Out);
    match inputs.iter().find(|input| input.is(id, None)) {
        Some(input) => Err(refused(Path::new(super::output::STDOUT), input)),
        None => Ok(()),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pipeline-same-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn a_hard_link_to_an_input_is_refused_and_left_intact() {
        let input = scratch("in.jsonl");
        std::fs::write(&input, "1\n2\n").unwrap();
        let link = scratch("link.jsonl");
        let _ = std::fs::remove_file(&link);
        std::fs::hard_link(&input, &link).unwrap();
        let err = create_output(&link, &[Source::path(&input)]).unwrap_err();
        assert!(matches!(err, CliError::SameFile { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "1\n2\n");
    }

    #[test]
    fn another_file_is_created_empty() {
        let input = scratch("a.jsonl");
        std::fs::write(&input, "1\n").unwrap();
        let output = scratch("b.jsonl");
        std::fs::write(&output, "old contents\n").unwrap();
        drop(create_output(&output, &[Source::path(&input)]).unwrap());
        assert_eq!(std::fs::read_to_string(&output).unwrap(), "");
    }

    #[test]
    fn devices_are_never_the_same_file() {
        let null = Path::new("/dev/null");
        assert!(create_output(null, &[Source::path(null)]).is_ok());
    }
}
