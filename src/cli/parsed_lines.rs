//! The input of `pipeline run` parsed on a thread of its own: chunks of lines from the reader
//! ([`line_chunks`]) become batches of items there, so parsing (about half of what an object line
//! costs) overlaps running the nodes and writing the outputs on the run's thread.
//!
//! Each batch holds the items of about [`BATCH_TEXT_BYTES`] of input text, with where its blank
//! lines were and the last line it read, so the run numbers items and reports errors as if it
//! had parsed them itself. A bad line ends the input: the batch of the lines before it goes
//! first, then its error. Batches in flight are bounded, and spent batch buffers come back.

use super::line_chunks::Chunks;
use super::run::parse_line;
use super::CliError;
use pipeline::Value;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Input text per batch pushed through the pipeline: a chunk of lines is parsed, run and written
/// about five hundred objects (five thousand short lines) at a time, so an item's allocations are
/// freed while they are still in the cache (and glibc reuses them) instead of a whole chunk's
/// items living until it is written.
///
/// With stage threads, batches wait in the stage channels while those threads are scheduled: on
/// a loaded 2-core machine ~4 batches on average between parsing and writing (300,000 object
/// lines, a stage per node), so the batch size sets how much parsed data is alive at once. 32 KiB
/// against 64 KiB, medians of 11 alternating runs at load average ~20: 300,000 object lines
/// staged 0.400 -> 0.356 s (page faults 1,765 -> 1,323), fused 0.323 -> 0.308 s; 1,000,000 int
/// lines staged 0.117 -> 0.109 s (faults 4,165 -> 2,411), fused 0.101 -> 0.083 s.
const BATCH_TEXT_BYTES: usize = 32 << 10;
/// Parsed batches waiting for the run (with one being parsed and one being run).
const BATCHES_IN_FLIGHT: usize = 2;

/// Items parsed from consecutive input lines.
#[derive(Debug, Default)]
pub struct Batch {
    /// The items, in input order (blank lines have none).
    pub items: Vec<Value>,
    /// For each blank line, how many of `items` come before it.
    pub blanks: Vec<usize>,
    /// The number of the last line read for this batch (a bad line's, when one follows).
    pub last_line: usize,
}

/// What the parser sends: a batch, or why the input stopped (after the batches before it).
pub type Message = Result<Batch, CliError>;

/// The run's side of the parser: batches to run, and a way to hand spent buffers back.
pub struct Batches {
    pub batches: Receiver<Message>,
    recycle: SyncSender<Vec<Value>>,
}

impl Batches {
    /// Hands a pushed batch's item buffer (emptied) back to the parser.
    pub fn recycle(&self, items: Vec<Value>) {
        let _ = self.recycle.try_send(items);
    }
}

/// Starts the parser thread over the reader's `chunks`, refusing lines longer than
/// `max_line_bytes`.
///
/// A panic there (a bug) would close the channel and look like the end of the input, so it is
/// sent on as an error instead.
pub fn spawn(chunks: Chunks, max_line_bytes: usize) -> Batches {
    let (tx, batches) = sync_channel(BATCHES_IN_FLIGHT);
    let (recycle, spent) = sync_channel(BATCHES_IN_FLIGHT + 2);
    std::thread::spawn(move || {
        let panic_tx = tx.clone();
        let parse = std::panic::AssertUnwindSafe(move || {
            let parser = Parser {
                chunks,
                max_line_bytes,
                tx,
                spent,
                last_len: 0,
            };
            parser.parse_all();
        });
        if std::panic::catch_unwind(parse).is_err() {
            let _ = panic_tx.send(Err(CliError::Io {
                path: "<input>".into(),
                source: std::io::Error::other("internal error: the input parser panicked"),
            }));
        }
    });
    Batches { batches, recycle }
}

struct Parser {
    chunks: Chunks,
    max_line_bytes: usize,
    tx: SyncSender<Message>,
    spent: Receiver<Vec<Value>>,
    /// The items of the last batch sent: a new batch has room for as many at once (not grown to
    /// it by doubling, each step copying it and making glibc consolidate small freed blocks).
    last_len: usize,
}

impl Parser {
    /// Parses and sends until the input ends or stops, or the run stops listening.
    fn parse_all(mut self) {
        let mut batch = self.new_batch();
        while let Ok(message) = self.chunks.chunks.recv() {
            let chunk = match message {
                Ok(chunk) => chunk,
                Err(err) => {
                    let _ = self.tx.send(Err(err.into_cli()));
                    return;
                }
            };
            let mut batch_bytes = 0;
            for (number, line) in chunk.lines() {
                batch.last_line = number;
                match parse_line(number, line, self.max_line_bytes) {
                    Ok(Some(item)) => batch.items.push(item),
                    Ok(None) => batch.blanks.push(batch.items.len()),
                    Err(err) => {
                        if self.send(&mut batch).is_ok() {
                            let _ = self.tx.send(Err(err));
                        }
                        return;
                    }
                }
                batch_bytes += line.len();
                if batch_bytes >= BATCH_TEXT_BYTES {
                    batch_bytes = 0;
                    if self.send(&mut batch).is_err() {
                        return;
                    }
                }
            }
            self.chunks.recycle(chunk);
            if self.send(&mut batch).is_err() {
                return;
            }
        }
    }

    /// An empty batch, in a spent buffer when one came back.
    fn new_batch(&mut self) -> Batch {
        let mut items = self.spent.try_recv().unwrap_or_default();
        items.clear();
        items.reserve(self.last_len);
        Batch {
            items,
            blanks: Vec::new(),
            last_line: 0,
        }
    }

    /// Sends `batch` (leaving a new one) unless it read no line; `Err` when the run stopped
    /// listening.
    fn send(&mut self, batch: &mut Batch) -> Result<(), ()> {
        if batch.last_line == 0 {
            return Ok(());
        }
        self.last_len = batch.items.len();
        let full = std::mem::replace(batch, self.new_batch());
        self.tx.send(Ok(full)).map_err(|_| ())
    }
}
