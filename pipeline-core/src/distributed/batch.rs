//! What crosses between processes: batches of [`wire`]-encoded values with their routing.
//!
//! Timely sends its items with bincode, which cannot decode the self-describing `Value` (its
//! `Deserialize` needs `deserialize_any`): a batch carries the values as bytes in the project's
//! own encoding, which round-trips exactly, and only plain integers and bytes go through bincode.

use super::segments::Destination;
use crate::error::{Error, ErrorKind, Result};
use crate::value::wire;
use crate::Value;
use serde::{Deserialize, Serialize};

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
/// let batch = Batch::encode(Target::Output(0), 2, &[Value::Int(1), Value::from("x")]);
/// assert_eq!(batch.process, 2);
/// assert_eq!(batch.decode()?, [Value::Int(1), Value::from("x")]);
/// # Ok::<(), pipeline_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Where the values go.
    pub target: Target,
    /// The process (timely worker) that receives the batch: what the exchange routes by.
    pub process: u32,
    /// How many values `bytes` holds.
    pub count: u32,
    /// The values, each [`wire::encode`]d, one after another.
    pub bytes: Vec<u8>,
}

impl Batch {
    /// `values` encoded for `target` on `process`.
    pub fn encode(target: Target, process: usize, values: &[Value]) -> Batch {
        let mut bytes = Vec::with_capacity(values.len() * 4);
        for value in values {
            wire::encode(value, &mut bytes);
        }
        Batch {
            target,
            process: process as u32,
            count: values.len() as u32,
            bytes,
        }
    }

    /// The values, in order; bytes that are not `count` encoded values are an error that says
    /// where they went wrong.
    pub fn decode(&self) -> Result<Vec<Value>> {
        let mut values = Vec::with_capacity(self.count as usize);
        self.decode_into(&mut values)?;
        Ok(values)
    }

    /// [`decode`](Self::decode), appending to `values`.
    pub fn decode_into(&self, values: &mut Vec<Value>) -> Result<()> {
        let invalid = |message: String| {
            Error::new(
                ErrorKind::Io,
                format!(
                    "a batch for {:?} on process {} is invalid: {message}",
                    self.target, self.process
                ),
            )
        };
        let mut reader = wire::Reader::new(&self.bytes);
        for _ in 0..self.count {
            values.push(reader.value().map_err(|err| invalid(err.to_string()))?);
        }
        reader.finish().map_err(|err| invalid(err.to_string()))
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_values_round_trip_through_the_batch_and_through_bincode(
            values in proptest::collection::vec(crate::value::wire::tests::value(), 0..12),
            process in 0_usize..64,
            output in any::<bool>(),
        ) {
            let target = if output { Target::Output(3) } else { Target::Segment(7) };
            let batch = Batch::encode(target, process, &values);
            prop_assert!(same(&batch.decode().unwrap(), &values));
            // As timely sends it between processes.
            let sent = bincode::serialize(&batch).unwrap();
            let received: Batch = bincode::deserialize(&sent).unwrap();
            prop_assert_eq!(&received, &batch);
            prop_assert!(same(&received.decode().unwrap(), &values));
        }
    }

    #[test]
    fn a_damaged_batch_is_an_error_not_a_panic() {
        let mut batch = Batch::encode(Target::Segment(1), 1, &[Value::from("abc")]);
        batch.bytes.pop();
        let err = batch.decode().unwrap_err();
        assert!(err.to_string().contains("is invalid"), "{err}");
        let mut batch = Batch::encode(Target::Segment(1), 1, &[Value::Int(1)]);
        batch.count = 2;
        assert!(batch.decode().is_err());
        batch.count = 0;
        assert!(batch.decode().unwrap_err().to_string().contains("trailing"));
    }
}
