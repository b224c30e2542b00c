//! The state of the machine a figure was taken on.

/// The one-minute load average (`/proc/loadavg`, Linux), if the platform reports it.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn the_load_average_is_read() {
        let load = super::load_average().expect("/proc/loadavg");
        assert!(load >= 0.0 && load.is_finite(), "{load}");
    }
}
