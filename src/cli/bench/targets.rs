//! The goals the benchmark issue set, checked against one run's figures. A miss is printed as a
//! miss, with the figure.

use super::cases::Measurement;

/// One goal and how this run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// `simple/static_fused`, ...
    pub case: String,
    /// The goal in words.
    pub goal: &'static str,
    /// What was measured, in words; `None` when a figure is missing.
    pub measured: Option<String>,
    /// Whether the goal is met.
    pub met: bool,
}

/// The figures of one run, looked up by workload and mode.
pub struct Figures<'a> {
    /// Rust figures.
    pub measurements: &'a [Measurement],
    /// CPython µs per run by workload, and items/s for throughput.
    pub cpython: &'a dyn Fn(&str) -> Option<f64>,
}

impl Figures<'_> {
    fn get(&self, workload: &str, mode: &str) -> Option<&Measurement> {
        self.measurements
            .iter()
            .find(|m| m.workload == workload && m.mode == mode)
    }

    /// CPython's time divided by the mode's: how many times faster the mode is.
    fn speedup(&self, workload: &str, mode: &str) -> Option<f64> {
        Some((self.cpython)(workload)? / self.get(workload, mode)?.value)
    }
}

fn verdict(case: &str, goal: &'static str, measured: Option<(String, bool)>) -> Verdict {
    let (measured, met) = match measured {
        Some((text, met)) => (Some(text), met),
        None => (None, false),
    };
    Verdict {
        case: case.to_string(),
        goal,
        measured,
        met,
    }
}

/// A speed-up as printed against an "at least" goal: whole numbers from 10 up, one decimal below,
/// rounded down, so a miss never reads as the goal (199.6 against 200 prints "199", 1.96 against
/// 2 prints "1.9").
fn ratio(x: f64) -> String {
    if x >= 10.0 {
        format!("{}", x.floor())
    } else {
        format!("{:.1}", (x * 10.0).floor() / 10.0)
    }
}

/// A slow-down as printed against an "at most" goal: one decimal, rounded up, so 8.04 against 8
/// prints "8.1".
fn slowdown(x: f64) -> String {
    format!("{:.1}", (x * 10.0).ceil() / 10.0)
}

/// A change in time as printed against an "at most" goal: whole percent, rounded up, signed, so
/// 10.2% against 10% prints "+11%" and a run 3.4% quicker prints "−3%".
fn percent(change: f64) -> String {
    let whole = (change * 100.0).ceil();
    match whole {
        w if w > 0.0 => format!("+{w}%"),
        w if w < 0.0 => format!("−{}%", -w),
        _ => "+0%".to_string(),
    }
}

/// Every goal of the benchmark issue.
pub fn check(f: &Figures<'_>) -> Vec<Verdict> {
    let faster = |workload: &str, mode: &str, at_least: f64| {
        f.speedup(workload, mode)
            .map(|x| (format!("{}× faster than CPython", ratio(x)), x >= at_least))
    };
    // A floor the hand-written loop itself misses in this run (a fast CPython) says so: no
    // generated code beats the loop it is compared with.
    let fused_floor = |workload: &str, at_least: f64| {
        faster(workload, "static_fused", at_least).map(|(text, met)| {
            match f.speedup(workload, "hand_loop").filter(|&x| x < at_least) {
                Some(x) if !met => (
                    format!("{text} (the hand-written loop: {}×)", ratio(x)),
                    met,
                ),
                _ => (text, met),
            }
        })
    };
    let mut verdicts = vec![
        verdict(
            "simple/static_fused",
            "≥ 200× faster than CPython",
            fused_floor("simple", 200.0),
        ),
        verdict(
            "simple/static_fused",
            "within 2× of the hand-written loop",
            f.get("simple", "static_fused")
                .zip(f.get("simple", "hand_loop"))
                .map(|(s, h)| {
                    let ratio = s.value / h.value;
                    (format!("{ratio:.2}× the hand-written loop"), ratio <= 2.0)
                }),
        ),
        verdict(
            "complex/static_fused",
            "≥ 300× faster than CPython",
            fused_floor("complex", 300.0),
        ),
        verdict(
            "simple/dynamic",
            "≥ 20× faster than CPython",
            faster("simple", "dynamic", 20.0),
        ),
        verdict(
            "complex/dynamic",
            "≥ 20× faster than CPython",
            faster("complex", "dynamic", 20.0),
        ),
        verdict(
            "simple/dynamic_cold",
            "≥ 10× faster than CPython",
            faster("simple", "dynamic_cold", 10.0),
        ),
    ];
    let at_most = |mode: &str, limit: f64| {
        f.get("construction", mode)
            .map(|m| (format!("{:.2} µs", m.value), m.value <= limit))
    };
    verdicts.push(verdict(
        "construction/from_json",
        "≤ 5 µs (aim ≤ 3)",
        at_most("from_json", 5.0),
    ));
    verdicts.push(verdict(
        "construction/from_parsed",
        "≤ 2 µs (aim ≤ 1)",
        at_most("from_parsed", 2.0),
    ));
    let rate = |mode: &str, at_least: f64| {
        f.get("throughput", mode).map(|m| {
            (
                format!("{:.1} M items/s", m.value / 1e6),
                m.value >= at_least,
            )
        })
    };
    verdicts.push(verdict(
        "throughput/static_threaded",
        "≥ 150 M items/s",
        rate("static_threaded", 150e6),
    ));
    verdicts.push(verdict(
        "throughput/static_threaded",
        "peak RSS ≤ 20 MB",
        f.get("throughput", "static_threaded")
            .and_then(|m| m.peak_rss_bytes)
            .map(|b| (format!("{:.1} MB", b as f64 / 1e6), b as f64 <= 20e6)),
    ));
    verdicts.push(verdict(
        "throughput/dynamic_threaded",
        "≥ 30 M items/s",
        rate("dynamic_threaded", 30e6),
    ));
    verdicts.push(verdict(
        "throughput/distributed",
        "≥ 5 M items/s across a process boundary (aim)",
        rate("distributed", 5e6),
    ));
    verdicts.push(verdict(
        "simple/python",
        "isolated: ≤ 10× CPython's time",
        f.speedup("simple", "python").map(|x| {
            (
                format!("{}× CPython's time", slowdown(1.0 / x)),
                1.0 / x <= 10.0,
            )
        }),
    ));
    verdicts.push(verdict(
        "simple/python_in_process",
        "≤ 8× CPython's time (stretch ≤ 4×)",
        f.speedup("simple", "python_in_process").map(|x| {
            (
                format!("{}× CPython's time", slowdown(1.0 / x)),
                1.0 / x <= 8.0,
            )
        }),
    ));
    verdicts.push(verdict(
        "simple/python_sdl",
        "≥ 20× faster than CPython",
        faster("simple", "python_sdl", 20.0),
    ));
    for (workload, goal, at_least) in [
        ("cli_ints", "≥ 50× CPython's json-lines loop", 50.0),
        ("cli_objects", "≥ 15× CPython's json-lines loop", 15.0),
    ] {
        let x = f
            .get(workload, "pipeline_run")
            .zip(f.get(workload, "cpython_loop"))
            .map(|(ours, baseline)| ours.value / baseline.value);
        verdicts.push(verdict(
            &format!("{workload}/pipeline_run"),
            goal,
            x.map(|x| (format!("{}× the loop", ratio(x)), x >= at_least)),
        ));
    }
    // What `--stats` and `--tag` cost, and a staged manifest against the fused one: each mode's
    // median time over the plain run's, in the same rounds.
    for workload in ["cli_ints", "cli_objects"] {
        for (mode, goal, at_most) in [
            (
                "pipeline_run_stats",
                "costs ≤ 10% of the plain run's time",
                0.10,
            ),
            (
                "pipeline_run_tag",
                "costs ≤ 10% of the plain run's time",
                0.10,
            ),
            ("pipeline_run_staged", "no slower than the fused run", 0.0),
        ] {
            let cost = f
                .get(workload, "pipeline_run")
                .zip(f.get(workload, mode))
                .map(|(plain, other)| plain.value / other.value - 1.0);
            verdicts.push(verdict(
                &format!("{workload}/{mode}"),
                goal,
                cost.map(|cost| (format!("{} time", percent(cost)), cost <= at_most)),
            ));
        }
    }
    for (side, case) in [
        ("static", "parallel/static_par2"),
        ("dynamic", "parallel/dynamic_par2"),
    ] {
        verdicts.push(verdict(
            case,
            "≥ 1.8× sequential (idle 2 cores)",
            parallel_speedup(f, side),
        ));
    }
    verdicts
}

/// How much faster two replicas ran than one, with the load average the replicas' case started
/// under (a loaded machine has no idle core to give them).
fn parallel_speedup(f: &Figures<'_>, side: &str) -> Option<(String, bool)> {
    let sequential = f.get("parallel", &format!("{side}_sequential"))?;
    let par2 = f.get("parallel", &format!("{side}_par2"))?;
    let x = sequential.value / par2.value;
    let load = par2
        .load_average
        .map_or(String::new(), |load| format!(" (load average {load:.2})"));
    Some((format!("{}× sequential{load}", ratio(x)), x >= 1.8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::bench::cases::Metric;

    fn m(workload: &'static str, mode: &'static str, value: f64) -> Measurement {
        Measurement {
            workload,
            mode,
            metric: Metric::Micros,
            value,
            peak_rss_bytes: None,
            worker_peak_rss_bytes: None,
            load_average: None,
        }
    }

    #[test]
    fn goals_are_judged_from_the_figures() {
        let measurements = [
            m("simple", "static_fused", 0.1),
            m("simple", "hand_loop", 0.04),
            m("simple", "dynamic_cold", 18.3),
        ];
        let cpython = |w: &str| (w == "simple").then_some(30.0);
        let verdicts = check(&Figures {
            measurements: &measurements,
            cpython: &cpython,
        });
        let fused = &verdicts[0];
        assert!(fused.met, "{fused:?}");
        assert_eq!(fused.measured.as_deref(), Some("300× faster than CPython"));
        let floor = &verdicts[1];
        assert!(!floor.met, "2.5× the loop misses the 2× goal: {floor:?}");
        let missing = verdicts.iter().find(|v| v.case == "simple/python").unwrap();
        let cold = verdicts
            .iter()
            .find(|v| v.case == "simple/dynamic_cold")
            .unwrap();
        assert!(!cold.met, "{cold:?}");
        assert_eq!(cold.measured.as_deref(), Some("1.6× faster than CPython"));
        assert!(!missing.met && missing.measured.is_none());
    }

    #[test]
    fn a_fused_floor_missed_by_the_hand_written_loop_too_says_so() {
        let judge = |hand_loop: f64| {
            let measurements = [
                m("simple", "static_fused", 0.081),
                m("simple", "hand_loop", hand_loop),
            ];
            let cpython = |w: &str| (w == "simple").then_some(15.1);
            check(&Figures {
                measurements: &measurements,
                cpython: &cpython,
            })
            .remove(0)
        };
        let both_short = judge(0.080);
        assert!(!both_short.met, "{both_short:?}");
        assert_eq!(
            both_short.measured.as_deref(),
            Some("186× faster than CPython (the hand-written loop: 188×)")
        );
        // A loop that reaches the floor leaves the miss to the generated code alone.
        let loop_fast = judge(0.070);
        assert_eq!(
            loop_fast.measured.as_deref(),
            Some("186× faster than CPython")
        );
    }

    #[test]
    fn two_replicas_are_judged_against_one_with_the_load_they_ran_under() {
        let par2 = |value, load| Measurement {
            load_average: Some(load),
            ..m("parallel", "static_par2", value)
        };
        let judge = |measurements: &[Measurement]| {
            let cpython = |_: &str| None;
            check(&Figures {
                measurements,
                cpython: &cpython,
            })
            .into_iter()
            .find(|v| v.case == "parallel/static_par2")
            .unwrap()
        };
        let idle = judge(&[m("parallel", "static_sequential", 100.0), par2(52.0, 0.31)]);
        assert!(idle.met, "{idle:?}");
        assert_eq!(
            idle.measured.as_deref(),
            Some("1.9× sequential (load average 0.31)")
        );
        let loaded = judge(&[m("parallel", "static_sequential", 100.0), par2(95.0, 3.1)]);
        assert!(!loaded.met, "{loaded:?}");
        let missing = judge(&[par2(52.0, 0.3)]);
        assert!(!missing.met && missing.measured.is_none());
    }

    #[test]
    fn what_stats_tag_and_a_staged_run_cost_is_judged_against_the_plain_run() {
        let rate = |mode, value| Measurement {
            metric: Metric::ItemsPerSecond,
            ..m("cli_ints", mode, value)
        };
        let measurements = [
            rate("pipeline_run", 60.0e6),
            rate("pipeline_run_stats", 58.0e6),
            rate("pipeline_run_tag", 40.0e6),
            rate("pipeline_run_staged", 61.0e6),
        ];
        let cpython = |_: &str| None;
        let verdicts = check(&Figures {
            measurements: &measurements,
            cpython: &cpython,
        });
        let of = |case: &str| verdicts.iter().find(|v| v.case == case).unwrap().clone();
        let stats = of("cli_ints/pipeline_run_stats");
        assert!(stats.met, "{stats:?}");
        assert_eq!(stats.measured.as_deref(), Some("+4% time"));
        let tag = of("cli_ints/pipeline_run_tag");
        assert!(!tag.met, "{tag:?}");
        assert_eq!(tag.measured.as_deref(), Some("+50% time"));
        let staged = of("cli_ints/pipeline_run_staged");
        assert!(staged.met, "a quicker staged run: {staged:?}");
        assert_eq!(staged.measured.as_deref(), Some("−1% time"));
        let missing = of("cli_objects/pipeline_run_tag");
        assert!(!missing.met && missing.measured.is_none());
    }

    #[test]
    fn a_printed_figure_never_rounds_across_its_goal() {
        assert_eq!(ratio(199.6), "199");
        assert_eq!(ratio(1.96), "1.9");
        assert_eq!(ratio(329.2), "329");
        assert_eq!(slowdown(8.04), "8.1");
        assert_eq!(slowdown(7.8), "7.8");
        assert_eq!(percent(0.102), "+11%");
        assert_eq!(percent(0.1), "+10%");
        assert_eq!(percent(-0.034), "−3%");
    }
}
