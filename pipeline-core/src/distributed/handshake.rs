//! The token handshake that opens every connection to a worker, in both directions.
//!
//! The worker (acceptor) sends a fresh nonce; the connector answers with the HMAC of its token
//! over it and sends a nonce of its own; the acceptor checks the answer and answers in turn. So
//! neither side learns anything from a peer without the token, the secret never crosses the
//! wire, and a client also knows it talks to a worker of its cluster before it sends a manifest.

use super::control::{self, Message, ReadError, Refusal, PROTOCOL_VERSION};
use super::token::{from_hex, hex, random_bytes};
use super::{ClusterOptions, Secret};
use crate::{Error, ErrorKind, Result};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

const CONNECTOR: &str = "pipeline/connector";
const ACCEPTOR: &str = "pipeline/acceptor";

/// The largest handshake message: the handshake is read before the peer is trusted.
const HANDSHAKE_LIMIT: usize = 4096;

/// Pause between two connection attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The acceptor's side, on a connection just accepted. On a wrong answer the connector is told
/// (`Refused`) and the error says why, for the worker's log.
pub(crate) fn accept(stream: &mut TcpStream, secret: &Secret) -> std::result::Result<(), String> {
    let nonce = random_bytes::<32>().map_err(|e| e.to_string())?;
    control::write_message(
        stream,
        &Message::Challenge {
            protocol: PROTOCOL_VERSION,
            nonce: hex(&nonce),
        },
    )
    .map_err(|e| e.to_string())?;
    let (answer, their_nonce) = match control::read_message(stream, HANDSHAKE_LIMIT) {
        Ok(Message::Answer { answer, nonce }) => (answer, nonce),
        Ok(Message::Refused { refusal }) => return Err(format!("the peer refused: {refusal:?}")),
        Ok(other) => {
            let got = control::name(&other).to_string();
            let _ = refuse(stream, Refusal::Unexpected { got: got.clone() });
            return Err(format!("expected an answer to the challenge, got `{got}`"));
        }
        Err(err) => return Err(format!("no answer to the challenge: {err}")),
    };
    let valid = from_hex(&answer).is_some_and(|answer| secret.verify(CONNECTOR, &nonce, &answer));
    if !valid {
        let _ = refuse(stream, Refusal::Token);
        return Err("the peer does not hold this worker's token".into());
    }
    let their_nonce = from_hex(&their_nonce).ok_or("a malformed nonce")?;
    control::write_message(
        stream,
        &Message::Accepted {
            answer: hex(&secret.answer(ACCEPTOR, &their_nonce)),
        },
    )
    .map_err(|e| e.to_string())
}

/// Sends a refusal (best effort: the connection is dropped next).
pub(crate) fn refuse(stream: &mut TcpStream, refusal: Refusal) -> std::io::Result<()> {
    control::write_message(stream, &Message::Refused { refusal })
}

/// Connects to the worker at `address` and proves the token both ways, with
/// `options.connect_timeout` per attempt and at most `options.connect_attempts` attempts (a
/// refusal is not retried). The stream is returned with that timeout on reads and writes.
pub(crate) fn connect(
    address: &str,
    secret: &Secret,
    options: &ClusterOptions,
) -> Result<TcpStream> {
    let attempts = options.connect_attempts.max(1);
    let mut last = String::new();
    for attempt in 1..=attempts {
        if attempt > 1 {
            std::thread::sleep(RETRY_PAUSE);
        }
        match try_connect(address, secret, options.connect_timeout) {
            Ok(stream) => return Ok(stream),
            Err(Attempt::Final(err)) => return Err(err),
            Err(Attempt::Retry(why)) => last = why,
        }
    }
    Err(Error::new(
        ErrorKind::Cluster,
        format_args!(
            "cannot reach worker {address} ({attempts} attempt{} of {:?} each): {last}",
            if attempts == 1 { "" } else { "s" },
            options.connect_timeout
        ),
    ))
}

enum Attempt {
    /// Worth another attempt (the worker may be starting, the network may hiccup).
    Retry(String),
    /// The worker answered, and said no.
    Final(Error),
}

fn try_connect(
    address: &str,
    secret: &Secret,
    timeout: Duration,
) -> std::result::Result<TcpStream, Attempt> {
    let addresses: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|err| Attempt::Retry(format!("cannot resolve the address: {err}")))?
        .collect();
    let mut stream = None;
    let mut why = format!("`{address}` resolves to no address");
    for socket_address in addresses {
        match TcpStream::connect_timeout(&socket_address, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(err) => why = err.to_string(),
        }
    }
    let mut stream = stream.ok_or(Attempt::Retry(why))?;
    let io = |err: std::io::Error| Attempt::Retry(err.to_string());
    stream.set_nodelay(true).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let read = |stream: &mut TcpStream| {
        control::read_message(stream, HANDSHAKE_LIMIT).map_err(|err| match err {
            ReadError::TimedOut => Attempt::Retry(format!(
                "no handshake within {timeout:?} (is it a `pipeline worker`?)"
            )),
            ReadError::Closed => Attempt::Retry("it closed the connection".into()),
            other => Attempt::Retry(format!("handshake failed: {other}")),
        })
    };
    let nonce = match read(&mut stream)? {
        Message::Challenge { protocol, nonce } if protocol == PROTOCOL_VERSION => nonce,
        Message::Challenge { protocol, .. } => {
            return Err(Attempt::Final(
                Refusal::Protocol { expected: protocol }.to_error(address),
            ))
        }
        Message::Refused { refusal } => return Err(Attempt::Final(refusal.to_error(address))),
        other => {
            return Err(Attempt::Final(Error::new(
                ErrorKind::Cluster,
                format_args!(
                    "worker {address} opened with `{}`, not a challenge",
                    control::name(&other)
                ),
            )))
        }
    };
    let nonce = from_hex(&nonce).ok_or_else(|| {
        Attempt::Final(Error::new(
            ErrorKind::Cluster,
            format_args!("worker {address} sent a malformed challenge"),
        ))
    })?;
    let my_nonce = random_bytes::<32>().map_err(Attempt::Final)?;
    control::write_message(
        &mut stream,
        &Message::Answer {
            answer: hex(&secret.answer(CONNECTOR, &nonce)),
            nonce: hex(&my_nonce),
        },
    )
    .map_err(io)?;
    match read(&mut stream)? {
        Message::Accepted { answer } => {
            let valid = from_hex(&answer).is_some_and(|a| secret.verify(ACCEPTOR, &my_nonce, &a));
            if valid {
                Ok(stream)
            } else {
                Err(Attempt::Final(Error::new(
                    ErrorKind::Cluster,
                    format_args!(
                        "worker {address} does not hold this process's token (not a worker of \
                         this cluster)"
                    ),
                )))
            }
        }
        Message::Refused { refusal } => Err(Attempt::Final(refusal.to_error(address))),
        other => Err(Attempt::Final(Error::new(
            ErrorKind::Cluster,
            format_args!(
                "worker {address} answered the handshake with `{}`",
                control::name(&other)
            ),
        ))),
    }
}
