//! Deadlines: mio has no timers, so the loop keeps every deadline in one heap and takes its poll
//! timeout from the nearest one.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};
use std::time::{Duration, Instant};

use crate::client::ClientId;

/// Names a timer set with [`Context::set_timer`](crate::Context::set_timer); given back to
/// [`Handler::on_timer`](crate::Handler::on_timer) when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub(crate) u64);

impl TimerId {
    /// The id as a number, unique for the server's lifetime.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// What is due at a deadline. Connection deadlines name the client, so a deadline for a client
/// that has gone (or whose slot was reused) is recognised as stale and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// Look over every connection for handshakes and silences that have lasted too long.
    Sweep,
    /// The client must have finished the close handshake.
    Close(ClientId),
    /// A handler's timer.
    Timer(TimerId),
    /// Try accepting again after running out of file descriptors.
    Accept,
    /// The graceful shutdown's time is up.
    Shutdown,
}

struct Entry {
    at: Instant,
    seq: u64,
    due: Due,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A min-heap of deadlines, in time order, ties in the order they were set.
#[derive(Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    /// Handler timers not yet fired or cancelled; a cancelled timer's heap entry stays until due
    /// and is then skipped.
    pending_timers: HashSet<TimerId>,
}

impl Deadlines {
    pub(crate) fn add(&mut self, at: Instant, due: Due) {
        self.seq += 1;
        if let Due::Timer(id) = due {
            self.pending_timers.insert(id);
        }
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            due,
        }));
    }

    pub(crate) fn cancel_timer(&mut self, id: TimerId) {
        self.pending_timers.remove(&id);
    }

    /// How long the loop may sleep: until the nearest deadline, or for ever when there is none.
    pub(crate) fn timeout(&self, now: Instant) -> Option<Duration> {
        self.heap
            .peek()
            .map(|Reverse(entry)| entry.at.saturating_duration_since(now))
    }

    /// The next deadline that is due at `now`, skipping cancelled timers.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Due> {
        loop {
            if self.heap.peek()?.0.at > now {
                return None;
            }
            let Reverse(entry) = self.heap.pop()?;
            match entry.due {
                Due::Timer(id) if !self.pending_timers.remove(&id) => continue,
                due => return Some(due),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_due_in_time_order_and_cancelled_timers_are_skipped() {
        let mut deadlines = Deadlines::default();
        let start = Instant::now();
        deadlines.add(start + Duration::from_millis(30), Due::Timer(TimerId(3)));
        deadlines.add(start + Duration::from_millis(10), Due::Timer(TimerId(1)));
        deadlines.add(start + Duration::from_millis(20), Due::Timer(TimerId(2)));
        deadlines.cancel_timer(TimerId(2));
        assert_eq!(deadlines.timeout(start), Some(Duration::from_millis(10)));
        assert_eq!(deadlines.pop_due(start), None);
        let later = start + Duration::from_millis(40);
        assert_eq!(deadlines.pop_due(later), Some(Due::Timer(TimerId(1))));
        assert_eq!(deadlines.pop_due(later), Some(Due::Timer(TimerId(3))));
        assert_eq!(deadlines.pop_due(later), None);
        assert_eq!(deadlines.timeout(later), None);
    }
}
