//! The messages between the parent and an isolated worker, over the worker's stdin and stdout.
//!
//! Each message is a frame: a little-endian `u32` body length, then the body: a tag byte and its
//! fields in the [`wire`](crate::value::wire) encoding. The parent sends one request and reads
//! replies until a final one (`Done`, `Failed` or `Text`); a worker running a batch sends
//! `Outputs` as it goes (every [`CHUNK_OUTPUTS`] outputs, [`CHUNK_BYTES`] bytes, or heartbeat
//! interval), so outputs stream and the parent sees progress. Everything the worker sends is
//! checked: a malformed reply is a protocol error, never a panic of the parent.

use crate::error::{Error, ErrorKind};
use crate::python::PythonError;
use crate::value::wire::{self, put_bytes, put_varint, Reader, WireError};
use crate::value::Value;

/// Outputs per `Outputs` chunk.
pub(crate) const CHUNK_OUTPUTS: usize = 1024;
/// Encoded bytes after which a chunk is sent early.
pub(crate) const CHUNK_BYTES: usize = 256 << 10;
/// The largest frame either side accepts.
pub(crate) const MAX_FRAME: usize = 1 << 30;

// Requests.
/// Starts a node; answered by `Done` carrying one value, whether the node defines `finish` (a
/// node without one is not sent `Finish`: one round trip less per run).
pub(crate) const START: u8 = 1;
/// Items through a chain of started nodes: the node count, their indices in chain order, the
/// items. Replies carry the last node's outputs, with the ends of the batch's items.
pub(crate) const BATCH: u8 = 2;
/// `finish` of each node of a chain that has one (count, indices), each one's outputs through
/// the nodes after it.
pub(crate) const FINISH: u8 = 3;
pub(crate) const CLEANUP: u8 = 4;
pub(crate) const DESCRIBE: u8 = 5;
pub(crate) const SELF_CHECK: u8 = 6;
// Replies.
pub(crate) const OUTPUTS: u8 = 10;
pub(crate) const DONE: u8 = 11;
pub(crate) const FAILED: u8 = 12;
pub(crate) const TEXT: u8 = 13;
/// Only from a dying worker (after its last outputs): the chain position of the node it was
/// running.
pub(crate) const RUNNING: u8 = 14;

/// A frame under construction: length placeholder, tag, fields.
pub(crate) struct Frame(pub(crate) Vec<u8>);

impl Frame {
    pub(crate) fn new(tag: u8) -> Frame {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(&[0; 4]);
        bytes.push(tag);
        Frame(bytes)
    }

    pub(crate) fn uint(mut self, n: u64) -> Frame {
        put_varint(&mut self.0, n);
        self
    }

    pub(crate) fn str(mut self, s: &str) -> Frame {
        put_bytes(&mut self.0, s.as_bytes());
        self
    }

    pub(crate) fn value(mut self, v: &Value) -> Frame {
        wire::encode(v, &mut self.0);
        self
    }

    /// The bytes to write, with the length filled in.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let len = (self.0.len() - 4) as u32;
        self.0[..4].copy_from_slice(&len.to_le_bytes());
        self.0
    }
}

/// The body of a received frame, read field by field.
pub(crate) struct Body<'a> {
    pub(crate) tag: u8,
    pub(crate) fields: Reader<'a>,
}

impl<'a> Body<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<Body<'a>, WireError> {
        let mut fields = Reader::new(body);
        let tag = fields.byte()?;
        Ok(Body { tag, fields })
    }

    pub(crate) fn uint(&mut self) -> Result<u64, WireError> {
        self.fields.varint()
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, WireError> {
        self.fields.str()
    }

    pub(crate) fn value(&mut self) -> Result<Value, WireError> {
        self.fields.value()
    }

    /// A count followed by that many values, appended to `out`.
    pub(crate) fn values(&mut self, out: &mut Vec<Value>) -> Result<(), WireError> {
        let n = self.fields.len()?;
        out.reserve(n);
        for _ in 0..n {
            out.push(self.fields.value()?);
        }
        Ok(())
    }

    pub(crate) fn end(&self) -> Result<(), WireError> {
        self.fields.finish()
    }
}

/// A reply to the parent.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Outputs (possibly none: a heartbeat); more replies follow. The second list holds, for
    /// each item of a batch that ended within this chunk, how many of the chunk's outputs came
    /// before its end, so the parent knows which item each output came from.
    Outputs(Vec<Value>, Vec<u64>),
    /// The call finished; its last outputs (and item ends, as in `Outputs`).
    Done(Vec<Value>, Vec<u64>),
    /// The call failed; the outputs before the failure came in `Outputs`. With a chain position
    /// when a node of a chain failed.
    Failed(Error, Option<u64>),
    /// The chain position of the node a dying worker was running.
    Running(u64),
    /// A text result (a described script, a self-check report).
    Text(String),
}

impl Reply {
    /// Parses a reply frame body.
    pub(crate) fn parse(body: &[u8]) -> Result<Reply, WireError> {
        let mut body = Body::parse(body)?;
        let reply = match body.tag {
            OUTPUTS | DONE => {
                let mut values = Vec::new();
                body.values(&mut values)?;
                // Item ends are optional: the crash handler's last chunk has none.
                let mut ends = Vec::new();
                if body.fields.finish().is_err() {
                    let n = body.fields.len()?;
                    for _ in 0..n {
                        let end = body.uint()?;
                        if end > values.len() as u64 || ends.last().is_some_and(|&l| end < l) {
                            return Err(body.fields.error("item ends out of order"));
                        }
                        ends.push(end);
                    }
                }
                if body.tag == OUTPUTS {
                    Reply::Outputs(values, ends)
                } else {
                    Reply::Done(values, ends)
                }
            }
            FAILED => {
                let error = read_error(&mut body)?;
                let member = match body.fields.finish() {
                    Ok(()) => None,
                    Err(_) => Some(body.uint()?),
                };
                Reply::Failed(error, member)
            }
            RUNNING => Reply::Running(body.uint()?),
            TEXT => Reply::Text(body.str()?.to_string()),
            tag => return Err(body.fields.error(format_args!("unknown reply tag {tag}"))),
        };
        body.end()?;
        Ok(reply)
    }
}

/// A `Failed` frame for `err`: its kind, message, and the Python exception behind it if any.
pub(crate) fn failed(err: &Error) -> Vec<u8> {
    failed_frame(err).finish()
}

/// A `Failed` frame for `err` in the node at chain position `member`.
pub(crate) fn failed_in(err: &Error, member: usize) -> Vec<u8> {
    failed_frame(err).uint(member as u64).finish()
}

fn failed_frame(err: &Error) -> Frame {
    let frame = Frame::new(FAILED)
        .uint(kind_code(err.kind()))
        .str(err.message());
    match err
        .source_error()
        .and_then(|s| s.downcast_ref::<PythonError>())
    {
        Some(py) => frame
            .uint(1)
            .str(py.exception_type())
            .str(py.message())
            .str(py.traceback()),
        None => frame.uint(0),
    }
}

fn read_error(body: &mut Body<'_>) -> Result<Error, WireError> {
    let kind = kind_of(body.uint()?);
    let message = body.str()?.to_string();
    Ok(match body.uint()? {
        0 => Error::new(kind, message),
        _ => {
            let (exception_type, py_message, traceback) = (body.str()?, body.str()?, body.str()?);
            Error::from(PythonError::new(exception_type, py_message, traceback)).with_kind(kind)
        }
    })
}

fn kind_code(kind: ErrorKind) -> u64 {
    match kind {
        ErrorKind::Node => 0,
        ErrorKind::Initialize => 1,
        ErrorKind::Cleanup => 2,
        ErrorKind::Panic => 3,
        ErrorKind::Stopped => 4,
        ErrorKind::Conversion => 5,
        ErrorKind::Graph => 6,
        ErrorKind::Io => 7,
        ErrorKind::Cluster => 8,
    }
}

fn kind_of(code: u64) -> ErrorKind {
    match code {
        1 => ErrorKind::Initialize,
        2 => ErrorKind::Cleanup,
        3 => ErrorKind::Panic,
        4 => ErrorKind::Stopped,
        5 => ErrorKind::Conversion,
        6 => ErrorKind::Graph,
        7 => ErrorKind::Io,
        8 => ErrorKind::Cluster,
        _ => ErrorKind::Node,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(frame: Vec<u8>) -> Vec<u8> {
        let len = u32::from_le_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(len, frame.len() - 4);
        frame[4..].to_vec()
    }

    #[test]
    fn replies_round_trip() {
        let frame = Frame::new(DONE)
            .uint(2)
            .value(&Value::Int(1))
            .value(&Value::from("x"))
            .finish();
        match Reply::parse(&body(frame)).unwrap() {
            Reply::Done(values, _) => assert_eq!(values, [Value::Int(1), Value::from("x")]),
            other => panic!("{other:?}"),
        }
        let err = Error::from(PythonError::new("ValueError", "bad", "Traceback ..."));
        match Reply::parse(&body(failed(&err))).unwrap() {
            Reply::Failed(back, None) => {
                assert_eq!(back.message(), err.message());
                let py = back.source_error().unwrap().downcast_ref::<PythonError>();
                assert_eq!(py.unwrap().exception_type(), "ValueError");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_chain_failure_names_its_node_and_a_dying_worker_what_it_ran() {
        match Reply::parse(&body(failed_in(&Error::msg("bad"), 2))).unwrap() {
            Reply::Failed(back, Some(2)) => assert_eq!(back.message(), "bad"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Reply::parse(&[RUNNING, 1]).unwrap(),
            Reply::Running(1)
        ));
        assert!(Reply::parse(&[RUNNING]).is_err());
    }

    #[test]
    fn malformed_replies_are_errors() {
        assert!(Reply::parse(&[]).is_err());
        assert!(Reply::parse(&[99]).is_err());
        assert!(Reply::parse(&[DONE, 5, 0]).is_err());
        assert!(Reply::parse(&[TEXT, 1, b'a', 0]).is_err());
    }
}
