//! Flow control: what the loop does when a client reads more slowly than others send to it.
//!
//! A client's *backlog* is the bytes queued for it and not yet taken by its socket. When a send
//! leaves a recipient's backlog above the high-water mark, the recipient is *above the mark*
//! until a flush brings it below the low-water mark; then [`Handler::on_drain`] is called for it.
//! What else happens depends on the [`Backpressure`] policy:
//!
//! - `Pace`: the client whose data caused the send (the `cause`: the client whose message the
//!   handler is answering) stops being read until every recipient it pushed over the mark has
//!   drained; TCP then pushes back on that sender. Its unread bytes are set aside in the
//!   connection and it is put back on the ready list when it resumes (mio is edge-triggered: no
//!   new readable event comes for bytes already read or already waiting in the socket).
//! - `Drop`: messages to a client above the mark are skipped and counted.
//! - `Close`: nothing at the mark; the hard limit ([`Config::max_backlog`]) closes with 1008.
//!
//! Under `Pace` and `Drop`, a client above the mark to which not one byte could be written for
//! the stall timeout is closed with 1008, so one dead reader cannot hold its senders for long.
//! Sends with no client to slow (from a [`Handle`](crate::Handle), a timer, `on_drain`) only
//! meet the hard limit.
//!
//! The send path pays one comparison per message when nobody is above the mark (two under
//! `Drop`); everything else here runs only for clients above it.
//!
//! [`Handler::on_drain`]: crate::Handler::on_drain
//! [`Config::max_backlog`]: crate::Config::max_backlog

use std::collections::HashMap;
use std::time::Instant;

use log::debug;

use crate::client::ClientId;
use crate::config::Backpressure;
use crate::handler::Handler;
use crate::message::CloseReason;
use crate::server::event_loop::EventLoop;
use crate::stats::FlowStats;

/// A client above the mark.
struct Above {
    generation: u32,
    /// When a byte was last written to it (or when it went above the mark).
    since: Instant,
    /// Senders paused for it (`Pace`), each once.
    senders: Vec<ClientId>,
}

/// The loop's flow-control state.
pub(crate) struct Flow {
    pub(crate) policy: Backpressure,
    /// The high-water mark: one comparison per send.
    pub(crate) high: usize,
    low: usize,
    /// The backlog above which a send is dropped: `high` under `Drop`, else `usize::MAX`.
    pub(crate) drop_above: usize,
    /// The client whose data the loop is acting on (a message being handled), if any.
    pub(crate) cause: Option<ClientId>,
    above: HashMap<usize, Above>,
    /// Connections to read without waiting for an event: resumed after a pause, or stopped by
    /// the read budget with bytes left.
    pub(crate) ready: Vec<usize>,
    pub(crate) stats: FlowStats,
}

impl Flow {
    pub(crate) fn new(config: &crate::Config) -> Self {
        let (high, low) = config.water_marks();
        Flow {
            policy: config.backpressure,
            high,
            low,
            drop_above: if config.backpressure == Backpressure::Drop {
                high
            } else {
                usize::MAX
            },
            cause: None,
            above: HashMap::new(),
            ready: Vec::new(),
            stats: FlowStats::default(),
        }
    }
}

impl<H: Handler> EventLoop<H> {
    /// A send left the client in `slot` above the high-water mark. Cold: runs only then.
    #[cold]
    pub(crate) fn over_mark(&mut self, slot: usize) {
        let now = self.now;
        let Some(conn) = self.conns.get_mut(slot) else {
            return;
        };
        if !conn.is_open() {
            return;
        }
        let generation = conn.generation;
        if !conn.flow.above() {
            conn.flow.set_above(true);
            self.flow.above.insert(
                slot,
                Above {
                    generation,
                    since: now,
                    senders: Vec::new(),
                },
            );
        }
        let (Backpressure::Pace, Some(cause)) = (self.flow.policy, self.flow.cause) else {
            return;
        };
        let Some(above) = self.flow.above.get_mut(&slot) else {
            return;
        };
        // One handler call may send to the same client many times; it pauses its sender once.
        if above.senders.last() == Some(&cause) {
            return;
        }
        let Some(sender) = self
            .conns
            .get_mut(cause.slot())
            .filter(|c| c.generation == cause.generation && c.is_open())
        else {
            return;
        };
        let was_paused = sender.flow.paused();
        if sender.flow.block() {
            if !was_paused {
                self.flow.stats.pauses += 1;
            }
            above.senders.push(cause);
        }
    }

    /// A send to a client above the mark was skipped (`Drop`).
    #[cold]
    pub(crate) fn dropped(&mut self) {
        self.flow.stats.dropped += 1;
    }

    /// After a flush of a client that was above the mark with `before` bytes queued: notes
    /// progress, and once it is below the low-water mark resumes its senders and calls
    /// `on_drain`.
    pub(crate) fn flushed_above(&mut self, slot: usize, before: usize) {
        let Some(conn) = self.conns.get(slot) else {
            return;
        };
        let backlog = conn.backlog();
        let (id, open) = (ClientId::new(slot, conn.generation), conn.is_open());
        if backlog >= self.flow.low {
            if backlog < before {
                if let Some(above) = self.flow.above.get_mut(&slot) {
                    above.since = self.now;
                }
            }
            return;
        }
        self.forget_above(slot);
        if open {
            self.call_drain(id);
        }
    }

    /// The client in `slot` is no longer above the mark (drained, leaving or gone): its paused
    /// senders that have no other blocker are read again.
    pub(crate) fn forget_above(&mut self, slot: usize) {
        if let Some(conn) = self.conns.get_mut(slot) {
            conn.flow.set_above(false);
        }
        let Some(above) = self.flow.above.remove(&slot) else {
            return;
        };
        for sender in above.senders {
            if let Some(conn) = self
                .conns
                .get_mut(sender.slot())
                .filter(|c| c.generation == sender.generation)
            {
                if conn.flow.unblock() {
                    self.flow.ready.push(sender.slot());
                }
            }
        }
    }

    /// The client in `slot` leaves the open state: nothing more is sent to it, so it blocks no
    /// sender, and if it was paused it is read again (to finish its close handshake).
    pub(crate) fn flow_leave(&mut self, slot: usize) {
        self.forget_above(slot);
        if let Some(conn) = self.conns.get_mut(slot) {
            if conn.flow.unblock_all() {
                self.flow.ready.push(slot);
            }
        }
    }

    /// Closes clients above the mark that took no byte for the stall timeout (`Pace`, `Drop`).
    pub(crate) fn sweep_stalled(&mut self) {
        if self.flow.policy == Backpressure::Close || self.flow.above.is_empty() {
            return;
        }
        let now = self.now;
        let stall = self.config.stall_timeout;
        let stalled: Vec<ClientId> = self
            .flow
            .above
            .iter()
            .filter(|(_, above)| now.saturating_duration_since(above.since) >= stall)
            .map(|(slot, above)| ClientId::new(*slot, above.generation))
            .collect();
        for id in stalled {
            let Some(conn) = self.conn_mut(id) else {
                self.forget_above(id.slot());
                continue;
            };
            debug!("{}: no progress for {stall:?} above the mark", conn.peer);
            let progress = conn.close(1008, "too slow: no progress", CloseReason::SlowConsumer);
            self.flow.stats.stalled += 1;
            self.queue_flush(id.slot());
            self.on_progress(id.slot(), progress);
            self.forget_above(id.slot());
        }
    }

    /// Calls [`Handler::on_drain`] for a client that fell below the low-water mark.
    fn call_drain(&mut self, id: ClientId) {
        self.call(id, "on_drain", |handler, ctx, state| {
            handler.on_drain(ctx, state)
        });
    }
}
