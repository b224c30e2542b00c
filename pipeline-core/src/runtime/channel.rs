//! Stage boundaries: bounded channels carrying batches, and the sending end that fills them.

use super::StageConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::node::Emitter;
use crossbeam_channel::{Receiver, Sender};

/// What crosses a stage boundary.
#[derive(Debug)]
pub enum Message<T> {
    /// A batch of items, in order.
    Batch(Vec<T>),
    /// The sender's stream has ended.
    Finish,
}

/// The receiving end of a stage channel.
pub type StageReceiver<T> = Receiver<Message<T>>;

/// A bounded channel into a stage: capacity in batches, and the batch size the senders use.
///
/// ```
/// use pipeline_core::runtime::{stage_channel, Message, StageConfig};
/// use pipeline_core::Emitter;
/// let (mut tx, rx) = stage_channel::<i64>(StageConfig { batch_size: 2, capacity: 4 });
/// tx.emit(1).unwrap();
/// tx.emit(2).unwrap(); // a full batch is sent
/// assert!(matches!(rx.try_recv().unwrap(), Message::Batch(b) if b == vec![1, 2]));
/// ```
pub fn stage_channel<T>(config: StageConfig) -> (BatchSender<T>, StageReceiver<T>) {
    let (tx, rx) = crossbeam_channel::bounded(config.capacity.max(1));
    (BatchSender::new(tx, config.batch_size), rx)
}

/// The sending end of a stage boundary: an [`Emitter`] that buffers items into batches.
#[derive(Debug)]
pub struct BatchSender<T> {
    tx: Option<Sender<Message<T>>>,
    buffer: Vec<T>,
    batch_size: usize,
}

impl<T> Clone for BatchSender<T> {
    /// Another sender into the same stage (fan-in), with its own buffer.
    fn clone(&self) -> Self {
        BatchSender {
            tx: self.tx.clone(),
            buffer: Vec::with_capacity(self.batch_size),
            batch_size: self.batch_size,
        }
    }
}

fn stopped() -> Error {
    Error::new(ErrorKind::Stopped, "a downstream stage stopped")
}

impl<T> BatchSender<T> {
    /// Wraps a raw channel sender.
    pub fn new(tx: Sender<Message<T>>, batch_size: usize) -> Self {
        let batch_size = batch_size.max(1);
        BatchSender {
            tx: Some(tx),
            buffer: Vec::with_capacity(batch_size),
            batch_size,
        }
    }

    fn send(&mut self, message: Message<T>) -> Result<()> {
        let tx = self.tx.as_ref().ok_or_else(stopped)?;
        super::relief::send(tx, message).map_err(|_| stopped())
    }

    /// Sends the partly filled batch, if any.
    pub fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.batch_size));
        self.send(Message::Batch(batch))
    }

    /// Flushes and tells the receiving stage this sender's stream has ended.
    pub fn finish(&mut self) -> Result<()> {
        self.flush()?;
        self.send(Message::Finish)
    }

    /// Drops the channel: the receiving stage sees it close once every sender is gone.
    pub fn disconnect(&mut self) {
        self.tx = None;
        self.buffer.clear();
    }
}

impl<T> BatchSender<T> {
    /// Sends every item of `items` in order, leaving it empty: a whole batch at a time, not item by
    /// item. When nothing is buffered and `items` fits, the two buffers are swapped.
    ///
    /// ```
    /// use pipeline_core::runtime::{stage_channel, Message, StageConfig};
    /// let (mut tx, rx) = stage_channel::<i64>(StageConfig { batch_size: 2, capacity: 4 });
    /// let mut items = vec![1, 2, 3];
    /// tx.emit_all(&mut items).unwrap();
    /// tx.finish().unwrap();
    /// let batches: Vec<Vec<i64>> = rx.try_iter().filter_map(|m| match m {
    ///     Message::Batch(b) => Some(b),
    ///     Message::Finish => None,
    /// }).collect();
    /// assert_eq!((items.len(), batches), (0, vec![vec![1, 2], vec![3]]));
    /// ```
    pub fn emit_all(&mut self, items: &mut Vec<T>) -> Result<()> {
        while !items.is_empty() {
            let room = self.batch_size - self.buffer.len();
            if self.buffer.is_empty() && items.len() <= room {
                std::mem::swap(&mut self.buffer, items);
            } else {
                self.buffer.extend(items.drain(..room.min(items.len())));
            }
            if self.buffer.len() >= self.batch_size {
                let batch =
                    std::mem::replace(&mut self.buffer, Vec::with_capacity(self.batch_size));
                self.send(Message::Batch(batch))?;
            }
        }
        Ok(())
    }
}

impl<T> Emitter<T> for BatchSender<T> {
    #[inline]
    fn emit(&mut self, item: T) -> Result<()> {
        self.buffer.push(item);
        if self.buffer.len() >= self.batch_size {
            let batch = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.batch_size));
            return self.send(Message::Batch(batch));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_flushes_then_marks_the_end() {
        let (mut tx, rx) = stage_channel::<u8>(StageConfig::default());
        tx.emit(7).unwrap();
        tx.finish().unwrap();
        assert!(matches!(rx.recv().unwrap(), Message::Batch(b) if b == vec![7]));
        assert!(matches!(rx.recv().unwrap(), Message::Finish));
    }

    #[test]
    fn sending_to_a_dropped_stage_is_a_stopped_error() {
        let (mut tx, rx) = stage_channel::<u8>(StageConfig {
            batch_size: 1,
            capacity: 1,
        });
        drop(rx);
        assert_eq!(tx.emit(1).unwrap_err().kind(), ErrorKind::Stopped);
    }
}
