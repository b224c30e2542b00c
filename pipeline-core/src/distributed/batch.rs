//! What crosses between processes: batches of values with their routing.
//!
//! Timely sends its items with bincode, which cannot decode the self-describing `Value` (its
//! `Deserialize` needs `deserialize_any`): a batch for another process carries the values as
//! bytes in the project's own encoding ([`wire`]), which round-trips exactly, and only plain
//! integers and bytes go through bincode. A batch that stays on its process is never serialized
//! by timely, so it carries the values as they are: encoding is paid only where a process
//! boundary is crossed.

use super::segments::Destination;
use crate::error::{Error, ErrorKind, Result};
use crate::value::wire;
use crate::Value;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Where a batch goes: a segment's entry or a pipeline output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// Into segment `n`.
    Segment(u32),
    /// To output `n`, written by process 0.
    Output(u32),
}

impl From<Destination> for Target {
    fn from(destination: Destination) -> Self {
        match destination {
            Destination::Segment(s) => Target::Segment(s as u32),
            Destination::Output(o) => Target::Output(o as u32),
        }
    }
}

/// A batch of values on its way to one process.
///
/// ```
/// use pipeline_core::distributed::{Batch, Target};
/// use pipeline_core::Value;
/// let values = vec![Value::Int(1), Value::from("x")];
/// // From process 0 to process 2: encoded.
/// let batch = Batch::new(Target::Output(0), 2, 0, values.clone());
/// assert_eq!(batch.process, 2);
/// assert!(batch.is_encoded());
/// assert_eq!(batch.into_values()?, values);
/// // Staying on process 2: as it is.
/// let batch = Batch::new(Target::Output(0), 2, 2, values.clone());
/// assert!(!batch.is_encoded());
/// assert_eq!(batch.into_values()?, values);
/// # Ok::<(), pipeline_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Where the values go.
    pub target: Target,
    /// The process (timely worker) that receives the batch: what the exchange routes by.
    pub process: u32,
    /// The values.
    payload: Payload,
}

/// A batch's values: as they are while they stay on their process, encoded once they leave it.
/// Serialized, both are a count and the [`wire`]-encoded bytes; deserialized, always `Encoded`.
#[derive(Debug, Clone, PartialEq)]
enum Payload {
    Values(Vec<Value>),
    Encoded { count: u32, bytes: Vec<u8> },
}

impl Batch {
    /// `values` for `target` on `process`, made on process `here`: encoded only if `process` is
    /// another one.
    pub fn new(target: Target, process: usize, here: usize, values: Vec<Value>) -> Batch {
        let payload = if process == here {
            Payload::Values(values)
        } else {
            let (count, bytes) = encode(&values);
            Payload::Encoded { count, bytes }
        };
        Batch {
            target,
            process: process as u32,
            payload,
        }
    }

    /// Whether the values are encoded (the batch was made for another process, or came from one).
    pub fn is_encoded(&self) -> bool {
        matches!(self.payload, Payload::Encoded { .. })
    }

    /// How many values the batch holds.
    pub fn len(&self) -> usize {
        match &self.payload {
            Payload::Values(values) => values.len(),
            Payload::Encoded { count, .. } => *count as usize,
        }
    }

    /// Whether the batch holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values, in order; bytes that are not `count` encoded values are an error that says
    /// where they went wrong.
    pub fn into_values(self) -> Result<Vec<Value>> {
        match self.payload {
            Payload::Values(values) => Ok(values),
            Payload::Encoded { count, .. } => {
                let mut values = Vec::with_capacity(count as usize);
                self.move_into(&mut values)?;
                Ok(values)
            }
        }
    }

    /// [`into_values`](Self::into_values), appending to `values`.
    pub fn move_into(self, values: &mut Vec<Value>) -> Result<()> {
        let (target, process) = (self.target, self.process);
        let invalid = |message: String| {
            Error::new(
                ErrorKind::Io,
                format!("a batch for {target:?} on process {process} is invalid: {message}"),
            )
        };
        match self.payload {
            Payload::Values(mut own) => {
                values.append(&mut own);
                Ok(())
            }
            Payload::Encoded { count, bytes } => {
                let mut reader = wire::Reader::new(&bytes);
                values.reserve(count as usize);
                for _ in 0..count {
                    values.push(reader.value().map_err(|err| invalid(err.to_string()))?);
                }
                reader.finish().map_err(|err| invalid(err.to_string()))
            }
        }
    }
}

fn encode(values: &[Value]) -> (u32, Vec<u8>) {
    let mut bytes = Vec::with_capacity(values.len() * 4);
    for value in values {
        wire::encode(value, &mut bytes);
    }
    (values.len() as u32, bytes)
}

impl Serialize for Payload {
    /// A count and the encoded values, the bytes in one piece (not byte by byte, as a `Vec<u8>`
    /// would go). Values still as they are get encoded here: correct, but only a fallback, as
    /// timely sizes a message before writing it (the batch is encoded twice); batches for another
    /// process are encoded when made.
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let encoded;
        let (count, bytes) = match self {
            Payload::Values(values) => {
                encoded = encode(values);
                (encoded.0, &encoded.1)
            }
            Payload::Encoded { count, bytes } => (*count, bytes),
        };
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(&count)?;
        tuple.serialize_element(&BytesRef(bytes))?;
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct PayloadVisitor;
        impl<'de> Visitor<'de> for PayloadVisitor {
            type Value = Payload;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a count and encoded values")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Payload, A::Error> {
                let count: u32 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let bytes: ByteBuf = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                Ok(Payload::Encoded {
                    count,
                    bytes: bytes.0,
                })
            }
        }
        deserializer.deserialize_tuple(2, PayloadVisitor)
    }
}

/// Bytes that serialize in one piece.
struct BytesRef<'a>(&'a [u8]);

impl Serialize for BytesRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Bytes that deserialize in one piece.
struct ByteBuf(Vec<u8>);

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> std::result::Result<ByteBuf, E> {
                Ok(ByteBuf(bytes.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(
                self,
                bytes: Vec<u8>,
            ) -> std::result::Result<ByteBuf, E> {
                Ok(ByteBuf(bytes))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<ByteBuf, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(byte) = seq.next_element()? {
                    bytes.push(byte);
                }
                Ok(ByteBuf(bytes))
            }
        }
        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bit-for-bit equality: `NaN` equals itself, `-0.0` does not equal `0.0`.
    fn same(a: &[Value], b: &[Value]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| wire::encode_to_vec(x) == wire::encode_to_vec(y))
    }

    fn encoded(target: Target, process: usize, values: &[Value]) -> Batch {
        Batch::new(target, process, process + 1, values.to_vec())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_values_round_trip_through_the_batch_and_through_bincode(
            values in proptest::collection::vec(crate::value::wire::tests::value(), 0..12),
            process in 0_usize..64,
            output in any::<bool>(),
            stays in any::<bool>(),
        ) {
            let target = if output { Target::Output(3) } else { Target::Segment(7) };
            let here = if stays { process } else { process + 1 };
            let batch = Batch::new(target, process, here, values.clone());
            prop_assert_eq!(batch.is_encoded(), !stays);
            prop_assert_eq!(batch.len(), values.len());
            prop_assert!(same(&batch.clone().into_values().unwrap(), &values));
            // As timely sends it between processes (a batch that stays is encoded then too).
            let sent = bincode::serialize(&batch).unwrap();
            prop_assert_eq!(bincode::serialized_size(&batch).unwrap() as usize, sent.len());
            let received: Batch = bincode::deserialize(&sent).unwrap();
            prop_assert!(received.is_encoded());
            prop_assert_eq!(&received, &encoded(target, process, &values));
            prop_assert!(same(&received.into_values().unwrap(), &values));
        }
    }

    #[test]
    fn the_bytes_go_through_bincode_as_a_length_and_the_bytes() {
        let batch = encoded(Target::Segment(1), 1, &[Value::from("abc")]);
        let sent = bincode::serialize(&batch).unwrap();
        let Payload::Encoded { bytes, .. } = &batch.payload else {
            unreachable!("made for another process")
        };
        assert!(sent.ends_with(bytes), "{sent:?}");
        assert_eq!(
            sent.len(),
            4 + 4 + 4 + 4 + 8 + bytes.len(),
            "target tag and index, process, count, length, bytes: {sent:?}"
        );
    }

    fn damaged(batch: &Batch, change: impl FnOnce(&mut u32, &mut Vec<u8>)) -> Batch {
        let mut batch = batch.clone();
        if let Payload::Encoded { count, bytes } = &mut batch.payload {
            change(count, bytes);
        }
        batch
    }

    #[test]
    fn a_damaged_batch_is_an_error_not_a_panic() {
        let batch = encoded(Target::Segment(1), 1, &[Value::from("abc")]);
        let err = damaged(&batch, |_, bytes| {
            bytes.pop();
        })
        .into_values()
        .unwrap_err();
        assert!(err.to_string().contains("is invalid"), "{err}");
        let batch = encoded(Target::Segment(1), 1, &[Value::Int(1)]);
        assert!(damaged(&batch, |count, _| *count = 2)
            .into_values()
            .is_err());
        let err = damaged(&batch, |count, _| *count = 0)
            .into_values()
            .unwrap_err();
        assert!(err.to_string().contains("trailing"), "{err}");
    }
}
