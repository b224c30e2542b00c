//! The flags of running across machines, shared by `run`, `plan` (`--hosts`, ...) and
//! `pipeline worker` (`--token-file`, `--connect-timeout`).

use super::CliError;
use pipeline::distributed::{
    self, Cluster, ClusterOptions, HostsFile, Secret, DEFAULT_CONNECT_ATTEMPTS,
};
use std::path::PathBuf;
use std::time::Duration;

/// The cluster token's source.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// The cluster token (a shared secret; the same file on every host, mode 0600). Default:
    /// $PIPELINE_TOKEN if set, else ~/.pipeline/token, created with a random token if missing.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

impl TokenArgs {
    /// This process's token.
    pub fn secret(&self) -> Result<Secret, CliError> {
        Ok(Secret::load(self.token_file.as_deref())?)
    }
}

/// `--hosts FILE` and the limits of a run across machines (flatten into a subcommand's args).
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Run across the `pipeline worker`s listed in FILE: one `host:port` per line, `#` comments.
    /// This process is part of the run: it reads the input and writes the outputs.
    #[arg(long, value_name = "FILE")]
    pub hosts: Option<PathBuf>,
    #[command(flatten)]
    pub token: TokenArgs,
    /// A worker that sends nothing (not even its heartbeat, every 200 ms) for this many
    /// seconds fails the run (a stopped or hung machine).
    #[arg(long, value_name = "SECONDS", value_parser = seconds,
          default_value = "10")]
    pub worker_timeout: Duration,
    /// Time for one attempt to connect to a worker (3 attempts), and for each step of a run's
    /// setup, in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = seconds,
          default_value = "5")]
    pub connect_timeout: Duration,
}

/// Parses a positive number of seconds (fractions allowed), at most a day.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(value > 0.0 && value <= 86_400.0) {
        return Err(format!("`{text}` is not between 0 and 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(value))
}

impl ClusterArgs {
    /// The limits these flags set.
    pub fn options(&self) -> ClusterOptions {
        ClusterOptions {
            connect_timeout: self.connect_timeout,
            connect_attempts: DEFAULT_CONNECT_ATTEMPTS,
            worker_timeout: self.worker_timeout,
            ..ClusterOptions::default()
        }
    }

    /// The hosts file, when `--hosts` was given.
    pub fn hosts_file(&self) -> Result<Option<HostsFile>, CliError> {
        match &self.hosts {
            None => Ok(None),
            Some(path) => Ok(Some(HostsFile::read(path)?)),
        }
    }

    /// Connects to the listed workers (token checked both ways), when `--hosts` was given.
    pub fn connect(&self) -> Result<Option<Cluster>, CliError> {
        let Some(hosts) = self.hosts_file()? else {
            return Ok(None);
        };
        let secret = self.token.secret()?;
        Ok(Some(distributed::connect(
            &hosts,
            &secret,
            &self.options(),
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_positive_and_bounded() {
        assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert!(seconds("0").is_err());
        assert!(seconds("-1").is_err());
        assert!(seconds("NaN").is_err());
        assert!(seconds("1e9").is_err());
        assert!(seconds("ten").unwrap_err().contains("not a number"));
    }

    #[test]
    fn the_flags_defaults_are_the_librarys() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            cluster: ClusterArgs,
        }
        let flags = Flags::parse_from(["test"]);
        assert_eq!(flags.cluster.options(), ClusterOptions::default());
    }
}
