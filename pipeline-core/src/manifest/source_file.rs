//! Reading a file someone else wrote — a manifest, a pipeline script, a python node's source —
//! without trusting it: only a regular file (not `/dev/zero`, a FIFO that never ends, a
//! directory), at most a given size (read with a bound, so a file that grows while it is read
//! cannot exhaust memory), and text must be UTF-8.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The default largest manifest (or pipeline script) read: 16 MiB.
pub const DEFAULT_MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// The default largest source file of a `python` node (`"file"`): 1 MiB.
pub const DEFAULT_MAX_PYTHON_FILE_BYTES: u64 = 1 << 20;

/// Why a file was not read. Its message never quotes the file's content.
#[derive(Debug)]
pub enum SourceFileError {
    /// The file cannot be opened or read.
    Io(std::io::Error),
    /// Not a regular file; what it is instead (`a directory`, `a character device`, ...).
    NotRegular(&'static str),
    /// Larger than the limit.
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Not UTF-8 text; the byte offset of the first invalid byte.
    NotUtf8 {
        /// Offset of the first byte that is not UTF-8.
        offset: usize,
    },
}

impl fmt::Display for SourceFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceFileError::Io(err) => write!(f, "{err}"),
            SourceFileError::NotRegular(what) => {
                write!(
                    f,
                    "not a regular file ({what}); only regular files are read"
                )
            }
            SourceFileError::TooLarge { limit } => {
                write!(f, "larger than the limit of {limit} bytes")
            }
            SourceFileError::NotUtf8 { offset } => {
                write!(f, "not UTF-8 text (invalid byte at offset {offset})")
            }
        }
    }
}

impl std::error::Error for SourceFileError {}

/// What a file that is not regular is, for messages.
fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    let file_type = metadata.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a plain file"
    }
}

/// Reads `path` as UTF-8 text if it is a regular file of at most `limit` bytes (following
/// symbolic links).
///
/// ```
/// use pipeline_core::manifest::{read_source_file, SourceFileError};
/// let dir = std::env::temp_dir().join(format!("read_source_file_doc_{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.txt"), "hello").unwrap();
/// assert_eq!(read_source_file(&dir.join("a.txt"), 5).unwrap(), "hello");
/// assert!(matches!(read_source_file(&dir.join("a.txt"), 4), Err(SourceFileError::TooLarge { limit: 4 })));
/// assert!(matches!(read_source_file(&dir, 4), Err(SourceFileError::NotRegular("a directory"))));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_source_file(path: &Path, limit: u64) -> Result<String, SourceFileError> {
    // Looked at before opening: opening a FIFO would wait for a writer.
    let metadata = std::fs::metadata(path).map_err(SourceFileError::Io)?;
    if !metadata.is_file() {
        return Err(SourceFileError::NotRegular(kind_of(&metadata)));
    }
    let file = File::open(path).map_err(SourceFileError::Io)?;
    // And again on the open file, in case the path was swapped in between.
    let metadata = file.metadata().map_err(SourceFileError::Io)?;
    if !metadata.is_file() {
        return Err(SourceFileError::NotRegular(kind_of(&metadata)));
    }
    if metadata.len() > limit {
        return Err(SourceFileError::TooLarge { limit });
    }
    read_bounded(file, limit)
}

/// Reads all of `reader` as UTF-8 text if it holds at most `limit` bytes (stdin, a file).
///
/// ```
/// use pipeline_core::manifest::{read_bounded, SourceFileError};
/// assert_eq!(read_bounded(&b"abc"[..], 3).unwrap(), "abc");
/// assert!(matches!(read_bounded(std::io::repeat(0), 1000), Err(SourceFileError::TooLarge { limit: 1000 })));
/// assert!(matches!(read_bounded(&b"a\xff"[..], 10), Err(SourceFileError::NotUtf8 { offset: 1 })));
/// ```
pub fn read_bounded(reader: impl Read, limit: u64) -> Result<String, SourceFileError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(SourceFileError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(SourceFileError::TooLarge { limit });
    }
    String::from_utf8(bytes).map_err(|err| SourceFileError::NotUtf8 {
        offset: err.utf8_error().valid_up_to(),
    })
}
