//! The harness: warm up, then time samples of several iterations each until the budget is spent, and
//! take the median per iteration. Samples are long enough (≥ ~50 µs) for the clock to be exact, and
//! the median keeps a noisy, shared 2-core machine's hiccups out of the figure.

use std::time::{Duration, Instant};

/// What a case is timed by: `timed(iterations)` runs that many iterations and returns the time spent
/// in the part being measured (set-up that must not count, such as cloning inputs, happens outside).
pub type Timed<'a> = dyn FnMut(u64) -> pipeline::Result<Duration> + 'a;

/// Median seconds per iteration.
pub fn median_seconds(timed: &mut Timed<'_>, budget: Duration) -> pipeline::Result<f64> {
    // Warm up and estimate one iteration.
    let mut iterations = 1u64;
    let warm_up_until = Instant::now() + budget / 10;
    let mut estimate;
    loop {
        estimate = timed(iterations)?.as_secs_f64() / iterations as f64;
        if Instant::now() >= warm_up_until {
            break;
        }
        if estimate * (iterations as f64) < 50e-6 {
            iterations = iterations.saturating_mul(2);
        }
    }
    let per_sample = ((50e-6 / estimate.max(1e-9)).ceil() as u64).max(1);
    let mut samples = Vec::new();
    let deadline = Instant::now() + budget;
    while samples.len() < 5 || (Instant::now() < deadline && samples.len() < 100_000) {
        let spent = timed(per_sample)?;
        samples.push(spent.as_secs_f64() / per_sample as f64);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

/// Times `iterations` calls of `f`.
pub fn repeat(
    iterations: u64,
    mut f: impl FnMut() -> pipeline::Result<()>,
) -> pipeline::Result<Duration> {
    let start = Instant::now();
    for _ in 0..iterations {
        f()?;
    }
    Ok(start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_reflects_the_work() {
        // A case whose iterations sleep 200 µs: the median must be at least that (sleeps never
        // return early), whatever the machine's load.
        let mut timed = |n: u64| {
            repeat(n, || {
                std::thread::sleep(Duration::from_micros(200));
                Ok(())
            })
        };
        let median = median_seconds(&mut timed, Duration::from_millis(20)).unwrap();
        assert!(median >= 200e-6, "{median}");
    }
}
