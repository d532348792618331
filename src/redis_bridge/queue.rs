//! The publish queue: from the loops (which never wait) to the publisher thread, bounded in bytes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

/// One message to publish: on the topic channel named, or (`None`) on the bridge's channel.
pub(crate) type Item = (Option<String>, Vec<u8>);

/// What one queued message costs beyond its bytes (the `Vec`, the channel's slot), so that empty
/// messages are bounded too.
pub(crate) const OVERHEAD: usize = 64;

/// The loops' end: never blocks; refuses a message that would take the queue past its limit.
pub(crate) struct QueueSender {
    tx: Sender<Item>,
    queued: Arc<AtomicUsize>,
    limit: usize,
}

/// The publisher thread's end.
pub(crate) struct QueueReceiver {
    rx: Receiver<Item>,
    queued: Arc<AtomicUsize>,
}

/// A queue holding at most `limit` bytes (each message counted with [`OVERHEAD`]).
pub(crate) fn bounded(limit: usize) -> (QueueSender, QueueReceiver) {
    let (tx, rx) = mpsc::channel();
    let queued = Arc::new(AtomicUsize::new(0));
    (
        QueueSender {
            tx,
            queued: queued.clone(),
            limit,
        },
        QueueReceiver { rx, queued },
    )
}

fn cost((channel, bytes): &Item) -> usize {
    let channel = channel.as_ref().map_or(0, String::len);
    bytes.len().saturating_add(channel).saturating_add(OVERHEAD)
}

impl QueueSender {
    /// Whether a message of `len` bytes could be queued now (a hint: checked before encoding).
    pub(crate) fn has_room(&self, len: usize) -> bool {
        let cost = len.saturating_add(OVERHEAD);
        self.queued.load(Ordering::Acquire).saturating_add(cost) <= self.limit
    }

    /// Queues `bytes`; `false` (and nothing queued) when the queue is full or its reader gone.
    pub(crate) fn push(&self, item: Item) -> bool {
        let cost = cost(&item);
        let reserved = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                queued
                    .checked_add(cost)
                    .filter(|&total| total <= self.limit)
            });
        if reserved.is_err() {
            return false;
        }
        if self.tx.send(item).is_err() {
            self.queued.fetch_sub(cost, Ordering::AcqRel);
            return false;
        }
        true
    }
}

impl QueueReceiver {
    fn took(&self, item: Item) -> Item {
        self.queued.fetch_sub(cost(&item), Ordering::AcqRel);
        item
    }

    /// The next message, waiting up to `timeout`.
    pub(crate) fn recv_timeout(&self, timeout: Duration) -> Result<Item, RecvTimeoutError> {
        self.rx.recv_timeout(timeout).map(|bytes| self.took(bytes))
    }

    /// The next message if there is one.
    pub(crate) fn try_recv(&self) -> Result<Item, TryRecvError> {
        self.rx.try_recv().map(|bytes| self.took(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded_in_bytes_not_in_messages() {
        let (tx, rx) = bounded(10 * (1000 + OVERHEAD));
        let accepted = (0..100).filter(|_| tx.push((None, vec![0; 1000]))).count();
        assert_eq!(accepted, 10);
        assert!(!tx.has_room(1000));
        // Small messages still fit where a large one does not.
        rx.try_recv().unwrap();
        assert!(tx.push((None, vec![0; 500])));
        assert!(!tx.push((None, vec![0; 1000])));
        // A message larger than the whole queue never fits; an empty one costs its overhead.
        let (tx, _rx) = bounded(OVERHEAD);
        assert!(!tx.push((None, vec![0; 1])));
        assert!(tx.push((None, Vec::new())));
        assert!(!tx.push((None, Vec::new())));
    }
}
