//! `pipeline bench`: the seed's benchmark table made honest — every workload in every mode, the
//! CPython baseline launched in the same run, every checksum verified before a figure is printed.

mod cases;
mod cli_cases;
mod cpython;
#[cfg(feature = "distributed")]
mod distributed_case;
mod machine;
mod measure;
mod memory;
#[cfg(feature = "python")]
mod python_cases;
mod report;
mod seed;
mod targets;

use super::CliError;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// About 0.1 s per case instead of 1 s (the whole run stays under ~20 s after the build).
    #[arg(long)]
    quick: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// Seconds to spend on each case (overrides --quick).
    #[arg(long, value_name = "SECONDS")]
    budget: Option<f64>,
    /// Only the throughput workload (its `distributed` modes beside the local ones): to measure
    /// the process boundary without the whole table.
    #[arg(long)]
    throughput_only: bool,
}

/// Runs every case and prints the table or the JSON document.
pub fn run(args: BenchArgs) -> Result<ExitCode, CliError> {
    let budget = args
        .budget
        .unwrap_or(if args.quick { 0.1 } else { 1.0 })
        .max(0.001);
    if !args.json {
        let baseline = if args.quick {
            "runs afterwards"
        } else {
            "runs before and after, the faster run counts"
        };
        eprintln!("measuring (~{budget} s per case; CPython baseline {baseline}) ...");
    }
    // A full run also measures the baseline before the Rust cases and counts the faster run; `--quick`
    // measures it once, to stay quick.
    let cpython_before = (!args.quick).then(|| cpython::run(false));
    let mut bench = cases::Bench::new(Duration::from_secs_f64(budget));
    // Throughput first: its peak RSS must not include interpreters the Python modes leave resident.
    bench.throughput().map_err(CliError::Pipeline)?;
    if args.throughput_only {
        let results = report::Results {
            date: today(),
            machine: machine(),
            budget_s: budget,
            measurements: bench.measurements,
            cpython: Err("not measured (--throughput-only)".into()),
            missing: bench.missing,
            verdicts: Vec::new(),
        };
        return print(args.json, results);
    }
    bench.runs().map_err(CliError::Pipeline)?;
    bench.construction().map_err(CliError::Pipeline)?;
    bench.parallel().map_err(CliError::Pipeline)?;
    cli_cases::cases(args.quick, &mut bench.measurements, &mut bench.missing)
        .map_err(|why| CliError::Pipeline(pipeline::Error::msg(why)))?;
    let cpython = cpython::run(args.quick).and_then(|(version, after)| match cpython_before {
        Some(before) => Ok((version, cpython::fastest(before?.1, after))),
        None => Ok((version, after)),
    });
    if let Err(why) = &cpython {
        for workload in [
            "simple",
            "complex",
            "scaling_10",
            "scaling_1000",
            "throughput",
        ] {
            bench.missing.push(cases::Missing {
                workload,
                mode: "cpython",
                reason: why.clone(),
            });
        }
    }
    let cpython = cpython.and_then(|(version, results)| {
        verify_cpython(&results)?;
        Ok((version, results))
    });
    let results = report::Results {
        date: today(),
        machine: machine(),
        budget_s: budget,
        measurements: bench.measurements,
        cpython,
        missing: bench.missing,
        verdicts: Vec::new(),
    };
    print(args.json, results)
}

/// `2 cores, x86_64`.
fn machine() -> String {
    format!(
        "{} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    )
}

/// Judges the goals the figures of `results` speak to (all of them after a full run; those of
/// the throughput workload after `--throughput-only`) and prints the table or the JSON document.
fn print(json: bool, mut results: report::Results) -> Result<ExitCode, CliError> {
    let cpython_figure = |w: &str| results.cpython_figure(w);
    let mut verdicts = targets::check(&targets::Figures {
        measurements: &results.measurements,
        cpython: &cpython_figure,
    });
    if results
        .measurements
        .iter()
        .all(|m| m.workload == "throughput")
    {
        verdicts.retain(|v| v.case.starts_with("throughput/"));
    }
    results.verdicts = verdicts;
    if json {
        println!("{}", report::json(&results));
    } else {
        print!("{}", report::table(&results));
    }
    Ok(ExitCode::SUCCESS)
}

/// CPython ran the same workloads: its checksums must be ours.
fn verify_cpython(
    results: &std::collections::BTreeMap<String, cpython::CpythonResult>,
) -> Result<(), String> {
    use pipeline::workloads::{expected_checksum, COMPLEX_ADDS, SIMPLE_ADDS};
    let expected = [
        ("simple", expected_checksum(100, SIMPLE_ADDS)),
        ("complex", expected_checksum(100, COMPLEX_ADDS)),
        ("scaling_10", expected_checksum(10, SIMPLE_ADDS)),
        ("scaling_1000", expected_checksum(1000, SIMPLE_ADDS)),
        (
            "throughput",
            expected_checksum(cases::THROUGHPUT_ITEMS as i64, SIMPLE_ADDS),
        ),
    ];
    for (workload, checksum) in expected {
        let got = results.get(workload).map(|r| r.checksum);
        if got != Some(checksum) {
            return Err(format!(
                "the CPython baseline's {workload} checksum is {got:?}, expected {checksum}"
            ));
        }
    }
    Ok(())
}

/// Today's UTC date, `YYYY-MM-DD` (civil-from-days, no date crate needed for one line).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn today_is_a_plausible_date() {
        let d = super::today();
        assert_eq!(d.len(), 10);
        assert!(d.as_str() >= "2024-01-01", "{d}");
    }
}
