//! Time in the loop: deadlines that have come due, and the sweep that ends slow handshakes and
//! silent clients.
//!
//! Handshake and idle timeouts are found by a sweep over all connections a few times per
//! timeout (at most once a second) rather than by a deadline per connection: a connection then
//! costs no timer memory at all, and a sweep over 100,000 connections takes well under a
//! millisecond. A timeout fires between its nominal time and one sweep interval later.

use std::time::{Duration, Instant};

use log::debug;

use crate::client::ClientId;
use crate::config::Backpressure;
use crate::handler::Handler;
use crate::message::CloseReason;
use crate::server::event_loop::EventLoop;
use crate::server::timer::Due;

impl<H: Handler> EventLoop<H> {
    /// How often the sweep runs: a quarter of the shortest timeout, between 10 ms and 1 s.
    pub(crate) fn sweep_interval(&self) -> Duration {
        let config = &self.config;
        let mut shortest = config.handshake_timeout;
        if let Some(idle) = config.idle_timeout {
            shortest = shortest.min(idle).min(config.pong_timeout);
        }
        if config.backpressure != Backpressure::Close {
            shortest = shortest.min(config.stall_timeout);
        }
        (shortest / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// Acts on every deadline that has come due.
    pub(crate) fn run_deadlines(&mut self) {
        let now = Instant::now();
        while let Some(due) = self.deadlines.pop_due(now) {
            self.now = now;
            match due {
                Due::Sweep => {
                    self.sweep();
                    self.deadlines
                        .add_after(now, self.sweep_interval(), Due::Sweep);
                }
                Due::Close(id) => {
                    if self.conn(id).is_some() {
                        self.remove(id.slot(), CloseReason::Timeout);
                    }
                }
                Due::Timer(timer) => self.call_timer(timer),
                Due::Accept => {
                    self.accept_paused = false;
                    self.accept_all();
                }
                Due::Shutdown => {
                    let slots: Vec<usize> = self.conns.iter().map(|(slot, _)| slot).collect();
                    for slot in slots {
                        self.remove(slot, CloseReason::Shutdown);
                    }
                }
            }
            self.apply_outbox();
            self.flush_all();
        }
    }

    /// Ends handshakes that took too long, pings clients that have been silent, ends those
    /// that stayed silent after the ping, and closes readers stalled above the high-water mark.
    fn sweep(&mut self) {
        let now = self.now;
        let handshake_timeout = self.config.handshake_timeout;
        let idle = self.config.idle_timeout;
        // Checked: a huge setting means never, not an overflow.
        let dead_after = idle.and_then(|idle| idle.checked_add(self.config.pong_timeout));
        let mut expired = Vec::new();
        let mut to_ping = Vec::new();
        for (slot, conn) in &self.conns {
            let silence = now.saturating_duration_since(conn.last_seen);
            if conn.in_handshake() {
                if silence >= handshake_timeout {
                    expired.push(slot);
                }
            } else if conn.is_open() {
                if dead_after.is_some_and(|dead| conn.pinged && silence >= dead) {
                    expired.push(slot);
                } else if idle.is_some_and(|idle| !conn.pinged && silence >= idle) {
                    to_ping.push(ClientId::new(slot, conn.generation));
                }
            }
        }
        for slot in expired {
            debug!("connection {slot}: timed out");
            self.remove(slot, CloseReason::Timeout);
        }
        self.sweep_stalled();
        for id in to_ping {
            if let Some(conn) = self.conn_mut(id) {
                let progress = conn.ping();
                self.queue_flush(id.slot());
                self.on_progress(id.slot(), progress);
            }
        }
    }
}
