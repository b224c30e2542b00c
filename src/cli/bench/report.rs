//! The results as a seed-style table, or as one JSON document.

use super::cases::{Measurement, Metric, Missing};
use super::cpython::CpythonResult;
use super::targets::Verdict;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Everything one `pipeline bench` run found.
pub struct Results {
    /// UTC date of the run.
    pub date: String,
    /// `2 cores, x86_64`.
    pub machine: String,
    /// Seconds spent per case.
    pub budget_s: f64,
    /// Rust figures.
    pub measurements: Vec<Measurement>,
    /// CPython's version and figures, or why there are none.
    pub cpython: Result<(String, BTreeMap<String, CpythonResult>), String>,
    /// Cases that could not run.
    pub missing: Vec<Missing>,
    /// The goals, judged.
    pub verdicts: Vec<Verdict>,
}

impl Results {
    /// CPython's figure for a workload: µs per run, or items/s for throughput and the `cli`
    /// workloads (whose CPython json-lines loop is measured among the cases, as `cpython_loop`).
    pub fn cpython_figure(&self, workload: &str) -> Option<f64> {
        if let Some(lines) = self
            .measurements
            .iter()
            .find(|m| m.workload == workload && m.mode == "cpython_loop")
        {
            return Some(lines.value);
        }
        let result = self.cpython.as_ref().ok()?.1.get(workload)?;
        if workload == "throughput" {
            result.items_per_s
        } else {
            result.micros
        }
    }

    /// How many times faster than CPython a figure is.
    fn versus_cpython(&self, m: &Measurement) -> Option<f64> {
        let c = self.cpython_figure(m.workload)?;
        Some(match m.metric {
            Metric::Micros => c / m.value,
            Metric::ItemsPerSecond => m.value / c,
        })
    }
}

fn figure(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Micros if value < 10.0 => format!("{value:.3} µs"),
        Metric::Micros => format!("{value:.1} µs"),
        Metric::ItemsPerSecond if value < 10e6 => format!("{:.2} M items/s", value / 1e6),
        Metric::ItemsPerSecond => format!("{:.1} M items/s", value / 1e6),
    }
}

/// The seed-style table.
pub fn table(r: &Results) -> String {
    let mut s = String::new();
    let python = match &r.cpython {
        Ok((version, _)) => format!("CPython {version}"),
        Err(why) => format!("no CPython ({why})"),
    };
    let _ = writeln!(
        s,
        "pipeline bench — {}, {}, {python}, ~{:.1} s per case, medians\n",
        r.date, r.machine, r.budget_s
    );
    let _ = writeln!(
        s,
        "{:<13} {:<23} {:>18} {:>14}   seed 2025 (other machine, other workload)",
        "workload", "mode", "median", "× vs CPython"
    );
    let mut last_workload = "";
    let mut rows: Vec<(&str, &str, String, String, String)> = Vec::new();
    for m in &r.measurements {
        let versus = r
            .versus_cpython(m)
            .map_or("—".to_string(), |x| format!("{x:.1}×"));
        let mut note = String::new();
        if m.workload != last_workload {
            if let Some((py, rust)) = super::seed::figures(m.workload) {
                note = match py {
                    Some(py) => format!("python {py} µs, rust {rust} µs (mean)"),
                    None => format!("rust {rust} µs (from parsed)"),
                };
            }
        }
        if let Some(rss) = m.peak_rss_bytes {
            note = format!("peak RSS {:.1} MB", rss as f64 / 1e6);
            if let Some(worker) = m.worker_peak_rss_bytes {
                note += &format!(" here, {:.1} MB on the worker", worker as f64 / 1e6);
            }
        }
        if let Some(load) = m.load_average {
            note = format!("load average {load:.2} at start");
        }
        last_workload = m.workload;
        rows.push((m.workload, m.mode, figure(m.metric, m.value), versus, note));
        let next_is_other = r
            .measurements
            .iter()
            .skip_while(|x| !std::ptr::eq(*x, m))
            .nth(1)
            .is_none_or(|x| x.workload != m.workload);
        let measured_here = m.mode == "cpython_loop";
        if next_is_other && !measured_here {
            if let Some(c) = r.cpython_figure(m.workload) {
                let metric = if m.workload == "throughput" {
                    Metric::ItemsPerSecond
                } else {
                    Metric::Micros
                };
                rows.push((
                    m.workload,
                    "cpython",
                    figure(metric, c),
                    "1.0×".into(),
                    String::new(),
                ));
            }
        }
    }
    for (workload, mode, median, versus, note) in rows {
        let _ = writeln!(
            s,
            "{workload:<13} {mode:<23} {median:>18} {versus:>14}   {note}"
        );
    }
    if !r.missing.is_empty() {
        let _ = writeln!(s, "\nmissing (not run, not estimated):");
        for m in &r.missing {
            let _ = writeln!(s, "  {}/{}: {}", m.workload, m.mode, m.reason);
        }
    }
    let _ = writeln!(s, "\ngoals (benchmark issue):");
    // Columns as wide as their longest entry.
    let case_width = r.verdicts.iter().map(|v| v.case.chars().count()).max();
    let goal_width = r.verdicts.iter().map(|v| v.goal.chars().count()).max();
    let (case_width, goal_width) = (case_width.unwrap_or(0), goal_width.unwrap_or(0));
    for v in &r.verdicts {
        let mark = if v.met { "met " } else { "MISS" };
        let measured = v.measured.as_deref().unwrap_or("no figure");
        let _ = writeln!(
            s,
            "  [{mark}] {:<case_width$} {:<goal_width$} {measured}",
            v.case, v.goal
        );
    }
    s
}

/// One JSON document: `{"workloads": {"<workload>": {"<mode>_us": median, ...}}, ...}`; throughput
/// figures are `"<mode>_items_per_s"`, with `"<mode>_peak_rss_bytes"` beside them (and
/// `"<mode>_worker_peak_rss_bytes"` for the distributed cases); parallel
/// cases have `"<mode>_load_average"`.
pub fn json(r: &Results) -> serde_json::Value {
    let mut workloads: BTreeMap<String, serde_json::Map<String, serde_json::Value>> =
        BTreeMap::new();
    for m in &r.measurements {
        let entry = workloads.entry(m.workload.to_string()).or_default();
        let key = match m.metric {
            Metric::Micros => format!("{}_us", m.mode),
            Metric::ItemsPerSecond => format!("{}_items_per_s", m.mode),
        };
        entry.insert(key, m.value.into());
        if let Some(rss) = m.worker_peak_rss_bytes {
            entry.insert(format!("{}_worker_peak_rss_bytes", m.mode), rss.into());
        }
        if let Some(rss) = m.peak_rss_bytes {
            entry.insert(format!("{}_peak_rss_bytes", m.mode), rss.into());
        }
        if let Some(load) = m.load_average {
            entry.insert(format!("{}_load_average", m.mode), load.into());
        }
    }
    if let Ok((_, cpython)) = &r.cpython {
        for (workload, c) in cpython {
            let entry = workloads.entry(workload.clone()).or_default();
            if let Some(us) = c.micros {
                entry.insert("cpython_us".into(), us.into());
            }
            if let Some(ips) = c.items_per_s {
                entry.insert("cpython_items_per_s".into(), ips.into());
            }
        }
    }
    serde_json::json!({
        "date": r.date,
        "machine": r.machine,
        "cpython": match &r.cpython {
            Ok((version, _)) => serde_json::json!({"version": version}),
            Err(why) => serde_json::json!({"missing": why}),
        },
        "workloads": workloads,
        "missing": r.missing.iter().map(|m| serde_json::json!({
            "workload": m.workload, "mode": m.mode, "reason": m.reason,
        })).collect::<Vec<_>>(),
        "goals": r.verdicts.iter().map(|v| serde_json::json!({
            "case": v.case, "goal": v.goal, "measured": v.measured, "met": v.met,
        })).collect::<Vec<_>>(),
    })
}
