//! The input of `pipeline run`, read on a thread of its own and handed over in chunks of whole
//! lines: one channel message per read (up to [`READ_SIZE`] bytes), not per line, so a fast input
//! costs a few hundred handoffs per million lines instead of a million. A read returns what the
//! input has, so when the input pauses the lines read so far are handed over at once.
//!
//! The reader checks what does not need parsing: UTF-8, and that a line whose end has not been
//! read yet is not already longer than allowed (so one endless line never fills memory; lines
//! read whole are checked by the run as it splits them). Spent chunks come back for reuse, so the buffers stay a fixed few.

use super::newlines;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Bytes asked of the input per read.
pub const READ_SIZE: usize = 256 << 10;
/// Chunks in flight between the reader and the run (with one being parsed and one being read).
const CHUNKS_IN_FLIGHT: usize = 2;

/// Whole lines of the input, each ending in `\n` (one is added to a last line without it).
#[derive(Debug)]
pub struct Chunk {
    /// The 1-based number of the chunk's first line.
    pub first_line: usize,
    /// The lines, valid UTF-8.
    pub text: String,
}

impl Chunk {
    /// The chunk's lines with their numbers; a `\r` before the `\n` is not part of a line.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        let mut start = 0;
        newlines::ends(self.text.as_bytes())
            .map(move |end| {
                let line = &self.text[start..end];
                start = end + 1;
                line.strip_suffix('\r').unwrap_or(line)
            })
            .enumerate()
            .map(|(k, line)| (self.first_line + k, line))
    }
}

/// Why the input stopped before its end.
#[derive(Debug)]
pub enum LineError {
    Io(io::Error),
    TooLong { line: usize, limit: usize },
    NotUtf8 { line: usize, column: usize },
}

/// What the reader sends: whole lines, or why it stopped (after the lines before it).
pub type Message = Result<Chunk, LineError>;

/// The run's side of the reader: chunks to parse, and a way to hand spent ones back.
pub struct Chunks {
    pub chunks: Receiver<Message>,
    recycle: SyncSender<String>,
}

impl Chunks {
    /// Hands a parsed chunk's buffer back to the reader.
    pub fn recycle(&self, chunk: Chunk) {
        let _ = self.recycle.try_send(chunk.text);
    }
}

/// Starts the reader thread over `input`, refusing lines longer than `max_line_bytes`.
///
/// A panic there (a bug) would close the channel and look like the end of the input, so it is
/// sent on as an error instead.
pub fn spawn(input: Box<dyn Read + Send>, max_line_bytes: usize) -> Chunks {
    let (tx, chunks) = sync_channel(CHUNKS_IN_FLIGHT);
    let (recycle, spent) = sync_channel(CHUNKS_IN_FLIGHT + 2);
    std::thread::spawn(move || {
        let panic_tx = tx.clone();
        let read = std::panic::AssertUnwindSafe(move || {
            let mut reader = Reader {
                input,
                max_line_bytes,
                tx,
                spent,
                pending: Vec::with_capacity(READ_SIZE),
                next_line: 1,
            };
            let _ = reader.read_all();
        });
        if std::panic::catch_unwind(read).is_err() {
            let _ = panic_tx.send(Err(LineError::Io(io::Error::other(
                "internal error: the input reader panicked",
            ))));
        }
    });
    Chunks { chunks, recycle }
}

struct Reader {
    input: Box<dyn Read + Send>,
    max_line_bytes: usize,
    tx: SyncSender<Message>,
    spent: Receiver<String>,
    /// Bytes read and not yet sent: the start of a line whose end has not been read.
    pending: Vec<u8>,
    /// The number of the first line in `pending`.
    next_line: usize,
}

/// Whether the run stopped listening (or the input ended with an error): stop reading.
struct Stop;

impl Reader {
    /// Reads and sends until the input ends, fails, or the run stops listening.
    fn read_all(&mut self) -> Result<(), Stop> {
        loop {
            let start = self.pending.len();
            self.pending.resize(start + READ_SIZE, 0);
            let read = loop {
                match self.input.read(&mut self.pending[start..]) {
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let read = match read {
                Ok(read) => read,
                Err(err) => {
                    self.pending.truncate(start);
                    self.send_lines(self.pending.len())?;
                    return self.send(Err(LineError::Io(err)));
                }
            };
            self.pending.truncate(start + read);
            if read == 0 {
                // End of input: a last line without its `\n` is still a line.
                if !self.pending.is_empty() {
                    self.pending.push(b'\n');
                    self.check_length(self.pending.len() - 1)?;
                    self.send_lines(self.pending.len())?;
                }
                return Ok(());
            }
            match self.pending[start..].iter().rposition(|&b| b == b'\n') {
                Some(last) => self.send_lines(start + last + 1)?,
                // No end of line yet: the line so far must still fit.
                None => self.check_length(self.pending.len())?,
            }
        }
    }

    /// Refuses the partial line at the end of `pending` when it is longer than allowed (`len`
    /// bytes of it, not counting a `\r\n`), after sending the lines before it.
    fn check_length(&mut self, len: usize) -> Result<(), Stop> {
        let text = &self.pending[..len];
        let line_start = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = &text[line_start..];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() <= self.max_line_bytes {
            return Ok(());
        }
        self.send_lines(line_start)?;
        let line = self.next_line;
        self.send(Err(LineError::TooLong {
            line,
            limit: self.max_line_bytes,
        }))
    }

    /// Sends `pending[..end]` (whole lines) as a chunk, keeping the rest.
    fn send_lines(&mut self, end: usize) -> Result<(), Stop> {
        if end == 0 {
            return Ok(());
        }
        let bytes = &self.pending[..end];
        let (valid, bad) = match std::str::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(err) => {
                let valid_up_to = err.valid_up_to();
                // Only the whole lines before the bad one go on.
                let line_start = bytes[..valid_up_to]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let valid = std::str::from_utf8(&bytes[..line_start]).unwrap_or_default();
                (valid, Some(valid_up_to - line_start + 1))
            }
        };
        let lines = newlines::count(valid.as_bytes());
        let mut text = self.spent.try_recv().unwrap_or_default();
        text.clear();
        text.push_str(valid);
        let first_line = self.next_line;
        self.next_line += lines;
        let sent = valid.len();
        self.pending.drain(..end);
        if sent > 0 {
            self.send(Ok(Chunk { first_line, text }))?;
        }
        match bad {
            Some(column) => {
                let line = self.next_line;
                self.send(Err(LineError::NotUtf8 { line, column }))?;
                Err(Stop)
            }
            None => Ok(()),
        }
    }

    fn send(&self, message: Message) -> Result<(), Stop> {
        let stop = message.is_err();
        if self.tx.send(message).is_err() || stop {
            return Err(Stop);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `input` in pieces of `piece` bytes (as a pipe delivers them) and collects what the
    /// run would see: each line with its number, then the error if any.
    fn read(
        input: &'static [u8],
        piece: usize,
        max: usize,
    ) -> (Vec<(usize, String)>, Option<String>) {
        struct Pieces(&'static [u8], usize);
        impl Read for Pieces {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let chunks = spawn(Box::new(Pieces(input, piece)), max);
        let (mut lines, mut error) = (Vec::new(), None);
        for message in chunks.chunks.iter() {
            match message {
                Ok(chunk) => {
                    lines.extend(chunk.lines().map(|(n, l)| (n, l.to_string())));
                    chunks.recycle(chunk);
                }
                Err(err) => error = Some(format!("{err:?}")),
            }
        }
        (lines, error)
    }

    fn numbered(lines: &[&str]) -> Vec<(usize, String)> {
        lines
            .iter()
            .enumerate()
            .map(|(k, l)| (k + 1, l.to_string()))
            .collect()
    }

    #[test]
    fn lines_keep_their_numbers_across_reads_of_any_size() {
        let input = b"1\n\n{\"a\": 2}\r\n3";
        for piece in [1, 2, 3, 5, 64] {
            let (lines, error) = read(input, piece, 100);
            assert_eq!(
                lines,
                numbered(&["1", "", "{\"a\": 2}", "3"]),
                "piece {piece}"
            );
            assert!(error.is_none());
        }
    }

    #[test]
    fn a_line_growing_past_the_limit_stops_after_the_lines_before_it() {
        // Refused as soon as its unfinished part is too long (whole lines read at once are
        // checked by the run, which parses them).
        let (lines, error) = read(b"12\n123456\n1\n", 1, 5);
        assert_eq!(lines, numbered(&["12"]));
        assert_eq!(error.unwrap(), "TooLong { line: 2, limit: 5 }");
        // A line exactly at the limit, with `\r\n`, is fine; so is a last line without `\n`.
        let (lines, error) = read(b"12345\r\n12345", 4, 5);
        assert_eq!(lines, numbered(&["12345", "12345"]));
        assert!(error.is_none());
        let (_, error) = read(b"1\n123456", 64, 5);
        assert_eq!(error.unwrap(), "TooLong { line: 2, limit: 5 }");
    }

    #[test]
    fn invalid_utf8_is_named_by_line_and_column_after_the_lines_before_it() {
        let (lines, error) = read(b"ok\nab\xffc\nnever\n", 64, 100);
        assert_eq!(lines, numbered(&["ok"]));
        assert_eq!(error.unwrap(), "NotUtf8 { line: 2, column: 3 }");
    }

    #[test]
    fn a_fast_input_comes_in_few_chunks() {
        let input: &'static [u8] = Box::leak(
            (0..100_000)
                .map(|i| format!("{i}\n"))
                .collect::<String>()
                .into_bytes()
                .into_boxed_slice(),
        );
        let chunks = spawn(Box::new(input), 100);
        let (mut messages, mut lines) = (0, 0);
        for message in chunks.chunks.iter() {
            let chunk = message.unwrap();
            messages += 1;
            lines += chunk.lines().count();
            chunks.recycle(chunk);
        }
        assert_eq!(lines, 100_000);
        assert!(messages <= input.len() / READ_SIZE + 2, "{messages} chunks");
    }
}
