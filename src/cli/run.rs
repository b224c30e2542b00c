//! `pipeline run MANIFEST [--input FILE] [--output FILE] [--tag] [--stats]`.
//!
//! Streams: a reader thread hands input lines over a bounded channel, outputs are written as they
//! come, and when the input pauses the pipeline and the output are flushed, so results appear before
//! the input ends and memory stays bounded however long the input is.

use super::{load, report, CliError};
use indicatif::{ProgressBar, ProgressStyle};
use pipeline::dynamic::{build, BuildOptions, DynamicPipeline, Tagged};
use pipeline::manifest::check_placement;
use pipeline::placement::HostInfo;
use pipeline::runtime::StageConfig;
use pipeline::Value;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long the input may pause before buffered items and outputs are flushed.
const IDLE_FLUSH: Duration = Duration::from_millis(20);
/// Input lines buffered between the reader thread and the pipeline.
const LINE_BUFFER: usize = 1024;

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The manifest file.
    manifest: PathBuf,
    /// Read items from this file instead of stdin.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Write outputs to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Write each output as `{"node": id, "value": v}` (useful with several outputs).
    #[arg(long)]
    tag: bool,
    /// Print per-node counters (items in, out, time) to stderr at the end.
    #[arg(long)]
    stats: bool,
    /// Items per batch across stage boundaries.
    #[arg(long, default_value_t = pipeline::runtime::DEFAULT_BATCH_SIZE)]
    batch_size: usize,
}

/// One line from the reader thread.
type Line = Result<(usize, String), io::Error>;

fn spawn_reader(input: Box<dyn BufRead + Send>) -> Receiver<Line> {
    let (tx, rx) = sync_channel(LINE_BUFFER);
    std::thread::spawn(move || {
        for (n, line) in input.lines().enumerate() {
            let stop = line.is_err();
            if tx.send(line.map(|l| (n + 1, l))).is_err() || stop {
                break;
            }
        }
    });
    rx
}

fn open_input(path: Option<&Path>) -> Result<Box<dyn BufRead + Send>, CliError> {
    Ok(match path {
        None => Box::new(BufReader::new(io::stdin())),
        Some(path) => Box::new(BufReader::new(File::open(path).map_err(|source| {
            CliError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?)),
    })
}

fn open_output(path: Option<&Path>) -> Result<Box<dyn Write>, CliError> {
    Ok(match path {
        None => Box::new(BufWriter::new(io::stdout())),
        Some(path) => Box::new(BufWriter::new(File::create(path).map_err(|source| {
            CliError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?)),
    })
}

/// Writes outputs as JSON Lines.
struct Writer<'a> {
    out: Box<dyn Write>,
    tag: bool,
    outputs: &'a [String],
    path: PathBuf,
    written: u64,
}

impl Writer<'_> {
    fn write(&mut self, item: Tagged) -> Result<(), CliError> {
        let result = if self.tag {
            // Maps are sorted by key, so this writes `{"node": ..., "value": ...}`.
            let name = Value::from(self.outputs[item.output].as_str());
            let tagged = Value::map([("node", name), ("value", item.value)]);
            serde_json::to_writer(&mut self.out, &tagged)
        } else {
            serde_json::to_writer(&mut self.out, &item.value)
        };
        result
            .map_err(io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"))
            .map_err(|source| self.io(source))?;
        self.written += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CliError> {
        self.out.flush().map_err(|source| self.io(source))
    }

    fn io(&self, source: io::Error) -> CliError {
        CliError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// Runs the manifest over the input, writing outputs as they come.
pub fn run(args: RunArgs) -> Result<ExitCode, CliError> {
    let lowered = load::manifest(&args.manifest)?;
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
    let lines = spawn_reader(open_input(args.input.as_deref())?);
    let outputs = pipeline.outputs().to_vec();
    let mut writer = Writer {
        out: open_output(args.output.as_deref())?,
        tag: args.tag,
        outputs: &outputs,
        path: args
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from("<stdout>")),
        written: 0,
    };
    let progress = io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} items in, {msg} out, {per_sec}")
                .expect("valid template"),
        );
        bar
    });
    let started = Instant::now();
    let outcome = stream(&mut pipeline, &lines, &mut writer, progress.as_ref());
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let read = outcome?;
    writer.flush()?;
    if args.stats {
        print_stats(&pipeline, read, writer.written, started.elapsed());
    }
    pipeline.close()?;
    Ok(ExitCode::SUCCESS)
}

/// Feeds every line, writing outputs as they come; returns the number of items read.
fn stream(
    pipeline: &mut DynamicPipeline,
    lines: &Receiver<Line>,
    writer: &mut Writer<'_>,
    progress: Option<&ProgressBar>,
) -> Result<u64, CliError> {
    let mut handle = pipeline.start()?;
    let mut read = 0u64;
    loop {
        let (number, line) = match lines.recv_timeout(IDLE_FLUSH) {
            Ok(Ok(line)) => line,
            Ok(Err(source)) => {
                return Err(CliError::Io {
                    path: PathBuf::from("<input>"),
                    source,
                })
            }
            Err(RecvTimeoutError::Timeout) => {
                // The input paused: push partial batches on and show what is ready.
                handle.flush()?;
                while let Some(item) = handle.try_next()? {
                    writer.write(item)?;
                }
                writer.flush()?;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        let item: Value = serde_json::from_str(&line).map_err(|err| CliError::InputLine {
            line: number,
            column: err.column(),
            message: format!("not valid JSON: {}", json_message(&err)),
        })?;
        handle.push(item)?;
        read += 1;
        while let Some(item) = handle.try_next()? {
            writer.write(item)?;
        }
        if let Some(bar) = progress {
            if read % 1024 == 0 {
                bar.set_position(read);
                bar.set_message(writer.written.to_string());
            }
        }
    }
    for item in handle.finish()? {
        writer.write(item)?;
    }
    Ok(read)
}

/// serde_json's message without its own ` at line 1 column n` suffix.
fn json_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    text.split(" at line ").next().unwrap_or(&text).to_string()
}

fn print_stats(pipeline: &DynamicPipeline, read: u64, written: u64, elapsed: Duration) {
    eprintln!(
        "{:<20} {:>12} {:>12} {:>12}",
        "node", "items in", "items out", "time"
    );
    if let Some(stats) = pipeline.stats() {
        for (id, s) in stats {
            eprintln!(
                "{id:<20} {:>12} {:>12} {:>12.3?}",
                s.items_in(),
                s.items_out(),
                s.time()
            );
        }
    }
    eprintln!(
        "{:<20} {read:>12} {written:>12} {elapsed:>12.3?}",
        "(total)"
    );
}
