//! This process's peak resident memory, which a worker reports with its `Done` (a benchmark of a
//! run across processes measures every process, not only the local one).

/// The most resident memory this process has used since it started, in bytes (`getrusage`'s
/// `ru_maxrss`); `None` where it is not known. A long-lived worker's peak covers every run it
/// served, not only the last.
///
/// ```
/// if cfg!(target_os = "linux") {
///     assert!(pipeline_core::distributed::peak_rss_bytes().unwrap() > 0);
/// }
/// ```
pub fn peak_rss_bytes() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `getrusage` writes a `rusage` into the pointer it is given, which is valid for it.
        let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
        if status != 0 {
            return None;
        }
        // SAFETY: `getrusage` succeeded, so it initialised the struct (and it was zeroed before).
        let max_rss = unsafe { usage.assume_init() }.ru_maxrss;
        let max_rss = u64::try_from(max_rss).ok()?;
        // Kilobytes on Linux and the BSDs, bytes on macOS.
        if cfg!(target_os = "macos") {
            Some(max_rss)
        } else {
            Some(max_rss * 1024)
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_peak_grows_with_memory_touched() {
        let Some(before) = super::peak_rss_bytes() else {
            return;
        };
        // 64 MiB written (so resident), more than any test thread's peak so far.
        let block = vec![1u8; 64 << 20];
        assert!(block.iter().step_by(4096).all(|&b| b == 1));
        let after = super::peak_rss_bytes().unwrap();
        assert!(after >= before.max(64 << 20), "{before} -> {after}");
    }
}
