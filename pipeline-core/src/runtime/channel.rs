//! Stage boundaries: bounded channels carrying batches, and the sending end that fills them.

use super::spares::{spares, SpareReturn, Spares};
use super::StageConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::node::Emitter;
use crossbeam_channel::{Receiver, Sender};

/// What crosses a stage boundary.
#[derive(Debug)]
pub enum Message<T> {
    /// A batch of items, in order.
    Batch(Vec<T>),
    /// A batch of items, each with its origin: the index of the input item it derives from
    /// (dynamic stages trace their items this way, so a failure names its input item and the
    /// outputs of later items can be cut).
    Traced(Vec<T>, Vec<u64>),
    /// The sender's stream has ended.
    Finish,
}

/// The receiving end of a stage channel; hands emptied batches back to the senders for reuse.
#[derive(Debug)]
pub struct StageReceiver<T> {
    messages: Receiver<Message<T>>,
    spares: SpareReturn<T>,
    origin_spares: SpareReturn<u64>,
}

impl<T> StageReceiver<T> {
    /// The next message, waiting for it; `None` once every sender is gone.
    pub fn recv(&self) -> Option<Message<T>> {
        self.messages.recv().ok()
    }

    /// The next message if one is waiting.
    pub fn try_recv(&self) -> Option<Message<T>> {
        self.messages.try_recv().ok()
    }

    /// Every message waiting now.
    pub fn try_iter(&self) -> impl Iterator<Item = Message<T>> + '_ {
        self.messages.try_iter()
    }

    /// Hands a batch the stage has emptied back to its senders, to fill again.
    ///
    /// ```
    /// use pipeline_core::runtime::{stage_channel, Message, StageConfig};
    /// use pipeline_core::Emitter;
    /// let (mut tx, rx) = stage_channel::<i64>(StageConfig { batch_size: 2, capacity: 4 });
    /// let mut next_batch = |items: [i64; 2]| {
    ///     items.into_iter().for_each(|x| tx.emit(x).unwrap());
    ///     match rx.recv() {
    ///         Some(Message::Batch(batch)) => batch,
    ///         _ => unreachable!(),
    ///     }
    /// };
    /// let first = next_batch([1, 2]);
    /// let address = first.as_ptr();
    /// rx.give_back(first);
    /// // The sender took its next buffer when it sent [1, 2]; the one after is the one given back.
    /// assert_eq!(next_batch([3, 4]), [3, 4]);
    /// let third = next_batch([5, 6]);
    /// assert_eq!((third.as_ptr(), third), (address, vec![5, 6]));
    /// ```
    pub fn give_back(&self, batch: Vec<T>) {
        self.spares.give(batch);
    }

    /// Hands the origins of a [`Message::Traced`] batch back to the senders, to fill again.
    ///
    /// ```
    /// use pipeline_core::runtime::{stage_channel, Message, StageConfig};
    /// let (mut tx, rx) = stage_channel::<i64>(StageConfig { batch_size: 2, capacity: 4 });
    /// tx.emit_all_traced(&mut vec![1, 2], &mut vec![7, 8]).unwrap();
    /// let Some(Message::Traced(items, origins)) = rx.recv() else { unreachable!() };
    /// assert_eq!((items, &origins), (vec![1, 2], &vec![7, 8]));
    /// rx.give_back_origins(origins);
    /// ```
    pub fn give_back_origins(&self, origins: Vec<u64>) {
        self.origin_spares.give(origins);
    }
}

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
    let capacity = config.capacity.max(1);
    let (tx, messages) = crossbeam_channel::bounded(capacity);
    // As many spares as batches can be in flight: every batch can come back once.
    let (back, spares) = spares(capacity + 1);
    let (origins_back, origin_spares) = super::spares::spares(capacity + 1);
    let mut sender = BatchSender::new(tx, config.batch_size);
    sender.spares = Some(spares);
    sender.origin_spares = Some(origin_spares);
    (
        sender,
        StageReceiver {
            messages,
            spares: back,
            origin_spares: origins_back,
        },
    )
}

/// The sending end of a stage boundary: an [`Emitter`] that buffers items into batches.
///
/// Batches grow while a stream keeps filling them: the first holds up to
/// [`DEFAULT_BATCH_SIZE`](super::DEFAULT_BATCH_SIZE) items (or the configured size, if smaller),
/// and each full batch doubles the next, up to the configured size. A short stream moves in small
/// batches (little memory, the next stage starts early); a long one in large batches (few
/// handoffs between threads). The end of a stream starts the next one small again.
///
/// ```
/// use pipeline_core::runtime::{stage_channel, Message, StageConfig};
/// use pipeline_core::Emitter;
/// let (mut tx, rx) = stage_channel::<u32>(StageConfig { batch_size: 4096, capacity: 8 });
/// for i in 0..4000 {
///     tx.emit(i).unwrap();
/// }
/// tx.finish().unwrap();
/// let sizes: Vec<usize> = rx.try_iter().filter_map(|m| match m {
///     Message::Batch(b) => Some(b.len()),
///     _ => None,
/// }).collect();
/// assert_eq!(sizes, [1024, 2048, 928]);
/// ```
#[derive(Debug)]
pub struct BatchSender<T> {
    tx: Option<Sender<Message<T>>>,
    buffer: Vec<T>,
    /// Items that make the current batch full.
    batch_size: usize,
    /// The largest batch: the configured size.
    max_batch_size: usize,
    /// Batches the receiving stage has emptied and given back.
    spares: Option<Spares<T>>,
    /// The origin of each buffered item, when the sender is fed traced items (then it matches
    /// `buffer` item for item and batches go as [`Message::Traced`]); empty otherwise.
    origins: Vec<u64>,
    origin_spares: Option<Spares<u64>>,
}

impl<T> Clone for BatchSender<T> {
    /// Another sender into the same stage (fan-in), with its own buffer.
    fn clone(&self) -> Self {
        let mut sender = BatchSender::new_unwrapped(self.tx.clone(), self.max_batch_size);
        sender.spares = self.spares.clone();
        sender.origin_spares = self.origin_spares.clone();
        sender
    }
}

fn stopped() -> Error {
    Error::new(ErrorKind::Stopped, "a downstream stage stopped")
}

impl<T> BatchSender<T> {
    /// Wraps a raw channel sender whose batches grow up to `max_batch_size` items.
    pub fn new(tx: Sender<Message<T>>, max_batch_size: usize) -> Self {
        Self::new_unwrapped(Some(tx), max_batch_size)
    }

    fn new_unwrapped(tx: Option<Sender<Message<T>>>, max_batch_size: usize) -> Self {
        let max_batch_size = max_batch_size.max(1);
        let batch_size = max_batch_size.min(super::DEFAULT_BATCH_SIZE);
        BatchSender {
            tx,
            buffer: Vec::with_capacity(batch_size),
            batch_size,
            max_batch_size,
            spares: None,
            origins: Vec::new(),
            origin_spares: None,
        }
    }

    /// An empty buffer for the next batch: one the receiving stage gave back, if any.
    fn next_buffer(&self) -> Vec<T> {
        match &self.spares {
            Some(spares) => spares.take(self.batch_size),
            None => Vec::with_capacity(self.batch_size),
        }
    }

    /// Sends the full buffer and doubles the next batch (up to the largest).
    fn send_full(&mut self) -> Result<()> {
        self.batch_size = (self.batch_size * 2).min(self.max_batch_size);
        self.send_buffer()
    }

    /// Sends the buffer (with its origins, if traced) and takes fresh ones.
    fn send_buffer(&mut self) -> Result<()> {
        let next = self.next_buffer();
        let batch = std::mem::replace(&mut self.buffer, next);
        if self.origins.is_empty() {
            return self.send(Message::Batch(batch));
        }
        let next = match &self.origin_spares {
            Some(spares) => spares.take(self.batch_size),
            None => Vec::with_capacity(self.batch_size),
        };
        let origins = std::mem::replace(&mut self.origins, next);
        self.send(Message::Traced(batch, origins))
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
        self.send_buffer()
    }

    /// Flushes and tells the receiving stage this sender's stream has ended; the next stream
    /// starts with small batches again.
    pub fn finish(&mut self) -> Result<()> {
        self.flush()?;
        self.batch_size = self.max_batch_size.min(super::DEFAULT_BATCH_SIZE);
        self.send(Message::Finish)
    }

    /// Drops the channel: the receiving stage sees it close once every sender is gone.
    pub fn disconnect(&mut self) {
        self.tx = None;
        self.buffer.clear();
        self.origins.clear();
    }
}

impl<T> BatchSender<T> {
    /// Sends every item of `items` in order, leaving it empty: a whole batch at a time, not item by
    /// item. When nothing is buffered and `items` fits and has room for a whole batch, the two
    /// buffers are swapped (a smaller buffer would have to grow as later items arrive).
    ///
    /// ```
    /// use pipeline_core::runtime::{stage_channel, Message, StageConfig};
    /// let (mut tx, rx) = stage_channel::<i64>(StageConfig { batch_size: 2, capacity: 4 });
    /// let mut items = vec![1, 2, 3];
    /// tx.emit_all(&mut items).unwrap();
    /// tx.finish().unwrap();
    /// let batches: Vec<Vec<i64>> = rx.try_iter().filter_map(|m| match m {
    ///     Message::Batch(b) => Some(b),
    ///     _ => None,
    /// }).collect();
    /// assert_eq!((items.len(), batches), (0, vec![vec![1, 2], vec![3]]));
    /// ```
    pub fn emit_all(&mut self, items: &mut Vec<T>) -> Result<()> {
        while !items.is_empty() {
            let room = self.batch_size - self.buffer.len();
            if self.buffer.is_empty() && items.len() <= room && items.capacity() >= self.batch_size
            {
                std::mem::swap(&mut self.buffer, items);
            } else {
                self.buffer.extend(items.drain(..room.min(items.len())));
            }
            if self.buffer.len() >= self.batch_size {
                self.send_full()?;
            }
        }
        Ok(())
    }
}

impl<T> BatchSender<T> {
    /// [`emit_all`](Self::emit_all) for traced items: `origins[i]` is the origin of `items[i]`
    /// (see [`Message::Traced`]); both are left empty. A sender is fed either traced or untraced
    /// items, never both. Unlike `emit_all`, a batch that fits an empty buffer is swapped in
    /// whatever its capacity: a dynamic stage hands on the batch its node filled, which changes
    /// hands at every boundary of a staged run instead of being copied.
    ///
    /// ```
    /// use pipeline_core::runtime::{stage_channel, Message, StageConfig};
    /// let (mut tx, rx) = stage_channel::<i64>(StageConfig { batch_size: 2, capacity: 4 });
    /// tx.emit_all_traced(&mut vec![1, 2, 3], &mut vec![0, 0, 5]).unwrap();
    /// tx.finish().unwrap();
    /// let batches: Vec<(Vec<i64>, Vec<u64>)> = rx.try_iter().filter_map(|m| match m {
    ///     Message::Traced(b, o) => Some((b, o)),
    ///     _ => None,
    /// }).collect();
    /// assert_eq!(batches, [(vec![1, 2], vec![0, 0]), (vec![3], vec![5])]);
    /// ```
    pub fn emit_all_traced(&mut self, items: &mut Vec<T>, origins: &mut Vec<u64>) -> Result<()> {
        debug_assert_eq!(items.len(), origins.len());
        while !items.is_empty() {
            let room = self.batch_size - self.buffer.len();
            if self.buffer.is_empty() && items.len() <= room {
                std::mem::swap(&mut self.buffer, items);
                std::mem::swap(&mut self.origins, origins);
            } else {
                let take = room.min(items.len());
                self.buffer.extend(items.drain(..take));
                self.origins.extend(origins.drain(..take));
            }
            if self.buffer.len() >= self.batch_size {
                self.send_full()?;
            }
        }
        origins.clear();
        Ok(())
    }

    /// Lets `fill` push items straight onto the batch being filled (a node's
    /// [`process_batch`](crate::Node::process_batch)), then sends the batch once it is full. A
    /// batch may end up longer than the batch size when `fill` pushes more than fits; it is sent
    /// whole. What `fill` pushed before failing still goes on.
    ///
    /// ```
    /// use pipeline_core::runtime::{stage_channel, Message, StageConfig};
    /// let (mut tx, rx) = stage_channel::<i64>(StageConfig { batch_size: 2, capacity: 4 });
    /// tx.fill_with(|batch| {
    ///     batch.extend([1, 2, 3]);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// assert!(matches!(rx.try_recv().unwrap(), Message::Batch(b) if b == vec![1, 2, 3]));
    /// ```
    pub fn fill_with(&mut self, fill: impl FnOnce(&mut Vec<T>) -> Result<()>) -> Result<()> {
        let filled = fill(&mut self.buffer);
        if self.buffer.len() >= self.batch_size {
            self.send_full()?;
        }
        filled
    }
}

impl<T> Emitter<T> for BatchSender<T> {
    #[inline]
    fn emit(&mut self, item: T) -> Result<()> {
        self.buffer.push(item);
        if self.buffer.len() >= self.batch_size {
            return self.send_full();
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
    fn batches_grow_up_to_the_largest_and_start_small_again_after_the_end() {
        let (mut tx, rx) = stage_channel::<u32>(StageConfig {
            batch_size: 3000,
            capacity: 64,
        });
        let sizes = || -> Vec<usize> {
            rx.try_iter()
                .map(|m| match m {
                    Message::Batch(b) => b.len(),
                    Message::Traced(b, _) => b.len(),
                    Message::Finish => 0,
                })
                .collect()
        };
        for stream in 0..2 {
            for i in 0..10_000 {
                tx.emit(i).unwrap();
            }
            tx.finish().unwrap();
            assert_eq!(sizes(), [1024, 2048, 3000, 3000, 928, 0], "stream {stream}");
        }
        let mut small = BatchSender::new(tx.tx.clone().unwrap(), 2);
        small.emit_all(&mut vec![1, 2, 3, 4, 5]).unwrap();
        small.finish().unwrap();
        assert_eq!(
            sizes(),
            [2, 2, 1, 0],
            "a size below the first batch is exact"
        );
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
