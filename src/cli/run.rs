//! `pipeline run MANIFEST [--input FILE] [--output FILE] [--tag] [--stats]`.
//!
//! Streams: a reader thread hands chunks of whole input lines over a bounded channel
//! ([`line_chunks`]; with every node on this thread, int and literal lines come parsed), each
//! chunk's lines are parsed into batches of about [`BATCH_TEXT_BYTES`] and pushed through the
//! pipeline at once, outputs are written as they come, and when the input pauses the pipeline and the
//! output are flushed, so results appear before the input ends and memory stays bounded however
//! long the input is.

use super::line_chunks::{self, Chunks, LineError, Parse};
use super::output::{self, write_error};
use super::same_file::{self, Source};
use super::tag_prefix::TagPrefix;
use super::{load, report, CliError};
use indicatif::{ProgressBar, ProgressStyle};
use pipeline::dynamic::{build, BuildOptions, DynamicPipeline, DynamicStream, OutputBatch};
use pipeline::graph::Endpoint;
use pipeline::manifest::check_placement;
use pipeline::placement::HostInfo;
use pipeline::runtime::StageConfig;
use pipeline::value::{parse_json, write_json, NonFiniteFloat};
use pipeline::Value;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// How long the input may pause before buffered items and outputs are flushed.
const IDLE_FLUSH: Duration = Duration::from_millis(20);
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
/// Output buffered before a write to the file or pipe: each `write` costs a system call and the
/// kernel's per-call work (inode lock, time stamps, page lookups), so a million short outputs
/// (tagged, ~28 MB) cost 4,000 calls with the standard 8 KiB buffer and 110 with this one.
const OUTPUT_BUFFER_BYTES: usize = 256 << 10;

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The manifest (`.json`, `-` for stdin) or Python pipeline script (`.py`).
    pub(super) manifest: PathBuf,
    #[command(flatten)]
    pub(super) limits: load::ManifestLimits,
    /// Read items from this file instead of stdin.
    #[arg(long)]
    pub(super) input: Option<PathBuf>,
    /// Write outputs to this file instead of stdout.
    #[arg(long)]
    pub(super) output: Option<PathBuf>,
    /// Write each output as `{"node": id, "value": v}` (useful with several outputs).
    #[arg(long)]
    pub(super) tag: bool,
    /// Print per-node counters (items in, out, time) to stderr at the end.
    #[arg(long)]
    pub(super) stats: bool,
    /// The largest batch across stage boundaries whose node sets no `batch_size` (batches start
    /// at up to 1024 items and double while the stream fills them).
    #[arg(long, default_value_t = pipeline::runtime::DEFAULT_MAX_BATCH_SIZE,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
              .range(1..=pipeline::graph::tuning::MAX_BATCH_SIZE as u64))]
    pub(super) batch_size: usize,
    /// The longest input line accepted, in bytes; a longer one stops the run with an error (the
    /// lines before it are processed and written first).
    #[arg(long, default_value_t = DEFAULT_MAX_LINE_BYTES)]
    pub(super) max_line_bytes: usize,
    #[cfg(feature = "distributed")]
    #[command(flatten)]
    pub(super) cluster: super::cluster_args::ClusterArgs,
}

/// The default `--max-line-bytes`: 64 MiB.
const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;

impl LineError {
    pub(super) fn into_cli(self) -> CliError {
        match self {
            LineError::Io(source) => CliError::Io {
                path: PathBuf::from("<input>"),
                source,
            },
            LineError::TooLong { line, limit } => CliError::InputLine {
                line,
                column: limit + 1,
                message: format!("the line is longer than {limit} bytes (raise --max-line-bytes)"),
            },
            LineError::NotUtf8 { line, column } => CliError::InputLine {
                line,
                column,
                message: "not valid UTF-8".to_string(),
            },
        }
    }
}

/// Opens the input, and says which file it is (for [`open_output`]'s check).
pub(super) fn open_input(path: Option<&Path>) -> Result<(Box<dyn Read + Send>, Source), CliError> {
    Ok(match path {
        None => (Box::new(io::stdin()), Source::stdin()),
        Some(path) => {
            let file = File::open(path).map_err(|source| CliError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            (Box::new(file), Source::path(path))
        }
    })
}

/// Opens the output, refusing one that is a file being read (`inputs`) before emptying it.
/// Unbuffered: the [`Writer`] buffers.
pub(super) fn open_output(
    path: Option<&Path>,
    inputs: &[Source],
) -> Result<Box<dyn Write>, CliError> {
    Ok(match path {
        None => {
            same_file::check_stdout(inputs)?;
            Box::new(io::stdout())
        }
        Some(path) => Box::new(same_file::create_output(path, inputs)?),
    })
}

/// Each output named with the node(s) feeding it, for an output that cannot be written: "output
/// `name` (from node `id`)".
fn output_labels(pipeline: &DynamicPipeline) -> Vec<String> {
    let description = pipeline.describe();
    description
        .outputs
        .iter()
        .map(|name| {
            let sources: Vec<String> = description
                .edges
                .iter()
                .filter(|e| matches!(&e.to, Endpoint::Output(to) if to == name))
                .map(|e| format!("`{}`", e.source_text()))
                .collect();
            match sources.len() {
                0 => format!("output `{name}`"),
                1 => format!("output `{name}` (from node {})", sources[0]),
                _ => format!("output `{name}` (from nodes {})", sources.join(", ")),
            }
        })
        .collect()
}

/// Writes outputs as JSON Lines.
///
/// Each output is written straight into the buffer that is handed to `out` (not into a text of
/// its own and then copied into a `BufWriter` through a dynamic call): writing is most of what an
/// int line costs.
pub(super) struct Writer {
    out: Box<dyn Write>,
    /// Outputs not yet handed to `out`, which get it in writes of [`OUTPUT_BUFFER_BYTES`] or so.
    buffer: Vec<u8>,
    tag: bool,
    /// [`output_labels`], by output index.
    labels: Vec<String>,
    path: PathBuf,
    written: u64,
    /// The last input line read, for an output that cannot be written.
    last_line: usize,
    /// With `--tag`, each output's text before its value, by output index.
    tag_prefixes: Vec<TagPrefix>,
}

impl Writer {
    /// Writes to `out` (named `path` in errors) the outputs named `outputs`, each described by
    /// its label in an error.
    pub(super) fn new(
        out: Box<dyn Write>,
        tag: bool,
        outputs: &[pipeline::graph::Name],
        labels: Vec<String>,
        path: PathBuf,
    ) -> Self {
        Writer {
            out,
            buffer: Vec::with_capacity(OUTPUT_BUFFER_BYTES + 4096),
            tag,
            labels,
            path,
            written: 0,
            last_line: 0,
            tag_prefixes: match tag {
                true => outputs.iter().map(TagPrefix::new).collect(),
                false => Vec::new(),
            },
        }
    }

    /// Writes every value of an output batch, in order.
    fn write_batch(&mut self, batch: &OutputBatch) -> Result<(), CliError> {
        batch
            .values
            .iter()
            .try_for_each(|value| self.write_value(batch.output, value))
    }

    /// Writes `value` of output `output`. Small enough to be inlined into
    /// [`write_batch`](Self::write_batch)'s loop (what is rare is out of line): a call per int
    /// line cost a fifth of writing it (callgrind), and the compiler's choice changed with the
    /// size of unrelated code.
    #[inline(always)]
    pub(super) fn write_value(&mut self, output: usize, value: &Value) -> Result<(), CliError> {
        // A value is written whole or not at all: a failed one leaves no text.
        let start = self.buffer.len();
        if self.tag {
            self.tag_prefixes[output].write(&mut self.buffer);
        }
        if let Err(err) = write_json(value, &mut self.buffer) {
            return Err(self.unwritable(start, output, err));
        }
        if self.tag {
            self.buffer.push(b'}');
        }
        self.buffer.push(b'\n');
        self.written += 1;
        if self.buffer.len() >= OUTPUT_BUFFER_BYTES {
            self.hand_on()?;
        }
        Ok(())
    }

    /// The error for a value of output `output` JSON cannot carry; what was written of it (from
    /// `start`) is taken back.
    #[cold]
    fn unwritable(&mut self, start: usize, output: usize, err: NonFiniteFloat) -> CliError {
        self.buffer.truncate(start);
        CliError::Unwritable {
            output: self.labels[output].clone(),
            line: (self.last_line > 0).then_some(self.last_line),
            message: err.to_string(),
        }
    }

    /// Hands the buffered outputs to `out` (which may keep some of them buffered).
    fn hand_on(&mut self) -> Result<(), CliError> {
        let written = self.out.write_all(&self.buffer);
        // After a failure the output is broken: its rest is not tried again.
        self.buffer.clear();
        written.map_err(|source| write_error(&self.path, source))
    }

    pub(super) fn flush(&mut self) -> Result<(), CliError> {
        self.hand_on()?;
        self.out
            .flush()
            .map_err(|source| write_error(&self.path, source))
    }
}

impl Drop for Writer {
    /// Like a `BufWriter`'s: what is buffered is written, and an error then is not reported (a
    /// run flushes explicitly and reports it).
    fn drop(&mut self) {
        let _ = self.out.write_all(&self.buffer);
    }
}

/// Runs the manifest over the input, writing outputs as they come.
pub fn run(args: RunArgs) -> Result<ExitCode, CliError> {
    #[cfg(feature = "distributed")]
    if args.cluster.hosts.is_some() {
        let cluster = args.cluster.clone();
        return super::run_across::run(args, &cluster);
    }
    let lowered = load::manifest(&args.manifest, &args.limits)?;
    let (_, warnings) = check_placement(&lowered, &HostInfo::probe())?;
    report::warnings(&lowered.parsed.file, &lowered.parsed.text, &warnings);
    let options = BuildOptions {
        stage_config: StageConfig {
            batch_size: args.batch_size.max(1),
            ..StageConfig::default()
        },
        stats: args.stats,
    };
    let mut pipeline = build(lowered, options);
    let (input, source) = open_input(args.input.as_deref())?;
    let out = open_output(
        args.output.as_deref(),
        &[source, Source::path(&args.manifest)],
    )?;
    // The input's threads parse the number lines (see `line_chunks::Parse`): a fused run's reader
    // as it splits them, a staged run's thread of their own (parsed on the run's thread, they held
    // a staged run back while the stage threads waited: 1M int lines staged, median of 15
    // alternating runs at load 0.6: 44.2 -> 38.7 ms).
    let fused = pipeline.describe().nodes.iter().all(|node| node.stage == 0);
    let parse = match fused {
        true => Parse::OnReader,
        false => Parse::OnThread,
    };
    let lines = line_chunks::spawn(input, args.max_line_bytes, parse);
    let outputs = pipeline.outputs().to_vec();
    let mut writer = Writer::new(
        out,
        args.tag,
        &outputs,
        output_labels(&pipeline),
        output::name(args.output.as_deref()),
    );
    let progress = io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} items in, {msg} out, {per_sec}")
                .expect("valid template"),
        );
        bar
    });
    let started = Instant::now();
    let outcome = stream(
        &mut pipeline,
        &lines,
        args.max_line_bytes,
        &mut writer,
        progress.as_ref(),
    );
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    // What was written stays written, whatever stopped the run.
    let flushed = writer.flush();
    let read = outcome?;
    flushed?;
    if args.stats {
        print_stats(&pipeline, read, writer.written, started.elapsed());
    }
    pipeline.close()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::LinesOfItems;

    #[test]
    fn items_map_to_their_lines_across_blank_lines() {
        // Lines: 1 item0, 2 blank, 3 blank, 4 item1, 5 item2, 6 blank, 7 item3.
        let mut lines = LinesOfItems::default();
        lines.skip(1);
        lines.skip(1);
        lines.skip(3);
        let got: Vec<usize> = (0..4).map(|item| lines.line_of(item)).collect();
        assert_eq!(got, [1, 4, 5, 7]);
        assert_eq!(LinesOfItems::default().line_of(41), 42);
    }
}

/// Feeds every line, writing outputs as they come; returns the number of items read.
///
/// Each chunk of lines becomes one batch or a few. A line that cannot be read or parsed ends the input
/// there: the items before it are pushed, finished and their outputs written, then its error is
/// returned. A node failure is returned with the line of the item that failed (or the last line
/// read) and how far the run got.
fn stream(
    pipeline: &mut DynamicPipeline,
    input: &Chunks,
    max_line_bytes: usize,
    writer: &mut Writer,
    progress: Option<&ProgressBar>,
) -> Result<u64, CliError> {
    let mut handle = pipeline.start()?;
    let mut read = 0u64;
    let mut at_line = 0;
    let mut lines_of_items = LinesOfItems::default();
    let mut bad_line = None;
    let mut batch = Vec::new();
    let outcome = (|| -> Result<(), CliError> {
        while bad_line.is_none() {
            let mut chunk = match input.chunks.recv_timeout(IDLE_FLUSH) {
                Ok(Ok(chunk)) => chunk,
                Ok(Err(err)) => {
                    bad_line = Some(err.into_cli());
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {
                    // The input paused: push partial batches on and show what is ready.
                    handle.flush()?;
                    write_ready(&mut handle, writer)?;
                    writer.flush()?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if let Some((items, last_line)) = chunk.parsed_items() {
                // Every line came parsed: they are the batch, as they are (`batch` is empty).
                std::mem::swap(&mut batch, items);
                at_line = last_line;
            } else {
                let mut batch_bytes = 0;
                for (number, line, parsed) in chunk.take_lines() {
                    at_line = number;
                    let item = match parsed {
                        Some(item) => Ok(Some(item)),
                        None => parse_line(number, line, max_line_bytes),
                    };
                    match item {
                        Ok(Some(item)) => batch.push(item),
                        Ok(None) => lines_of_items.skip(read + batch.len() as u64),
                        Err(err) => {
                            bad_line = Some(err);
                            break;
                        }
                    }
                    batch_bytes += line.len();
                    if batch_bytes >= BATCH_TEXT_BYTES {
                        batch_bytes = 0;
                        writer.last_line = at_line;
                        read += batch.len() as u64;
                        push_and_write(&mut handle, &mut batch, writer)?;
                    }
                }
            }
            input.recycle(chunk);
            writer.last_line = at_line;
            read += batch.len() as u64;
            push_and_write(&mut handle, &mut batch, writer)?;
            if let Some(bar) = progress {
                bar.set_position(read);
                bar.set_message(writer.written.to_string());
            }
        }
        Ok(())
    })();
    // Outputs are written as they come until the last stage has finished: a generator that
    // yields without end streams until the reader closes the output.
    let outcome = outcome.and_then(|()| {
        handle.close_input()?;
        loop {
            if handle.would_wait() {
                writer.flush()?;
            }
            let Some(batch) = handle.next_batch()? else {
                break;
            };
            writer.write_batch(&batch)?;
            handle.give_back(batch);
        }
        Ok(())
    });
    match (outcome, bad_line) {
        (Err(CliError::Pipeline(error)), _) => {
            // The run stopped at a failing item: the outputs of the items before it are still
            // waiting, and are written before the error is reported.
            while let Ok(Some(batch)) = handle.try_next_batch() {
                writer.write_batch(&batch)?;
            }
            let line = match error.failed_item() {
                Some(item) => lines_of_items.line_of(item),
                None => at_line,
            };
            Err(CliError::Run {
                line,
                // The items before the failing one (the rest of its chunk was read, not run).
                read: error.failed_item().unwrap_or(read),
                error,
                written: writer.written,
            })
        }
        (Err(err), _) => Err(err),
        (Ok(()), Some(bad_line)) => Err(bad_line),
        (Ok(()), None) => Ok(read),
    }
}

/// Pushes `batch` (emptying it) and writes the outputs that are ready.
fn push_and_write(
    handle: &mut DynamicStream<'_>,
    batch: &mut Vec<Value>,
    writer: &mut Writer,
) -> Result<(), CliError> {
    let len = batch.len();
    handle.push_batch(batch)?;
    // The pipeline may keep the batch's buffer (its items move on through stage 0), leaving an
    // empty one: room for as many items at once, not grown to it by doubling (ten reallocations
    // of a thousand objects' batch, each copying it, and each large one making glibc consolidate
    // every small block freed since).
    batch.reserve(len);
    write_ready(handle, writer)
}

/// Writes the outputs that are ready, a batch at a time, handing each batch back once written.
fn write_ready(handle: &mut DynamicStream<'_>, writer: &mut Writer) -> Result<(), CliError> {
    loop {
        if handle.would_wait() {
            // A generator goes on: what it gave so far shows now.
            writer.flush()?;
        }
        let Some(batch) = handle.try_next_batch()? else {
            return Ok(());
        };
        writer.write_batch(&batch)?;
        handle.give_back(batch);
    }
}

/// Input line `number` as an item: `None` for a blank line; an error naming the line (and column)
/// for one longer than `max_line_bytes` or not JSON.
pub(super) fn parse_line(
    number: usize,
    line: &str,
    max_line_bytes: usize,
) -> Result<Option<Value>, CliError> {
    if line.len() > max_line_bytes {
        let (line, limit) = (number, max_line_bytes);
        return Err(LineError::TooLong { line, limit }.into_cli());
    }
    // A byte order mark some editors write before the first line is not part of it.
    let text = match number {
        1 => line.strip_prefix('\u{feff}').unwrap_or(line),
        _ => line,
    };
    // A line starting with a visible ASCII character is not blank: no trim needed.
    let blank = match text.as_bytes().first() {
        Some(b) if b.is_ascii_graphic() => false,
        _ => text.trim().is_empty(),
    };
    if blank {
        return Ok(None);
    }
    parse_json(text)
        .map(Some)
        .map_err(|err| CliError::InputLine {
            line: number,
            column: err.column,
            message: err.message,
        })
}

/// Which input line each item came from: items are numbered from 0 in the order they were
/// pushed, and blank lines are skipped, so item `i` is on line `i + 1` plus the blank lines read
/// before it. Keeps one entry per run of blank lines, not one per item.
#[derive(Debug, Default)]
struct LinesOfItems {
    /// `(items read before, blank lines skipped so far)`, one entry per run of blank lines.
    skipped: Vec<(u64, u64)>,
}

impl LinesOfItems {
    /// Records a blank line read after `items_read` items.
    fn skip(&mut self, items_read: u64) {
        match self.skipped.last_mut() {
            Some((before, skipped)) if *before == items_read => *skipped += 1,
            last => {
                let skipped = last.map_or(0, |(_, skipped)| *skipped) + 1;
                self.skipped.push((items_read, skipped));
            }
        }
    }

    /// The 1-based input line of item `item`.
    fn line_of(&self, item: u64) -> usize {
        let runs_before = self.skipped.partition_point(|(before, _)| *before <= item);
        let skipped = runs_before
            .checked_sub(1)
            .map_or(0, |run| self.skipped[run].1);
        usize::try_from(item + 1 + skipped).unwrap_or(usize::MAX)
    }
}

fn print_stats(pipeline: &DynamicPipeline, read: u64, written: u64, elapsed: Duration) {
    report::stderr_line(format_args!(
        "{:<20} {:>12} {:>12} {:>12}",
        "node", "items in", "items out", "time"
    ));
    if let Some(stats) = pipeline.stats() {
        for (id, s) in stats {
            report::stderr_line(format_args!(
                "{id:<20} {:>12} {:>12} {:>12.3?}",
                s.items_in(),
                s.items_out(),
                s.time()
            ));
        }
    }
    report::stderr_line(format_args!(
        "{:<20} {read:>12} {written:>12} {elapsed:>12.3?}",
        "(total)"
    ));
}
