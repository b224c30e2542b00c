//! The time and size limits of a run across processes, with their defaults.

use std::time::Duration;

/// Default of [`ClusterOptions::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of [`ClusterOptions::connect_attempts`].
pub const DEFAULT_CONNECT_ATTEMPTS: u32 = 3;
/// Default of [`ClusterOptions::worker_timeout`].
pub const DEFAULT_WORKER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often every process of a run tells the others it is alive.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(200);
/// Default of [`ClusterOptions::max_message_bytes`]: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Limits of the connections between the processes of a run.
///
/// ```
/// use pipeline_core::distributed::ClusterOptions;
/// use std::time::Duration;
/// let options = ClusterOptions { worker_timeout: Duration::from_secs(3), ..ClusterOptions::default() };
/// assert_eq!(options.connect_attempts, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterOptions {
    /// How long one attempt to connect (TCP connect plus the token handshake) may take, and how
    /// long a process waits for each step of a run's setup.
    pub connect_timeout: Duration,
    /// How many times a connection is attempted before the run fails (no endless retry).
    pub connect_attempts: u32,
    /// A process that sends nothing (not even its heartbeat, every [`HEARTBEAT_INTERVAL`]) for
    /// this long is taken as lost (a stopped process is never detected otherwise).
    pub worker_timeout: Duration,
    /// The largest control message accepted (a manifest with its files is the largest).
    pub max_message_bytes: usize,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            connect_attempts: DEFAULT_CONNECT_ATTEMPTS,
            worker_timeout: DEFAULT_WORKER_TIMEOUT,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}
