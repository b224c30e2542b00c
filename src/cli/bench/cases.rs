//! Every workload × mode of the benchmark, each checked against the reference checksum before it is
//! timed. A mode that cannot run here is reported missing with the reason, never estimated.

use super::measure::{median_seconds, repeat, Timed};
use pipeline::dynamic::{build, BuildOptions, Registry};
use pipeline::manifest;
use pipeline::workloads::{
    self, checksum_values, staged, COMPLEX_ADDS, COMPLEX_MANIFEST, SIMPLE_ADDS, SIMPLE_MANIFEST,
};
use pipeline::Value;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Items in a `throughput` run.
pub const THROUGHPUT_ITEMS: u64 = 1_000_000;

/// Items in a `parallel` run (~10 µs each: about 0.1 s sequential).
pub const PARALLEL_ITEMS: u64 = 10_000;

/// What a figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Median microseconds per run.
    Micros,
    /// Items per second (median run).
    ItemsPerSecond,
}

/// One measured figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// `simple`, `complex`, `scaling_10`, `scaling_1000`, `throughput`, `construction`.
    pub workload: &'static str,
    /// `static_fused`, `dynamic`, `from_json`, ...
    pub mode: &'static str,
    /// What `value` is.
    pub metric: Metric,
    /// The median.
    pub value: f64,
    /// Peak resident memory during the case (throughput only).
    pub peak_rss_bytes: Option<u64>,
    /// The worker process's peak resident memory (`distributed` throughput cases only).
    pub worker_peak_rss_bytes: Option<u64>,
    /// The one-minute load average when the case started (parallel cases only: what they can
    /// gain depends on idle cores). It counts this benchmark's own thread.
    pub load_average: Option<f64>,
}

/// A case that could not run, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    /// Workload.
    pub workload: &'static str,
    /// Mode.
    pub mode: &'static str,
    /// Why.
    pub reason: String,
}

/// A per-iteration workload: its name, items per run and additions per item.
struct Workload {
    name: &'static str,
    items: i64,
    adds: i64,
    manifest: &'static str,
}

const RUN_WORKLOADS: [Workload; 4] = [
    Workload {
        name: "simple",
        items: 100,
        adds: SIMPLE_ADDS,
        manifest: SIMPLE_MANIFEST,
    },
    Workload {
        name: "complex",
        items: 100,
        adds: COMPLEX_ADDS,
        manifest: COMPLEX_MANIFEST,
    },
    Workload {
        name: "scaling_10",
        items: 10,
        adds: SIMPLE_ADDS,
        manifest: SIMPLE_MANIFEST,
    },
    Workload {
        name: "scaling_1000",
        items: 1000,
        adds: SIMPLE_ADDS,
        manifest: SIMPLE_MANIFEST,
    },
];

/// Collects figures and missing cases.
pub struct Bench {
    budget: Duration,
    registry: Registry,
    /// Figures in the order they were measured.
    pub measurements: Vec<Measurement>,
    /// Cases that could not run.
    pub missing: Vec<Missing>,
}

fn verify(workload: &str, mode: &str, got: i64, expected: i64) -> pipeline::Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(pipeline::Error::msg(format!(
            "{workload}/{mode}: checksum {got}, expected {expected}; no figure reported"
        )))
    }
}

impl Bench {
    /// A benchmark spending about `budget` on each case.
    pub fn new(budget: Duration) -> Self {
        Bench {
            budget,
            registry: Registry::with_builtins(),
            measurements: Vec::new(),
            missing: Vec::new(),
        }
    }

    fn record(
        &mut self,
        workload: &'static str,
        mode: &'static str,
        timed: &mut Timed<'_>,
    ) -> pipeline::Result<()> {
        let seconds = median_seconds(timed, self.budget)?;
        self.measurements.push(Measurement {
            workload,
            mode,
            metric: Metric::Micros,
            value: seconds * 1e6,
            peak_rss_bytes: None,
            worker_peak_rss_bytes: None,
            load_average: None,
        });
        Ok(())
    }

    /// A case over `i64` items: checked once, then timed.
    fn typed_case(
        &mut self,
        w: &Workload,
        mode: &'static str,
        mut run: impl FnMut(&[i64]) -> pipeline::Result<Vec<i64>>,
    ) -> pipeline::Result<()> {
        let input: Vec<i64> = (0..w.items).collect();
        let expected = workloads::expected_checksum(w.items, w.adds);
        verify(w.name, mode, workloads::checksum(&run(&input)?), expected)?;
        self.record(w.name, mode, &mut |n| {
            repeat(n, || {
                black_box(run(black_box(&input))?);
                Ok(())
            })
        })
    }

    /// A case over `Value` items.
    fn value_case(
        &mut self,
        w: &Workload,
        mode: &'static str,
        mut run: impl FnMut(&[Value]) -> pipeline::Result<Vec<Value>>,
    ) -> pipeline::Result<()> {
        let input: Vec<Value> = (0..w.items).map(Value::Int).collect();
        let expected = workloads::expected_checksum(w.items, w.adds);
        verify(w.name, mode, checksum_values(&run(&input)?), expected)?;
        self.record(w.name, mode, &mut |n| {
            repeat(n, || {
                black_box(run(black_box(&input))?);
                Ok(())
            })
        })
    }

    /// `simple`, `complex` and the scaling workloads in every Rust mode.
    pub fn runs(&mut self) -> pipeline::Result<()> {
        for w in &RUN_WORKLOADS {
            let adds = w.adds;
            self.typed_case(w, "hand_loop", |xs| {
                workloads::hand_loop(xs.iter().copied(), adds)
            })?;
            if w.adds == SIMPLE_ADDS {
                let mut fused = workloads::simple_fused();
                self.typed_case(w, "static_fused", |xs| fused.run(xs.iter().copied()))?;
                let mut threaded = workloads::simple_threaded();
                self.typed_case(w, "static_threaded", |xs| threaded.run(xs.iter().copied()))?;
            } else {
                let mut fused = workloads::complex_fused();
                self.typed_case(w, "static_fused", |xs| fused.run(xs.iter().copied()))?;
                let mut threaded = workloads::complex_threaded();
                self.typed_case(w, "static_threaded", |xs| threaded.run(xs.iter().copied()))?;
            }
            let mut dynamic = workloads::dynamic(w.manifest, &self.registry)?;
            self.value_case(w, "dynamic", |xs| dynamic.run_values(xs.iter().cloned()))?;
            let staged_text = staged(w.manifest);
            let mut threaded = workloads::dynamic(&staged_text, &self.registry)?;
            self.value_case(w, "dynamic_threaded", |xs| {
                threaded.run_values(xs.iter().cloned())
            })?;
            let registry = Registry::with_builtins();
            let text = w.manifest;
            self.value_case(w, "dynamic_cold", |xs| {
                workloads::dynamic(text, &registry)?.run_values(xs.iter().cloned())
            })?;
            self.python_cases(w)?;
        }
        Ok(())
    }

    /// `python` (the baseline's classes in RustPython, in an isolated worker), `python_in_process`
    /// (the same in this process's interpreter), `python_batch` / `python_batch_in_process` (the
    /// classes written with `process_batch` comprehensions) and `python_sdl` (a Python script of
    /// built-in nodes) for the `simple` and `complex` workloads.
    #[cfg(feature = "python")]
    fn python_cases(&mut self, w: &Workload) -> pipeline::Result<()> {
        use super::python_cases::{python_manifest, sdl_script, PythonMode};
        if w.name != "simple" && w.name != "complex" {
            return Ok(());
        }
        let registry = crate::cli::registry();
        // Isolated, as the CLI runs manifests (when the CLI installed isolation), then in-process;
        // per-item `process`, then `process_batch` comprehensions.
        for (name, batch, in_process) in [
            ("python", false, false),
            ("python_in_process", false, true),
            ("python_batch", true, false),
            ("python_batch_in_process", true, true),
        ] {
            let mode = PythonMode { batch, in_process };
            let mut python = workloads::dynamic(&python_manifest(w.adds, mode), &registry)?;
            self.value_case(w, name, |xs| python.run_values(xs.iter().cloned()))?;
        }
        let described = pipeline::python::describe_script("bench.py", &sdl_script(w.adds))?;
        let lowered = described
            .load(&registry)
            .map_err(|e| pipeline::Error::new(pipeline::ErrorKind::Graph, e))?;
        let mut sdl = build(lowered, BuildOptions::default());
        self.value_case(w, "python_sdl", |xs| sdl.run_values(xs.iter().cloned()))
    }

    /// Without the Python bridge the Python modes are missing.
    #[cfg(not(feature = "python"))]
    fn python_cases(&mut self, w: &Workload) -> pipeline::Result<()> {
        for mode in [
            "python",
            "python_in_process",
            "python_batch",
            "python_batch_in_process",
            "python_sdl",
        ] {
            self.missing.push(Missing {
                workload: w.name,
                mode,
                reason: "this build has no Python bridge (feature `python`)".into(),
            });
        }
        Ok(())
    }

    /// One million items through `simple`, streamed (outputs summed as they come, not collected),
    /// with the peak memory of each mode.
    pub fn throughput(&mut self) -> pipeline::Result<()> {
        let expected = workloads::expected_checksum(THROUGHPUT_ITEMS as i64, SIMPLE_ADDS);
        let n = THROUGHPUT_ITEMS as i64;
        let mut fused = workloads::simple_fused();
        self.stream_case("static_fused", expected, |sum| {
            fused.run_with(0..n, |x| {
                *sum += x;
                Ok(())
            })
        })?;
        let mut threaded = workloads::simple_threaded();
        self.stream_case("static_threaded", expected, |sum| {
            threaded.run_with(0..n, |x| {
                *sum += x;
                Ok(())
            })
        })?;
        let mut dynamic = workloads::dynamic(SIMPLE_MANIFEST, &self.registry)?;
        self.stream_case("dynamic", expected, |sum| {
            dynamic.run_with((0..n).map(Value::Int), |t| {
                *sum += t.value.as_int().unwrap_or(i64::MIN);
                Ok(())
            })
        })?;
        let mut staged_dynamic = workloads::dynamic(&staged(SIMPLE_MANIFEST), &self.registry)?;
        self.stream_case("dynamic_threaded", expected, |sum| {
            staged_dynamic.run_with((0..n).map(Value::Int), |t| {
                *sum += t.value.as_int().unwrap_or(i64::MIN);
                Ok(())
            })
        })?;
        self.distributed_throughput()
    }

    /// The throughput workload with its middle node on a `pipeline worker` of the bench's own
    /// (see [`super::distributed_case`]), at the default batch size and two larger ones: how much
    /// the process boundary costs, and how much of it is per batch. The worker is killed after.
    #[cfg(feature = "distributed")]
    pub fn distributed_throughput(&mut self) -> pipeline::Result<()> {
        use pipeline::distributed::DEFAULT_BATCH_ITEMS;
        let expected = workloads::expected_checksum(THROUGHPUT_ITEMS as i64, SIMPLE_ADDS);
        let registry = Registry::with_builtins();
        for (mode, batch_items) in [
            ("distributed", DEFAULT_BATCH_ITEMS),
            ("distributed_16k", 16 << 10),
            ("distributed_64k", 64 << 10),
        ] {
            let worker = match super::distributed_case::BenchWorker::start() {
                Ok(worker) => worker,
                Err(reason) => {
                    self.missing.push(Missing {
                        workload: "throughput",
                        mode,
                        reason,
                    });
                    continue;
                }
            };
            let mut worker_peak = None;
            self.stream_case(mode, expected, |sum| {
                let (total, peak) =
                    worker.run_simple(&registry, THROUGHPUT_ITEMS as i64, batch_items)?;
                *sum = total;
                worker_peak = worker_peak.max(peak);
                Ok(())
            })?;
            if let Some(case) = self.measurements.last_mut() {
                case.worker_peak_rss_bytes = worker_peak;
            }
        }
        Ok(())
    }

    /// Without the distributed engine the mode is missing.
    #[cfg(not(feature = "distributed"))]
    pub fn distributed_throughput(&mut self) -> pipeline::Result<()> {
        self.missing.push(Missing {
            workload: "throughput",
            mode: "distributed",
            reason: "this build has no distributed engine (feature `distributed`)".into(),
        });
        Ok(())
    }

    fn stream_case(
        &mut self,
        mode: &'static str,
        expected: i64,
        mut run: impl FnMut(&mut i64) -> pipeline::Result<()>,
    ) -> pipeline::Result<()> {
        super::memory::reset_peak();
        let mut sum = 0;
        run(&mut sum)?;
        verify("throughput", mode, sum, expected)?;
        let seconds = median_seconds(
            &mut |n| {
                repeat(n, || {
                    let mut sum = 0;
                    run(&mut sum)?;
                    black_box(sum);
                    Ok(())
                })
            },
            self.budget,
        )?;
        self.measurements.push(Measurement {
            workload: "throughput",
            mode,
            metric: Metric::ItemsPerSecond,
            value: THROUGHPUT_ITEMS as f64 / seconds,
            peak_rss_bytes: super::memory::peak_rss_bytes(),
            worker_peak_rss_bytes: None,
            load_average: None,
        });
        Ok(())
    }

    /// A CPU-bound node of ~10 µs per item ([`workloads::hash_rounds`]) over [`PARALLEL_ITEMS`]
    /// items, sequential and with two replicas: `par(2)` in `pipeline!`, `"parallelism": 2` in a
    /// manifest. Each case notes the load average it started under.
    pub fn parallel(&mut self) -> pipeline::Result<()> {
        use workloads::{
            heavy_dynamic, heavy_par2, heavy_sequential, register_heavy, HEAVY_ROUNDS,
        };
        let items = PARALLEL_ITEMS;
        let expected = (0..items).fold(0u64, |sum, x| {
            sum.wrapping_add(workloads::hash_rounds(x, HEAVY_ROUNDS))
        }) as i64;
        let sum = |xs: &[u64]| xs.iter().fold(0u64, |s, &x| s.wrapping_add(x)) as i64;
        let mut sequential = heavy_sequential(HEAVY_ROUNDS);
        self.parallel_case("static_sequential", expected, || {
            Ok(sum(&sequential.run(0..items)?))
        })?;
        let mut par2 = heavy_par2(HEAVY_ROUNDS);
        self.parallel_case("static_par2", expected, || Ok(sum(&par2.run(0..items)?)))?;
        let mut registry = Registry::with_builtins();
        register_heavy(&mut registry);
        let value_sum = |xs: &[Value]| {
            xs.iter().fold(0u64, |s, v| {
                s.wrapping_add(v.as_int().map_or(u64::MAX, |x| x as u64))
            }) as i64
        };
        for (mode, parallelism) in [("dynamic_sequential", 1), ("dynamic_par2", 2)] {
            let mut dynamic = heavy_dynamic(parallelism, &registry)?;
            self.parallel_case(mode, expected, || {
                Ok(value_sum(
                    &dynamic.run_values((0..items as i64).map(Value::Int))?,
                ))
            })?;
        }
        Ok(())
    }

    fn parallel_case(
        &mut self,
        mode: &'static str,
        expected: i64,
        mut run: impl FnMut() -> pipeline::Result<i64>,
    ) -> pipeline::Result<()> {
        let load_average = super::machine::load_average();
        verify("parallel", mode, run()?, expected)?;
        let seconds = median_seconds(
            &mut |n| {
                repeat(n, || {
                    black_box(run()?);
                    Ok(())
                })
            },
            self.budget,
        )?;
        self.measurements.push(Measurement {
            workload: "parallel",
            mode,
            metric: Metric::Micros,
            value: seconds * 1e6,
            peak_rss_bytes: None,
            worker_peak_rss_bytes: None,
            load_average,
        });
        Ok(())
    }

    /// The complex manifest from JSON text to a runnable pipeline, and from an already parsed
    /// manifest (parsing done outside the timing, as the seed's 4.12 µs figure did).
    pub fn construction(&mut self) -> pipeline::Result<()> {
        let registry = &self.registry;
        let from_json = median_seconds(
            &mut |n| {
                repeat(n, || {
                    black_box(workloads::dynamic(COMPLEX_MANIFEST, registry)?);
                    Ok(())
                })
            },
            self.budget,
        )?;
        let parsed = manifest::parse("complex", COMPLEX_MANIFEST)
            .map_err(|e| pipeline::Error::new(pipeline::ErrorKind::Graph, e))?;
        let from_parsed = median_seconds(
            &mut |n| {
                let mut copies: Vec<_> = (0..n).map(|_| parsed.clone()).collect();
                let start = Instant::now();
                for copy in copies.drain(..) {
                    let lowered = manifest::lower(copy, registry)
                        .map_err(|e| pipeline::Error::new(pipeline::ErrorKind::Graph, e))?;
                    black_box(build(lowered, BuildOptions::default()));
                }
                Ok(start.elapsed())
            },
            self.budget,
        )?;
        for (mode, seconds) in [("from_json", from_json), ("from_parsed", from_parsed)] {
            self.measurements.push(Measurement {
                workload: "construction",
                mode,
                metric: Metric::Micros,
                value: seconds * 1e6,
                peak_rss_bytes: None,
                worker_peak_rss_bytes: None,
                load_average: None,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_puts_a_boundary_before_every_node() {
        let registry = Registry::with_builtins();
        let p = workloads::dynamic(&staged(SIMPLE_MANIFEST), &registry).unwrap();
        assert_eq!(p.describe().stage_count(), 4);
    }

    #[test]
    fn a_wrong_checksum_is_an_error_not_a_figure() {
        let mut bench = Bench::new(Duration::from_millis(1));
        let w = &RUN_WORKLOADS[0];
        let err = bench
            .typed_case(w, "broken", |xs| Ok(xs.to_vec()))
            .unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        assert!(bench.measurements.is_empty());
    }
}
