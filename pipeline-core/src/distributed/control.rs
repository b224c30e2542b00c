//! The control protocol: the messages between processes before and beside timely's own traffic.
//!
//! Framing: a 4-byte big-endian length, then that many bytes of JSON (one [`Message`]). A frame
//! longer than the reader's limit is refused before it is read. JSON keeps the protocol readable
//! and cheap to extend; only setup and liveness go through it, never the data of a run.
//!
//! A connection to a worker starts with the token handshake (see `handshake`); then the
//! connecting side asks for one of: [`Message::Describe`] (answered with the worker's host), a
//! run ([`Message::Start`], then [`Message::Connect`]), or, from another process of a run, to join
//! that run's mesh ([`Message::JoinMesh`]; the socket then belongs to timely).

use super::dataflow::ProcessFailure;
use super::job::Job;
use super::run_report::WorkerSummary;
use crate::placement::HostInfo;
use crate::{Error, ErrorKind};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// The version of this protocol; a worker refuses a client of another version.
pub(crate) const PROTOCOL_VERSION: u32 = 2;

/// One control message (both directions).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Message {
    /// Acceptor → connector, first on every connection: prove you hold the token.
    Challenge { protocol: u32, nonce: String },
    /// Connector → acceptor: the answer to its nonce, and the connector's own nonce.
    Answer { answer: String, nonce: String },
    /// Acceptor → connector: the token matched; the acceptor's answer to the connector's nonce.
    Accepted { answer: String },
    /// Either side: the connection is refused, and why.
    Refused { refusal: Refusal },
    /// Local → worker: what host are you?
    Describe,
    /// Worker → local: its host.
    Host { host: HostInfo },
    /// Local → worker: take part in a run.
    Start(Box<StartRun>),
    /// Worker → local: the run is registered; peers may join its mesh.
    Prepared,
    /// Local → worker: every worker is prepared; connect the mesh.
    Connect,
    /// Worker → local: the mesh is connected; the dataflow runs.
    Ready,
    /// Either side, every [`super::HEARTBEAT_INTERVAL`] during a run.
    Heartbeat,
    /// Worker → local: the run failed on this worker.
    Failed { failure: Failure },
    /// Worker → local: the worker's part of the run completed; what it did (its nodes'
    /// counters when the job asked for stats, its peak memory).
    Done(WorkerSummary),
    /// Local → worker: stop the run (another process failed).
    Abort { reason: String },
    /// A process of a run → a worker of the same run with a higher index: this socket is the
    /// link between us.
    JoinMesh { run_id: String, from: usize },
    /// Worker → the joining process: the link is accepted; timely's bytes follow.
    Joined,
}

/// Why a worker refused a connection or a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub(crate) enum Refusal {
    /// The answer did not match: the two sides hold different tokens.
    Token,
    /// The client speaks another protocol version.
    Protocol { expected: u32 },
    /// The worker serves another run.
    Busy,
    /// The worker already has as many connections as it accepts.
    TooManyConnections { limit: usize },
    /// A mesh link for no run of this worker, or from a process it does not expect.
    NotAPeer { why: String },
    /// A message that does not fit the conversation.
    Unexpected { got: String },
}

impl Refusal {
    /// The refusal as the client reports it, naming the worker.
    pub(crate) fn to_error(&self, address: &str) -> Error {
        let message = match self {
            Refusal::Token => format!(
                "worker {address} refused the token (give every process the same token: \
                 --token-file or PIPELINE_TOKEN)"
            ),
            Refusal::Protocol { expected } => format!(
                "worker {address} speaks control protocol {expected}, this process \
                 {PROTOCOL_VERSION}: run the same pipeline version everywhere"
            ),
            Refusal::Busy => format!("worker {address} is busy with another run; try again later"),
            Refusal::TooManyConnections { limit } => format!(
                "worker {address} refused the connection: it already has {limit} connections \
                 (its --max-connections)"
            ),
            Refusal::NotAPeer { why } => format!("worker {address} refused the mesh link: {why}"),
            Refusal::Unexpected { got } => {
                format!("worker {address} did not expect the message `{got}`")
            }
        };
        Error::new(ErrorKind::Cluster, message)
    }
}

/// What a worker needs to take part in a run.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StartRun {
    /// Fresh and random per run; the processes of the run present it to one another.
    pub run_id: String,
    /// This worker's process index (1..=workers).
    pub process: usize,
    /// The workers' addresses, as in the local hosts file: process `p` is `peers[p - 1]`.
    pub peers: Vec<String>,
    /// Limits, from the local process's options.
    pub connect_timeout_ms: u64,
    pub connect_attempts: u32,
    pub worker_timeout_ms: u64,
    /// What to run.
    pub job: Job,
}

/// A failure on a worker, as it crosses to the local process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Failure {
    /// The error's kind (`ErrorKind` as text).
    pub kind: String,
    /// The node that failed, when known.
    pub node: Option<String>,
    pub message: String,
    /// Whether it is the engine's (a broken link between processes) rather than the run's own:
    /// then another process's failure is likely the cause, and is preferred when it comes.
    pub engine: bool,
    /// When the failure happened on another process and reached this worker through the
    /// dataflow: that process's index (the failure is then that process's to report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relayed_from: Option<usize>,
}

impl Failure {
    /// The failure of `error` (not of the engine).
    pub(crate) fn of(error: &Error, engine: bool) -> Failure {
        let relayed = error
            .source_error()
            .and_then(|source| source.downcast_ref::<ProcessFailure>());
        match relayed {
            Some(failure) => Failure {
                kind: format!("{:?}", error.kind()),
                node: failure.node.clone(),
                message: failure.message.clone(),
                engine,
                relayed_from: Some(failure.process),
            },
            None => Failure {
                kind: format!("{:?}", error.kind()),
                node: error.node().map(str::to_string),
                message: error.message().to_string(),
                engine,
                relayed_from: None,
            },
        }
    }

    /// The error the local process reports: `node <id> on <host:port>: <message>`.
    pub(crate) fn to_error(&self, address: &str) -> Error {
        let kind = match self.kind.as_str() {
            "Initialize" => ErrorKind::Initialize,
            "Cleanup" => ErrorKind::Cleanup,
            "Panic" => ErrorKind::Panic,
            "Stopped" => ErrorKind::Stopped,
            "Conversion" => ErrorKind::Conversion,
            "Graph" => ErrorKind::Graph,
            "Io" => ErrorKind::Io,
            "Cluster" => ErrorKind::Cluster,
            _ => ErrorKind::Node,
        };
        match &self.node {
            Some(node) => Error::new(kind, &self.message)
                .in_node(node)
                .on_host(address),
            None => Error::new(kind, format_args!("worker {address}: {}", self.message))
                .on_host(address),
        }
    }
}

/// Writes one frame.
pub(crate) fn write_message(stream: &mut impl Write, message: &Message) -> std::io::Result<()> {
    let body = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    let length = u32::try_from(body.len())
        .map_err(|_| std::io::Error::other("control message over 4 GiB"))?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&body);
    stream.write_all(&frame)?;
    stream.flush()
}

/// Why a frame could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The other side closed the connection cleanly between frames.
    Closed,
    /// The socket's read timeout passed.
    TimedOut,
    /// The frame is larger than the limit.
    TooLarge { length: usize, limit: usize },
    /// Not a message of this protocol.
    Malformed(String),
    /// Another socket error.
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed => f.write_str("the connection closed"),
            ReadError::TimedOut => f.write_str("no message within the timeout"),
            ReadError::TooLarge { length, limit } => write!(
                f,
                "a control message of {length} bytes is over the limit of {limit} bytes"
            ),
            ReadError::Malformed(why) => write!(f, "a malformed control message: {why}"),
            ReadError::Io(err) => write!(f, "{err}"),
        }
    }
}

fn io_error(err: std::io::Error) -> ReadError {
    match err.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => ReadError::TimedOut,
        std::io::ErrorKind::UnexpectedEof => ReadError::Closed,
        _ => ReadError::Io(err),
    }
}

/// Reads one frame of at most `limit` bytes. Unbuffered, so that after the last control frame
/// the socket holds exactly what the other side wrote next (timely's bytes, on a mesh link).
pub(crate) fn read_message(stream: &mut impl Read, limit: usize) -> Result<Message, ReadError> {
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).map_err(io_error)?;
    let length = u32::from_be_bytes(length) as usize;
    if length > limit {
        return Err(ReadError::TooLarge { length, limit });
    }
    let mut body = vec![0u8; length];
    stream
        .read_exact(&mut body)
        .map_err(|err| match io_error(err) {
            ReadError::Closed => {
                ReadError::Malformed("the connection closed inside a message".into())
            }
            other => other,
        })?;
    serde_json::from_slice(&body).map_err(|err| ReadError::Malformed(err.to_string()))
}

/// The message's name, for "unexpected message" errors.
pub(crate) fn name(message: &Message) -> &'static str {
    match message {
        Message::Challenge { .. } => "challenge",
        Message::Answer { .. } => "answer",
        Message::Accepted { .. } => "accepted",
        Message::Refused { .. } => "refused",
        Message::Describe => "describe",
        Message::Host { .. } => "host",
        Message::Start(_) => "start",
        Message::Prepared => "prepared",
        Message::Connect => "connect",
        Message::Ready => "ready",
        Message::Heartbeat => "heartbeat",
        Message::Failed { .. } => "failed",
        Message::Done(_) => "done",
        Message::Abort { .. } => "abort",
        Message::JoinMesh { .. } => "join_mesh",
        Message::Joined => "joined",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_stop_at_their_end() {
        let mut bytes = Vec::new();
        write_message(&mut bytes, &Message::Heartbeat).unwrap();
        write_message(
            &mut bytes,
            &Message::JoinMesh {
                run_id: "ab".into(),
                from: 2,
            },
        )
        .unwrap();
        bytes.extend_from_slice(b"raw");
        let mut reader = &bytes[..];
        assert!(matches!(
            read_message(&mut reader, 100),
            Ok(Message::Heartbeat)
        ));
        assert!(matches!(
            read_message(&mut reader, 100),
            Ok(Message::JoinMesh { from: 2, .. })
        ));
        assert_eq!(reader, b"raw");
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_before_it_is_read() {
        let mut bytes = Vec::new();
        write_message(
            &mut bytes,
            &Message::Abort {
                reason: "x".repeat(100),
            },
        )
        .unwrap();
        let err = read_message(&mut &bytes[..], 50).unwrap_err();
        assert!(
            matches!(err, ReadError::TooLarge { limit: 50, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("over the limit of 50 bytes"));
    }

    #[test]
    fn junk_and_truncation_are_errors_not_panics() {
        let junk = [0, 0, 0, 3, b'{', b'x', b'}'];
        assert!(matches!(
            read_message(&mut &junk[..], 100),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            read_message(&mut &[0u8, 0, 0, 9, b'{'][..], 100),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            read_message(&mut &[][..], 100),
            Err(ReadError::Closed)
        ));
    }

    #[test]
    fn a_node_failure_names_the_node_and_the_worker() {
        let error = Error::msg("division by zero").in_node("calc");
        let failure = Failure::of(&error, false);
        assert_eq!(
            failure.to_error("10.0.0.7:7001").to_string(),
            "node `calc` on 10.0.0.7:7001: division by zero"
        );
        let failure = Failure::of(&Error::new(ErrorKind::Io, "disk full"), false);
        let error = failure.to_error("h:1");
        assert_eq!(error.to_string(), "worker h:1: disk full");
        assert_eq!(error.kind(), ErrorKind::Io);
    }
}
