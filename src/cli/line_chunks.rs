//! The input of `pipeline run`, read on a thread of its own and handed over in chunks of whole
//! lines: one channel message per read (up to [`READ_SIZE`] bytes, in pieces of at most
//! [`PIECE_LINES`] lines), not per line, so a fast input costs a few hundred handoffs per million
//! lines instead of a million. A read returns what the input has, so when the input pauses the
//! lines read so far are handed over at once.
//!
//! The reader checks what does not need parsing: UTF-8, and that a line whose end has not been
//! read yet is not already longer than allowed (so one endless line never fills memory; lines
//! read whole are checked by the run as it parses them), and splits the chunk into lines. Spent
//! chunks come back for reuse, so the buffers stay a fixed few.
//!
//! Asked to ([`Parse`]), the reader or a second thread parses the lines that are a number,
//! `true`, `false` or `null` on their way (an int line's parsing is most of its cost besides
//! writing): such an item has no heap part, so it crosses to the run's thread as its few bytes.
//! Other lines (objects, lists, strings, and any line that fails to parse, whose error the run
//! reports) are parsed by the run: an object parsed on another thread is allocated there and
//! freed on the run's, and measured twice as slow (glibc arena lock waits, and its cache lines
//! crossing cores). Which thread parses numbers depends on what else needs the cores: see
//! [`Parse`].

use super::newlines;
use pipeline::value::{parse_bare_int_in, parse_json};
use pipeline::Value;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Bytes asked of the input per read.
pub const READ_SIZE: usize = 256 << 10;
/// Lines per chunk sent, at most, when a thread parses them: a read of short lines is sent in
/// pieces, so that what was made of a piece (a word per line, an item per int line) is still in the cache when the
/// run takes it, and a read of 60-byte lines goes whole (each message may wake a thread).
const PIECE_LINES: usize = 4096;
/// Chunks in flight between two threads (with one being taken and one being made).
const CHUNKS_IN_FLIGHT: usize = 4;

/// Whole lines of the input, each ending in `\n` (one is added to a last line without it).
#[derive(Debug, Default)]
pub struct Chunk {
    /// The 1-based number of the chunk's first line.
    pub first_line: usize,
    /// The lines, valid UTF-8.
    pub text: String,
    /// Each line's end in `text` (where its `\n` is) times two, plus one for a line that came
    /// parsed (its item is the next of `items`): a word per line, as little as possible to pass
    /// from core to core.
    ends: Vec<usize>,
    /// The items of the lines that came parsed, in order.
    items: Vec<Value>,
}

impl Chunk {
    /// The chunk's lines with their numbers; a `\r` before the `\n` is not part of a line.
    #[cfg(test)]
    pub fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        let mut start = 0;
        self.ends.iter().enumerate().map(move |(k, &end)| {
            let line = &self.text[start..end >> 1];
            start = (end >> 1) + 1;
            (self.first_line + k, line.strip_suffix('\r').unwrap_or(line))
        })
    }

    /// [`lines`](Self::lines), each with its item when it came parsed (moved out).
    pub fn take_lines(&mut self) -> impl Iterator<Item = (usize, &str, Option<Value>)> {
        let Chunk {
            first_line,
            text,
            ends,
            items,
        } = self;
        let (first_line, text, ends) = (*first_line, text.as_str(), ends.as_slice());
        let mut items = items.drain(..);
        let mut start = 0;
        ends.iter().enumerate().map(move |(k, &end)| {
            let line = &text[start..end >> 1];
            start = (end >> 1) + 1;
            let item = if end & 1 == 1 { items.next() } else { None };
            (
                first_line + k,
                line.strip_suffix('\r').unwrap_or(line),
                item,
            )
        })
    }

    /// The items of a chunk whose every line came parsed, and the number of its last line.
    pub fn parsed_items(&mut self) -> Option<(&mut Vec<Value>, usize)> {
        let lines = self.ends.len();
        (lines > 0 && self.items.len() == lines)
            .then(|| (&mut self.items, self.first_line + lines - 1))
    }

    /// Fills the chunk with the first lines of `text` (whole lines), at most `max_lines` of them;
    /// returns the length taken.
    fn fill(&mut self, text: &str, first_line: usize, max_lines: usize) -> usize {
        self.first_line = first_line;
        self.ends.clear();
        self.items.clear();
        let mut start = 0;
        for end in newlines::ends(text.as_bytes()) {
            self.ends.push(end << 1);
            start = end + 1;
            if self.ends.len() == max_lines {
                break;
            }
        }
        self.text.clear();
        self.text.push_str(&text[..start]);
        start
    }

    /// Parses the lines that are a number or a literal.
    fn parse_flat(&mut self, max_line_bytes: usize) {
        let text = self.text.as_bytes();
        let mut start = 0;
        for end in self.ends.iter_mut() {
            let stop = *end >> 1;
            // Bytes, not `&str`: slicing a `str` checks both ends are char boundaries, a tenth
            // of an int line's cost here (callgrind).
            let whole = &text[start..stop];
            let line = whole.strip_suffix(b"\r").unwrap_or(whole);
            let line_start = start;
            start = stop + 1;
            // Such a line is not blank and has no byte order mark: what `parse_line` would
            // check besides its length is the JSON, read here without its error.
            if !matches!(line.first(), Some(b'0'..=b'9' | b'-' | b't' | b'f' | b'n'))
                || line.len() > max_line_bytes
            {
                continue;
            }
            let item = match parse_bare_int_in(text, line_start..line_start + line.len()) {
                Some(int) => Value::Int(int),
                // Both ends sit at ASCII bytes (`\r`, `\n` or the text's ends): char boundaries.
                None => match parse_json(&self.text[line_start..line_start + line.len()]) {
                    // An item with no heap part is kept; anything else (an error above all) is
                    // the run's to parse and report.
                    Ok(item @ (Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Null)) => {
                        item
                    }
                    _ => continue,
                },
            };
            self.items.push(item);
            *end |= 1;
        }
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
    recycle: SyncSender<Chunk>,
}

impl Chunks {
    /// Hands a parsed chunk's buffers back to the reader.
    pub fn recycle(&self, chunk: Chunk) {
        let _ = self.recycle.try_send(chunk);
    }
}

/// Where the lines that are a number or a literal are parsed on their way to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// Not at all: the run parses every line (a run across machines parses on a thread of its
    /// own, `across_io`).
    #[cfg_attr(not(feature = "distributed"), allow(dead_code))] // the distributed run's
    Not,
    /// On the reader's thread, as it splits them: for a fused run, whose thread runs every node
    /// and writes. 1M int lines, medians of 41 alternating runs (helpers paused): 22.1 -> 19.4 ms
    /// against a thread of its own (one handoff and one crossing of cores less per chunk);
    /// `--tag` 30.2 ms both; 300k object lines within noise (114 / 117 ms).
    OnReader,
    /// On a thread between the reader and the run: for a staged run, whose stage threads share
    /// the cores (1M int lines staged, 31 alternating runs: 32.1 ms against 33.3 on the reader).
    OnThread,
}

/// Starts the reader thread over `input`, refusing lines longer than `max_line_bytes`, with the
/// lines that are a number or a literal parsed as `parse` says, so that the run's thread only
/// runs and writes.
/// A panic on either thread is sent on as an error ([`on_thread`]).
pub fn spawn(input: Box<dyn Read + Send>, max_line_bytes: usize, parse: Parse) -> Chunks {
    let (tx, read) = sync_channel(CHUNKS_IN_FLIGHT);
    let (recycle, spent) = sync_channel(CHUNKS_IN_FLIGHT * 2 + 2);
    on_thread("reader", tx, move |tx| {
        let mut reader = Reader {
            input,
            max_line_bytes,
            piece_lines: match parse {
                Parse::Not => usize::MAX,
                Parse::OnReader | Parse::OnThread => PIECE_LINES,
            },
            parse_here: parse == Parse::OnReader,
            tx,
            spent,
            pending: Vec::new(),
            filled: 0,
            next_line: 1,
        };
        let _ = reader.read_all();
    });
    if parse != Parse::OnThread {
        return Chunks {
            chunks: read,
            recycle,
        };
    }
    let (tx, chunks) = sync_channel(CHUNKS_IN_FLIGHT);
    on_thread("parser", tx, move |tx| {
        for message in read {
            let message = message.map(|mut chunk| {
                chunk.parse_flat(max_line_bytes);
                chunk
            });
            let stop = message.is_err();
            if tx.send(message).is_err() || stop {
                return;
            }
        }
    });
    Chunks { chunks, recycle }
}

/// Runs `work` on a thread of its own, sending on a panic there (a bug, which would otherwise
/// close the channel and look like the end of the input) as an error.
fn on_thread(
    name: &'static str,
    tx: SyncSender<Message>,
    work: impl FnOnce(SyncSender<Message>) + Send + 'static,
) {
    std::thread::spawn(move || {
        let panic_tx = tx.clone();
        let work = std::panic::AssertUnwindSafe(move || work(tx));
        if std::panic::catch_unwind(work).is_err() {
            let _ = panic_tx.send(Err(LineError::Io(io::Error::other(format!(
                "internal error: the input {name} panicked"
            )))));
        }
    });
}

struct Reader {
    input: Box<dyn Read + Send>,
    max_line_bytes: usize,
    /// Lines per chunk, at most.
    piece_lines: usize,
    /// Whether the lines that are a number or a literal are parsed here ([`Parse::OnReader`]).
    parse_here: bool,
    tx: SyncSender<Message>,
    spent: Receiver<Chunk>,
    /// Bytes read and not yet sent (`..filled`): the start of a line whose end has not been read.
    /// Its length only grows: past `filled` are stale bytes a read writes over, so a read does not
    /// first write zeros over the room it reads into (~7 instructions an int line).
    pending: Vec<u8>,
    /// How much of `pending` is read and not yet sent.
    filled: usize,
    /// The number of the first line in `pending`.
    next_line: usize,
}

/// Whether the run stopped listening (or the input ended with an error): stop reading.
struct Stop;

impl Reader {
    /// Reads and sends until the input ends, fails, or the run stops listening.
    fn read_all(&mut self) -> Result<(), Stop> {
        loop {
            let start = self.filled;
            if self.pending.len() < start + READ_SIZE {
                self.pending.resize(start + READ_SIZE, 0);
            }
            let read = loop {
                match self.input.read(&mut self.pending[start..start + READ_SIZE]) {
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let read = match read {
                Ok(read) => read,
                Err(err) => {
                    self.send_lines(self.filled)?;
                    return self.send(Err(LineError::Io(err)));
                }
            };
            self.filled = start + read;
            if read == 0 {
                // End of input: a last line without its `\n` is still a line (the read's room,
                // unused, holds it).
                if self.filled > 0 {
                    self.pending[self.filled] = b'\n';
                    self.filled += 1;
                    self.check_length(self.filled - 1)?;
                    self.send_lines(self.filled)?;
                }
                return Ok(());
            }
            match self.pending[start..self.filled]
                .iter()
                .rposition(|&b| b == b'\n')
            {
                Some(last) => self.send_lines(start + last + 1)?,
                // No end of line yet: the line so far must still fit.
                None => self.check_length(self.filled)?,
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
        // Sent in pieces of at most `piece_lines` lines.
        let mut rest = valid;
        let mut next_line = self.next_line;
        while !rest.is_empty() {
            let mut chunk = self.spent.try_recv().unwrap_or_default();
            let taken = chunk.fill(rest, next_line, self.piece_lines);
            if self.parse_here {
                chunk.parse_flat(self.max_line_bytes);
            }
            rest = &rest[taken..];
            next_line += chunk.ends.len();
            self.send(Ok(chunk))?;
        }
        self.next_line = next_line;
        self.pending.copy_within(end..self.filled, 0);
        self.filled -= end;
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
        let mut each_mode = [Parse::Not, Parse::OnReader, Parse::OnThread].map(|parse| {
            let chunks = spawn(Box::new(Pieces(input, piece)), max, parse);
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
        });
        // Where lines are parsed changes nothing of what the run is given as lines.
        assert_eq!(each_mode[0], each_mode[1]);
        assert_eq!(each_mode[0], each_mode[2]);
        std::mem::take(&mut each_mode[0])
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
    fn numbers_and_literals_come_parsed_and_other_lines_as_text() {
        for parse in [Parse::OnReader, Parse::OnThread] {
            numbers_and_literals_come_parsed(parse);
        }
    }

    fn numbers_and_literals_come_parsed(parse: Parse) {
        // Objects, strings, blank lines and lines that fail (too long, not JSON) are the run's.
        let input: &'static [u8] = b"1\n-2.5e1\r\ntrue\n{\"a\":1}\n12x\n\n null\n1234567\nnull";
        let chunks = spawn(Box::new(input), 6, parse);
        let mut got = Vec::new();
        for message in chunks.chunks.iter() {
            let mut chunk = message.unwrap();
            got.extend(
                chunk
                    .take_lines()
                    .map(|(n, line, item)| (n, line.to_string(), item)),
            );
            chunks.recycle(chunk);
        }
        let text = |n: usize, line: &str| (n, line.to_string(), None);
        assert_eq!(
            got,
            [
                (1, "1".to_string(), Some(Value::Int(1))),
                (2, "-2.5e1".to_string(), Some(Value::Float(-25.0))),
                (3, "true".to_string(), Some(Value::Bool(true))),
                text(4, "{\"a\":1}"),
                text(5, "12x"),
                text(6, ""),
                text(7, " null"),
                text(8, "1234567"),
                (9, "null".to_string(), Some(Value::Null)),
            ]
        );
    }

    proptest::proptest! {
        /// A line that comes parsed carries exactly what the run's own parse would make of it,
        /// and a number or literal the run would read comes parsed.
        #[test]
        fn a_line_comes_parsed_as_the_run_would_parse_it(
            lines in proptest::collection::vec("-?[0-9]{0,20}(\\.[0-9])?(e[0-9])?\r?|true|nul|null ?|-0|0[0-9]", 1..40),
        ) {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let input: &'static [u8] = Box::leak(text.into_bytes().into_boxed_slice());
            let parse = if lines.len() % 2 == 0 { Parse::OnReader } else { Parse::OnThread };
            let chunks = spawn(Box::new(input), 19, parse);
            for message in chunks.chunks.iter() {
                let mut chunk = message.unwrap();
                for (number, line, item) in chunk.take_lines() {
                    let run = crate::cli::run::parse_line(number, line, 19);
                    match item {
                        Some(item) => proptest::prop_assert_eq!(run.ok(), Some(Some(item))),
                        None => proptest::prop_assert!(
                            !matches!(run, Ok(Some(Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Null))),
                            "{line:?} was left to the run"
                        ),
                    }
                }
            }
        }
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
        let chunks = spawn(Box::new(input), 100, Parse::OnReader);
        let (mut messages, mut lines) = (0, 0);
        for message in chunks.chunks.iter() {
            let chunk = message.unwrap();
            messages += 1;
            lines += chunk.lines().count();
            chunks.recycle(chunk);
        }
        assert_eq!(lines, 100_000);
        assert!(
            messages <= 100_000 / PIECE_LINES + input.len() / READ_SIZE + 2,
            "{messages} chunks"
        );
    }
}
