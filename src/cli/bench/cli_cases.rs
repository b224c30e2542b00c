//! The `cli` workloads: what a manifest user runs first, end to end. This binary's `pipeline run`
//! over a generated JSON-lines file (the `simple` manifest: fused, staged, with `--stats` and
//! with `--tag`) against CPython's json-lines loop running the same three nodes over the same file
//! (`benches/python_baseline.py --cli`), each a whole process timed from spawn to exit, its output
//! file checked before any figure is kept.

use super::cases::{Measurement, Metric, Missing};
use super::cpython::SCRIPT;
use pipeline::workloads::{staged, SIMPLE_MANIFEST};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// One input kind: its workload name and how many lines (quick, full).
struct Lines {
    workload: &'static str,
    quick: u64,
    full: u64,
}

const KINDS: [Lines; 2] = [
    Lines {
        workload: "cli_ints",
        quick: 100_000,
        full: 1_000_000,
    },
    Lines {
        workload: "cli_objects",
        quick: 30_000,
        full: 300_000,
    },
];

/// Line `i` of a workload's input.
fn line(workload: &str, i: u64, out: &mut impl Write) -> std::io::Result<()> {
    if workload == "cli_ints" {
        writeln!(out, "{i}")
    } else {
        writeln!(
            out,
            r#"{{"id":{i},"name":"item-{i}","tags":["a","b{}"],"value":{}}}"#,
            i % 7,
            i % 1000
        )
    }
}

/// What every correct output file of a workload sums to: the ints plus one each, or the objects'
/// `value`s (objects pass through unchanged); and the line count.
fn expected(workload: &str, lines: u64) -> (i64, u64) {
    let n = lines as i64;
    if workload == "cli_ints" {
        (n * (n - 1) / 2 + n, lines)
    } else {
        ((0..n).map(|i| i % 1000).sum(), lines)
    }
}

/// The checksum and line count of an output file (of `{"node": ..., "value": ...}` lines when
/// `tagged`).
fn checksum(workload: &str, path: &Path, tagged: bool) -> Result<(i64, u64), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut sum, mut count) = (0i64, 0u64);
    for text in std::io::BufReader::new(file).lines() {
        let text = text.map_err(|e| format!("{}: {e}", path.display()))?;
        let mut value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if tagged {
            value = value["value"].take();
        }
        let number = if workload == "cli_ints" {
            value.as_i64()
        } else {
            value["value"].as_i64()
        };
        sum = sum.wrapping_add(number.unwrap_or(i64::MIN));
        count += 1;
    }
    Ok((sum, count))
}

/// A command of the case: the program, its arguments, and the script it reads on stdin (CPython).
struct Run {
    mode: &'static str,
    program: PathBuf,
    args: Vec<String>,
    stdin: Option<&'static str>,
}

/// Runs `run` once to completion; its wall-clock seconds.
fn time_once(run: &Run) -> Result<f64, String> {
    let started = Instant::now();
    let mut child = Command::new(&run.program)
        .args(&run.args)
        .stdin(if run.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", run.program.display()))?;
    if let (Some(script), Some(mut stdin)) = (run.stdin, child.stdin.take()) {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| format!("{}: {e}", run.program.display()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{}: {e}", run.program.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            run.mode,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(seconds)
}

/// Removes the last run's output file (untimed), so each run writes a new one: emptying the
/// last one is the kernel freeing its pages, which the next run would pay for the one before it
/// (15-20 ms for the 28 MB of a million tagged int lines, against 4-8 for the 7 MB untagged: most
/// of what `--tag` seemed to cost), and ext4 then flushes the rewritten file on close.
fn fresh_output(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("{}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Every `cli` case: `pipeline_run` (fused), `pipeline_run_staged` (a stage per node),
/// `pipeline_run_stats` (`--stats`), `pipeline_run_tag` (`--tag`) and `cpython_loop`, in lines
/// per second: the median of the timed runs (11 of each `pipeline run` mode and 5 of the loop, 3
/// each with `quick`), taken in turns after one checked run of each.
pub fn cases(
    quick: bool,
    measurements: &mut Vec<Measurement>,
    missing: &mut Vec<Missing>,
) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("pipeline-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let outcome = cases_in(&dir, quick, measurements, missing);
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn cases_in(
    dir: &Path,
    quick: bool,
    measurements: &mut Vec<Measurement>,
    missing: &mut Vec<Missing>,
) -> Result<(), String> {
    let this = std::env::current_exe().map_err(|e| format!("this executable: {e}"))?;
    let fused = dir.join("simple.json");
    let staged_manifest = dir.join("staged.json");
    std::fs::write(&fused, SIMPLE_MANIFEST).map_err(|e| e.to_string())?;
    std::fs::write(&staged_manifest, staged(SIMPLE_MANIFEST)).map_err(|e| e.to_string())?;
    let runs = if quick { 3 } else { 5 };
    let pipeline_rounds = if quick { 3 } else { 11 };
    for kind in &KINDS {
        let lines = if quick { kind.quick } else { kind.full };
        let input = dir.join(format!("{}.jsonl", kind.workload));
        let mut writer = BufWriter::new(std::fs::File::create(&input).map_err(|e| e.to_string())?);
        for i in 0..lines {
            line(kind.workload, i, &mut writer).map_err(|e| e.to_string())?;
        }
        writer.flush().map_err(|e| e.to_string())?;
        drop(writer);
        let output = dir.join("out.jsonl");
        let (input_arg, output_arg) = (input.display().to_string(), output.display().to_string());
        let pipeline_run = |mode, manifest: &Path, extra: &[&str]| Run {
            mode,
            program: this.clone(),
            args: [
                "run",
                &manifest.display().to_string(),
                "--input",
                &input_arg,
                "--output",
                &output_arg,
            ]
            .into_iter()
            .chain(extra.iter().copied())
            .map(String::from)
            .collect(),
            stdin: None,
        };
        let kind_arg = if kind.workload == "cli_ints" {
            "ints"
        } else {
            "objects"
        };
        let commands = [
            pipeline_run("pipeline_run", &fused, &[]),
            pipeline_run("pipeline_run_staged", &staged_manifest, &[]),
            pipeline_run("pipeline_run_stats", &fused, &["--stats"]),
            pipeline_run("pipeline_run_tag", &fused, &["--tag"]),
            Run {
                mode: "cpython_loop",
                program: "python3".into(),
                args: ["-", "--cli", kind_arg, &input_arg, &output_arg]
                    .into_iter()
                    .map(String::from)
                    .collect(),
                stdin: Some(SCRIPT),
            },
        ];
        // One checked run of each command first.
        let mut timed: Vec<(&Run, Vec<f64>)> = Vec::new();
        for run in &commands {
            let tagged = run.mode == "pipeline_run_tag";
            let checked = fresh_output(&output)
                .and_then(|()| time_once(run))
                .and_then(|_| checksum(kind.workload, &output, tagged));
            match checked {
                Ok(got) if got == expected(kind.workload, lines) => timed.push((run, Vec::new())),
                Ok(got) => {
                    return Err(format!(
                        "{}/{}: checksum and lines {got:?}, expected {:?}; no figure reported",
                        kind.workload,
                        run.mode,
                        expected(kind.workload, lines)
                    ))
                }
                Err(why) if run.mode == "cpython_loop" => missing.push(Missing {
                    workload: kind.workload,
                    mode: run.mode,
                    reason: why,
                }),
                Err(why) => return Err(why),
            }
        }
        // Then the timed runs of the `pipeline run` modes in rounds, each round in an order of its
        // own: a run is slowed by what the one before it left to the kernel (the writeback of its
        // output above all: a mode always run after the same one was measured up to 30% off), so
        // each mode follows the others in turn, and the ratios between them (staged, `--stats`,
        // `--tag` against the plain run) are the modes'. The CPython loop, seconds long, is timed
        // after them.
        let (loop_runs, modes): (Vec<_>, Vec<_>) = timed
            .iter_mut()
            .partition(|(run, _)| run.mode == "cpython_loop");
        let mut modes = modes;
        let count = modes.len();
        for round in 0..pipeline_rounds {
            for k in round_order(round, count) {
                let (run, seconds) = &mut modes[k];
                seconds.push(fresh_output(&output).and_then(|()| time_once(run))?);
            }
        }
        for (run, seconds) in loop_runs {
            for _ in 0..runs {
                seconds.push(fresh_output(&output).and_then(|()| time_once(run))?);
            }
        }
        for (run, mut seconds) in timed {
            seconds.sort_by(f64::total_cmp);
            measurements.push(Measurement {
                workload: kind.workload,
                mode: run.mode,
                metric: Metric::ItemsPerSecond,
                value: lines as f64 / seconds[seconds.len() / 2],
                peak_rss_bytes: None,
                worker_peak_rss_bytes: None,
                load_average: None,
            });
        }
    }
    Ok(())
}

/// The order of the modes in timed round `round`: `0..count` shuffled by a fixed-seed xorshift,
/// the same on every run of the bench.
fn round_order(round: usize, count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    let mut state =
        0x9E37_79B9_7F4A_7C15_u64 ^ (round as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    for i in (1..count).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_follows_each_other_mode_in_some_round() {
        let mut after = [[0; 4]; 4];
        for round in 0..11 {
            let order = round_order(round, 4);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, [0, 1, 2, 3], "round {round} is a permutation");
            for pair in order.windows(2) {
                after[pair[1]][pair[0]] += 1;
            }
        }
        for (mode, before) in after.iter().enumerate() {
            for (other, &times) in before.iter().enumerate() {
                assert!(mode == other || times > 0, "{mode} never after {other}");
            }
        }
    }

    #[test]
    fn generated_lines_sum_to_the_expected_checksum() {
        let dir = std::env::temp_dir().join(format!("bench-cli-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for kind in &KINDS {
            // The input itself, with the ints shifted as the Calculator shifts them.
            let path = dir.join(kind.workload);
            let mut file = std::fs::File::create(&path).unwrap();
            for i in 0..1000 {
                if kind.workload == "cli_ints" {
                    writeln!(file, "{}", i + 1).unwrap();
                } else {
                    line(kind.workload, i, &mut file).unwrap();
                }
            }
            drop(file);
            assert_eq!(
                checksum(kind.workload, &path, false).unwrap(),
                expected(kind.workload, 1000)
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
