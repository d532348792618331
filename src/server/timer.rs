//! Deadlines: mio has no timers, so the loop keeps every deadline in one heap and takes its poll
//! timeout from the nearest one.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};
use std::time::{Duration, Instant};

use crate::client::{ClientId, TimerId};

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
    /// Handler timers not yet fired or cancelled.
    pending_timers: HashSet<TimerId>,
    /// Heap entries of cancelled timers, skipped when they come due. When they outnumber the
    /// live entries the heap is rebuilt without them, so re-arming a timer per message keeps the
    /// heap at most about twice the number of live deadlines.
    cancelled: usize,
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

    /// Adds a deadline `after` from `now`; a deadline too far away to represent (past the end
    /// of `Instant`, e.g. `Duration::MAX`) never comes due, so nothing is added.
    pub(crate) fn add_after(&mut self, now: Instant, after: Duration, due: Due) {
        if let Some(at) = now.checked_add(after) {
            self.add(at, due);
        }
    }

    pub(crate) fn cancel_timer(&mut self, id: TimerId) {
        if self.pending_timers.remove(&id) {
            self.cancelled += 1;
            if self.cancelled > self.heap.len() / 2 {
                self.compact();
            }
        }
    }

    /// Drops the entries of cancelled timers: O(n), run only once they are more than half the
    /// heap, so each cancel costs O(1) amortised.
    fn compact(&mut self) {
        let pending = &self.pending_timers;
        self.heap.retain(|Reverse(entry)| match entry.due {
            Due::Timer(id) => pending.contains(&id),
            _ => true,
        });
        self.cancelled = 0;
    }

    /// Entries in the heap, live or cancelled (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
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
                Due::Timer(id) if !self.pending_timers.remove(&id) => {
                    self.cancelled = self.cancelled.saturating_sub(1);
                    continue;
                }
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

    /// Regression (issue 11): cancelled timers stayed in the heap until their deadline, so a
    /// handler re-arming an idle timer on every message grew the heap by one entry per message.
    #[test]
    fn rearming_a_timer_per_message_keeps_the_heap_bounded() {
        let mut deadlines = Deadlines::default();
        let start = Instant::now();
        deadlines.add(start + Duration::from_secs(1), Due::Sweep);
        let mut timer = TimerId(0);
        deadlines.add(start + Duration::from_secs(60), Due::Timer(timer));
        let mut largest = 0;
        for n in 1..=100_000u64 {
            deadlines.cancel_timer(timer);
            timer = TimerId(n);
            deadlines.add(start + Duration::from_secs(60), Due::Timer(timer));
            largest = largest.max(deadlines.len());
        }
        assert!(largest <= 8, "the heap grew to {largest} entries");
        // The live timer still fires, once; the cancelled ones never do.
        let later = start + Duration::from_secs(61);
        assert_eq!(deadlines.pop_due(later), Some(Due::Sweep));
        assert_eq!(deadlines.pop_due(later), Some(Due::Timer(timer)));
        assert_eq!(deadlines.pop_due(later), None);
    }

    #[test]
    fn a_deadline_past_the_end_of_time_never_comes_due() {
        let mut deadlines = Deadlines::default();
        let now = Instant::now();
        deadlines.add_after(now, Duration::MAX, Due::Timer(TimerId(1)));
        assert_eq!(deadlines.timeout(now), None);
        assert_eq!(deadlines.pop_due(now + Duration::from_secs(1 << 40)), None);
    }
}
