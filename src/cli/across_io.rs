//! The input and the outputs of `pipeline run --hosts` as process 0 of the run sees them.
//!
//! The input's lines are read ([`line_chunks`]) and parsed on threads of their own, and reach
//! the run as batches of items over a bounded channel; when none is ready the run is told so
//! ([`NextItem::Pending`]) and is woken when one is, so it sends what it read and writes the
//! outputs already computed while the input pauses. The outputs are written as they arrive and
//! flushed whenever the input pauses.

use super::line_chunks::Chunks;
use super::run::{parse_line, Writer};
use super::CliError;
use pipeline::distributed::{LocalInput, LocalSink, NextItem};
use pipeline::Value;
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;

/// Parsed batches waiting for the run: with the reader's chunks in flight, what bounds the
/// input's memory.
const BATCHES_IN_FLIGHT: usize = 2;

/// What the parsing thread sends: the items of a chunk of lines, or the bad line that ends the
/// input (after the items before it).
type Parsed = Result<Vec<Value>, CliError>;

/// The input as items, parsed on a thread of their own from the reader's chunks. A line that
/// cannot be read or parsed ends the input there (the items before it run to the end and are
/// written) and is kept in [`bad_line`](Self::bad_line) to be reported after the run.
pub struct ParsedInput {
    batches: Receiver<Parsed>,
    /// The items of the last batch not yet handed out.
    pending: std::vec::IntoIter<Value>,
    /// The run's thread, unparked by the parsing thread after each batch it sends.
    waker: Arc<OnceLock<Thread>>,
    ended: bool,
    pub bad_line: Option<CliError>,
}

impl ParsedInput {
    /// Starts parsing `lines`, refusing lines longer than `max_line_bytes`.
    pub fn spawn(lines: Chunks, max_line_bytes: usize) -> ParsedInput {
        let (sender, batches) = sync_channel(BATCHES_IN_FLIGHT);
        let waker: Arc<OnceLock<Thread>> = Arc::new(OnceLock::new());
        let wake = Arc::clone(&waker);
        std::thread::spawn(move || {
            let send = |parsed: Parsed| {
                let sent = sender.send(parsed).is_ok();
                if let Some(thread) = wake.get() {
                    thread.unpark();
                }
                sent
            };
            while let Ok(message) = lines.chunks.recv() {
                let mut chunk = match message {
                    Ok(chunk) => chunk,
                    Err(err) => {
                        send(Err(err.into_cli()));
                        return;
                    }
                };
                let mut items = Vec::new();
                let mut bad_line = None;
                for (number, line, parsed) in chunk.take_lines() {
                    let item = match parsed {
                        Some(item) => Ok(Some(item)),
                        None => parse_line(number, line, max_line_bytes),
                    };
                    match item {
                        Ok(Some(item)) => items.push(item),
                        Ok(None) => {}
                        Err(err) => {
                            bad_line = Some(err);
                            break;
                        }
                    }
                }
                lines.recycle(chunk);
                if !items.is_empty() && !send(Ok(items)) {
                    return;
                }
                if let Some(err) = bad_line {
                    send(Err(err));
                    return;
                }
            }
            // The end of the input: the channel closes as the sender goes; wake the run to see it.
            drop(sender);
            if let Some(thread) = wake.get() {
                thread.unpark();
            }
        });
        ParsedInput {
            batches,
            pending: Vec::new().into_iter(),
            waker,
            ended: false,
            bad_line: None,
        }
    }
}

impl LocalInput for ParsedInput {
    fn next_item(&mut self) -> NextItem {
        loop {
            if let Some(item) = self.pending.next() {
                return NextItem::Ready(Ok(item));
            }
            if self.ended {
                return NextItem::Ended;
            }
            match self.batches.try_recv() {
                Ok(Ok(items)) => self.pending = items.into_iter(),
                Ok(Err(err)) => {
                    self.bad_line = Some(err);
                    self.ended = true;
                }
                Err(TryRecvError::Empty) => return NextItem::Pending,
                Err(TryRecvError::Disconnected) => self.ended = true,
            }
        }
    }

    fn waker(&mut self, thread: Thread) {
        let _ = self.waker.set(thread);
    }
}

/// The outputs, written as they arrive and flushed when the input pauses. The first error
/// writing them is kept to be reported as it is (the run fails with its text).
pub struct OutputSink<'w> {
    pub writer: &'w mut Writer,
    pub unwritable: Option<CliError>,
}

impl OutputSink<'_> {
    fn failed(&mut self, err: CliError) -> pipeline::Error {
        let error = pipeline::Error::msg(err.to_string());
        self.unwritable = Some(err);
        error
    }
}

impl LocalSink for OutputSink<'_> {
    fn write(&mut self, output: usize, value: Value) -> pipeline::Result<()> {
        match self.writer.write_value(output, &value) {
            Ok(()) => Ok(()),
            Err(err) => Err(self.failed(err)),
        }
    }

    fn flush(&mut self) -> pipeline::Result<()> {
        match self.writer.flush() {
            Ok(()) => Ok(()),
            Err(err) => Err(self.failed(err)),
        }
    }
}
