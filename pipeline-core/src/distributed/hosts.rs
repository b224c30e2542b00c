//! The hosts file: the workers of a run, one `host:port` per line.
//!
//! Its order numbers the processes: the local process is 0, the first listed worker 1, and so
//! on. These addresses are the only ones any process of a run contacts.

use crate::{Error, ErrorKind, Result};
use std::path::Path;

/// The workers of a cluster, in the order of the hosts file.
///
/// ```
/// use pipeline_core::distributed::HostsFile;
/// let hosts = HostsFile::parse("# GPU box\n10.0.0.7:7001\n\nlocalhost:7002  # spare\n", "hosts.txt").unwrap();
/// assert_eq!(hosts.workers(), ["10.0.0.7:7001", "localhost:7002"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsFile {
    workers: Vec<String>,
}

impl HostsFile {
    /// Reads and parses a hosts file.
    pub fn read(path: &Path) -> Result<HostsFile> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            Error::new(
                ErrorKind::Io,
                format_args!("cannot read the hosts file {}: {err}", path.display()),
            )
        })?;
        HostsFile::parse(&text, &path.display().to_string())
    }

    /// Parses the text of a hosts file; `origin` (its path) names it in errors.
    ///
    /// Blank lines and `#` comments (whole-line or trailing) are skipped. Each other line is one
    /// `host:port` (a name, an IPv4 address, or `[IPv6]`); a line listed twice is an error, as
    /// is a file with no worker.
    ///
    /// ```
    /// use pipeline_core::distributed::HostsFile;
    /// let err = HostsFile::parse("127.0.0.1\n", "hosts.txt").unwrap_err();
    /// assert!(err.to_string().contains("hosts.txt:1"), "{err}");
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<HostsFile> {
        let mut workers: Vec<String> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let number = number + 1;
            let entry = line.split('#').next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            let bad = |why: &str| {
                Error::new(
                    ErrorKind::Cluster,
                    format_args!("{origin}:{number}: `{entry}` {why}"),
                )
            };
            if entry.split_whitespace().count() > 1 {
                return Err(bad(
                    "is more than one address; list one `host:port` per line",
                ));
            }
            let (host, port) = entry
                .rsplit_once(':')
                .ok_or_else(|| bad("has no port; write `host:port`"))?;
            if host.is_empty() || host == "[]" {
                return Err(bad("has no host; write `host:port`"));
            }
            if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
                return Err(bad(
                    "is an IPv6 address without brackets; write `[addr]:port`",
                ));
            }
            match port.parse::<u16>() {
                Ok(0) | Err(_) => {
                    return Err(bad("has no valid port (1 to 65535) after the last `:`"))
                }
                Ok(_) => {}
            }
            if let Some(first) = workers.iter().position(|w| w == entry) {
                return Err(bad(&format!(
                    "is listed twice (also worker {}); each worker serves one process of a run",
                    first + 1
                )));
            }
            workers.push(entry.to_string());
        }
        if workers.is_empty() {
            return Err(Error::new(
                ErrorKind::Cluster,
                format_args!("{origin}: lists no worker (one `host:port` per line)"),
            ));
        }
        Ok(HostsFile { workers })
    }

    /// Builds the list from addresses already known to be well formed (tests, programs).
    ///
    /// ```
    /// use pipeline_core::distributed::HostsFile;
    /// let hosts = HostsFile::from_addresses(["127.0.0.1:7001"]).unwrap();
    /// assert_eq!(hosts.workers().len(), 1);
    /// ```
    pub fn from_addresses<I, S>(addresses: I) -> Result<HostsFile>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let text: Vec<String> = addresses
            .into_iter()
            .map(|a| a.as_ref().to_string())
            .collect();
        HostsFile::parse(&text.join("\n"), "the worker list")
    }

    /// The workers' addresses; worker `i` (0-based here) is process `i + 1`.
    pub fn workers(&self) -> &[String] {
        &self.workers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> String {
        HostsFile::parse(text, "h").unwrap_err().to_string()
    }

    #[test]
    fn comments_blank_lines_and_order_are_kept() {
        let hosts = HostsFile::parse(
            "# first\n  a.example:1  \n\n[::1]:7001 # v6\nb:65535\n",
            "h",
        )
        .unwrap();
        assert_eq!(hosts.workers(), ["a.example:1", "[::1]:7001", "b:65535"]);
    }

    #[test]
    fn bad_lines_are_named_with_their_line_number() {
        assert!(parse_err("a:1\nnoport\n").starts_with("h:2: `noport` has no port"));
        assert!(parse_err(":7001").contains("has no host"));
        assert!(parse_err("a:0").contains("no valid port"));
        assert!(parse_err("a:70000").contains("no valid port"));
        assert!(parse_err("a:x").contains("no valid port"));
        assert!(parse_err("::1:7001").contains("without brackets"));
        assert!(parse_err("a:1 b:2").contains("more than one address"));
        assert!(parse_err("a:1\n#\na:1").starts_with("h:3: `a:1` is listed twice (also worker 1)"));
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert_eq!(
            parse_err("# nobody\n\n"),
            "h: lists no worker (one `host:port` per line)"
        );
    }
}
