//! What a handler can do: sends (made at once into a client's outgoing buffer when nothing stands
//! before them, else queued), closes and timers, which the loop applies after the call.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use slab::Slab;

use crate::client::ClientId;
use crate::client::TimerId;
use crate::connection::Conn;
use crate::handler::outbox::{Action, Outbox};
use crate::handler::topics::Topics;
use crate::message::Fragment;
use crate::message_ref::{IntoMessage, MessageRef};
use crate::stats::FlowStats;
use crate::stats::Stats;

/// The loop-wide part of a handler's context: send to any client, broadcast, close, list clients,
/// set timers, stop the server.
///
/// Calls take effect in the order they are made, and no call touches a socket. A send is encoded
/// into the client's outgoing buffer at once when nothing queued before it stands in its way;
/// everything else is queued and applied by the loop after the handler returns (for the messages
/// of one read, after the last of them, so that a run of broadcasts goes out as one batch).
/// Sockets are written after that.
pub struct Context<'a> {
    pub(crate) conns: &'a mut Slab<Conn>,
    pub(crate) outbox: &'a mut Outbox,
    pub(crate) stats: &'a mut Stats,
    pub(crate) flow: &'a FlowStats,
    pub(crate) topics: &'a mut Topics,
    /// The loop's list of connections to flush (a send made at once joins it).
    pub(crate) to_flush: &'a mut Vec<usize>,
    /// The high-water mark: a send made at once never takes a client past it.
    pub(crate) high: usize,
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("connections", &self.conns.len())
            .field("queued_actions", &self.outbox.actions.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Context<'a> {
    /// Bytes queued for a client and not yet taken by its socket: frames waiting in the server
    /// (a send made at once among them) plus, estimated, the messages still queued for it (sends,
    /// pieces and broadcasts the loop applies after the call; each counts its payload plus a
    /// 10-byte header). 0 for a client that has gone. Like `bufferedAmount` in browsers and
    /// uWebSockets' `getBufferedAmount()`: a handler that streams can send while this is low
    /// and continue in [`Handler::on_drain`](crate::Handler::on_drain). Counting this call's
    /// own queue walks it, so the cost grows with what the call has queued.
    ///
    /// ```
    /// use simple_ws_server::{ClientContext, Handler, Message};
    ///
    /// /// Sends a large report in 16 KiB messages, never more than 256 KiB ahead of the client.
    /// #[derive(Default)]
    /// struct Report {
    ///     left: usize,
    /// }
    ///
    /// impl Report {
    ///     fn send_some(&mut self, ctx: &mut ClientContext<'_>) {
    ///         while self.left > 0 && ctx.buffered_amount(ctx.id()) < 256 << 10 {
    ///             ctx.send(vec![b'.'; 16 << 10]);
    ///             self.left -= 1;
    ///         }
    ///     }
    /// }
    ///
    /// impl Handler for Report {
    ///     type State = ();
    ///
    ///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), _message: Message) {
    ///         self.left = 1000;
    ///         self.send_some(ctx);
    ///     }
    ///
    ///     fn on_drain(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
    ///         self.send_some(ctx);
    ///     }
    /// }
    /// ```
    pub fn buffered_amount(&self, client: ClientId) -> usize {
        let Some(conn) = self.open_conn(client) else {
            return 0;
        };
        let queued: usize = self
            .outbox
            .actions
            .iter()
            .map(|action| match action {
                Action::Send(id, message) if *id == client => message.len() + 10,
                Action::Broadcast { except, message } if *except != Some(client) => {
                    message.len() + 10
                }
                Action::Publish {
                    topic,
                    except,
                    message,
                    ..
                } if *except != Some(client) && self.topics.is_subscribed(client, topic) => {
                    message.len() + 10
                }
                Action::Fragment(id, fragment) if *id == client => match fragment {
                    Fragment::Start(message) => message.len() + 10,
                    Fragment::Continue(bytes) | Fragment::End(bytes) => bytes.len() + 10,
                },
                _ => 0,
            })
            .sum();
        conn.backlog() + queued
    }

    /// What flow control has done since the server started: senders paused, messages dropped,
    /// stalled readers closed (see [`Backpressure`](crate::Backpressure)).
    pub fn flow_stats(&self) -> FlowStats {
        *self.flow
    }

    /// This loop's counters: connections, messages and bytes in and out, closes by reason,
    /// backlog (see [`Stats`]). The gauges (connections, backlog) are measured now, by a walk
    /// over the connections: call it for a scrape, not per message.
    pub fn stats(&self) -> Stats {
        let mut stats = self.stats.clone();
        stats.sockets = self.conns.len() as u64;
        stats.connections = 0;
        stats.backlog_bytes = 0;
        for (_, conn) in self.conns.iter() {
            if conn.is_open() {
                stats.connections += 1;
            }
            stats.backlog_bytes += (conn.out.len() - conn.out_sent) as u64;
        }
        stats.topics = self.topics.len() as u64;
        stats.flow_pauses = self.flow.pauses;
        stats.flow_drops = self.flow.dropped;
        stats
    }

    /// Send a message to one client. A client that has gone (or whose id is stale) is skipped.
    pub fn send_to(&mut self, client: ClientId, message: impl IntoMessage) {
        let message = message.into_outgoing();
        if !self.send_now(client, message.view()) {
            let message = message.into_message();
            self.outbox.actions.push_back(Action::Send(client, message));
        }
    }

    /// Encodes a send into the client's outgoing buffer at once, when that is exactly what
    /// applying it later would do: nothing is queued before it (so order holds), the loop is
    /// not in the middle of applying a queue (whose later actions would then come after it),
    /// and the client is open, plain (no permessage-deflate, no fragmented message being sent)
    /// and stays under the high-water mark (so flow control has nothing to do). The echo's
    /// path: no action queued, taken and matched per message.
    fn send_now(&mut self, client: ClientId, message: MessageRef<'_>) -> bool {
        if !self.outbox.actions.is_empty() || self.outbox.applying {
            return false;
        }
        let Some(conn) = self
            .conns
            .get_mut(client.slot())
            .filter(|conn| conn.generation == client.generation)
        else {
            return false;
        };
        if !conn.send_now(message, self.high) {
            return false;
        }
        if !conn.dirty {
            conn.dirty = true;
            self.to_flush.push(client.slot());
        }
        self.stats.messages_out += 1;
        self.stats.bytes_out += message.len() as u64;
        true
    }

    /// Send a message to every connected client. The frame is shared, not copied per client.
    pub fn broadcast(&mut self, message: impl IntoMessage) {
        self.outbox.actions.push_back(Action::Broadcast {
            except: None,
            message: message.into_message(),
        });
    }

    /// Send a message to every connected client but one.
    pub fn broadcast_except(&mut self, except: ClientId, message: impl IntoMessage) {
        self.outbox.actions.push_back(Action::Broadcast {
            except: Some(except),
            message: message.into_message(),
        });
    }

    /// Send one piece of a fragmented message to one client (see [`Fragment`]); a client that
    /// has gone is skipped.
    ///
    /// ```
    /// use simple_ws_server::{Context, Fragment, Handler, ClientContext, Message, TimerId};
    ///
    /// /// Streams one piece of a long text to every client each time a timer fires.
    /// struct Chunks;
    ///
    /// impl Handler for Chunks {
    ///     type State = ();
    ///
    ///     fn on_message(&mut self, _: &mut ClientContext<'_>, _: &mut (), _: Message) {}
    ///
    ///     fn on_timer(&mut self, ctx: &mut Context<'_>, _timer: TimerId) {
    ///         let clients: Vec<_> = ctx.clients().collect();
    ///         for client in clients {
    ///             ctx.send_fragment_to(client, Fragment::Start("part one, ".into()));
    ///             ctx.send_fragment_to(client, Fragment::End("part two".into()));
    ///         }
    ///     }
    /// }
    /// ```
    pub fn send_fragment_to(&mut self, client: ClientId, fragment: Fragment) {
        self.outbox
            .actions
            .push_back(Action::Fragment(client, fragment));
    }

    /// Close a client with a close code (1000 for a normal close; 4000-4999 are free for
    /// applications) and a reason of at most 123 bytes (longer is cut at a character boundary).
    /// Its [`on_close`](crate::Handler::on_close) follows. To close the client an event is
    /// about, [`ClientContext::disconnect`](crate::ClientContext::disconnect) is shorter.
    pub fn close(&mut self, client: ClientId, code: u16, reason: &str) {
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        self.outbox
            .actions
            .push_back(Action::Close(client, code, reason[..end].to_owned()));
        self.outbox.urgent = true;
    }

    /// The clients connected now (handshake done, not yet closed), in no particular order.
    pub fn clients(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.conns
            .iter()
            .filter(|(_, conn)| conn.is_open())
            .map(|(slot, conn)| ClientId::new(slot, conn.generation))
    }

    /// How many clients are connected now.
    pub fn client_count(&self) -> usize {
        self.clients().count()
    }

    /// How many connections the server holds now, counting handshakes in progress and closing
    /// connections too: what [`Config::max_connections`](crate::Config::max_connections) limits.
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Whether this client is still connected.
    pub fn is_connected(&self, client: ClientId) -> bool {
        self.open_conn(client).is_some()
    }

    /// The address of a connected client.
    pub fn peer_addr(&self, client: ClientId) -> Option<SocketAddr> {
        self.open_conn(client).map(|conn| conn.peer)
    }

    /// Call [`Handler::on_timer`](crate::Handler::on_timer) once, `after` from now (never
    /// earlier; later by the time the loop takes to get to it, usually well under a millisecond
    /// on an idle server). The returned id names the timer in `on_timer` and
    /// [`cancel_timer`](Self::cancel_timer).
    ///
    /// Timers live in the same deadline heap as the loop's own deadlines, and the loop sleeps in
    /// `poll` until the nearest one: a pending timer costs a few dozen bytes and no CPU while it
    /// waits (tested with 10,000 pending: the loop thread used 0 to 40 µs of CPU time per second
    /// of waiting, the cost of its own timeout sweep). Timers due at the same moment fire in the order they were set. A repeating
    /// timer is one that sets the next in `on_timer`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use simple_ws_server::{ClientContext, Context, Handler, Message, TimerId};
    ///
    /// /// Greets each client, then sends it a second message 5 seconds later.
    /// #[derive(Default)]
    /// struct Later {
    ///     due: Vec<(TimerId, simple_ws_server::ClientId)>,
    /// }
    ///
    /// impl Handler for Later {
    ///     type State = ();
    ///
    ///     fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
    ///         ctx.send("hello");
    ///         let timer = ctx.set_timer(Duration::from_secs(5));
    ///         self.due.push((timer, ctx.id()));
    ///     }
    ///
    ///     fn on_message(&mut self, _: &mut ClientContext<'_>, _: &mut (), _: Message) {}
    ///
    ///     fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
    ///         if let Some(i) = self.due.iter().position(|(t, _)| *t == timer) {
    ///             let (_, client) = self.due.swap_remove(i);
    ///             ctx.send_to(client, "still there?"); // skipped if the client has gone
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// A delay too long for the clock to represent (`Duration::MAX`, or anything past the end
    /// of [`Instant`]'s range, hundreds of years on common platforms) means never: the timer is
    /// accepted, never fires, and cancelling it does nothing. So a delay taken from a client
    /// cannot crash the server.
    pub fn set_timer(&mut self, after: Duration) -> TimerId {
        let id = self.outbox.new_timer_id();
        if let Some(at) = Instant::now().checked_add(after) {
            self.outbox.actions.push_back(Action::SetTimer(id, at));
        }
        id
    }

    /// Cancel a timer that has not fired yet; cancelling a fired or unknown timer does nothing.
    /// Cancelled entries are skipped, and dropped from the deadline heap once they outnumber
    /// the live ones, so re-arming a timer on every message keeps memory bounded.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::time::Duration;
    /// use simple_ws_server::{ClientContext, ClientId, CloseReason, Handler, Message, TimerId};
    ///
    /// /// Closes a client that sends nothing within 10 seconds of connecting.
    /// #[derive(Default)]
    /// struct SpeakUp {
    ///     /// Which client each pending timer is about.
    ///     deadlines: HashMap<TimerId, ClientId>,
    /// }
    ///
    /// impl Handler for SpeakUp {
    ///     /// The client's pending deadline.
    ///     type State = Option<TimerId>;
    ///
    ///     fn on_open(&mut self, ctx: &mut ClientContext<'_>, deadline: &mut Option<TimerId>) {
    ///         let timer = ctx.set_timer(Duration::from_secs(10));
    ///         self.deadlines.insert(timer, ctx.id());
    ///         *deadline = Some(timer);
    ///     }
    ///
    ///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, deadline: &mut Option<TimerId>, _: Message) {
    ///         if let Some(timer) = deadline.take() {
    ///             self.deadlines.remove(&timer);
    ///             ctx.cancel_timer(timer); // it spoke in time
    ///         }
    ///     }
    ///
    ///     fn on_close(&mut self, _: &mut ClientContext<'_>, deadline: Option<TimerId>, _: CloseReason) {
    ///         if let Some(timer) = deadline {
    ///             self.deadlines.remove(&timer);
    ///         }
    ///     }
    ///
    ///     fn on_timer(&mut self, ctx: &mut simple_ws_server::Context<'_>, timer: TimerId) {
    ///         if let Some(client) = self.deadlines.remove(&timer) {
    ///             ctx.close(client, 4000, "say something");
    ///         }
    ///     }
    /// }
    /// ```
    pub fn cancel_timer(&mut self, timer: TimerId) {
        self.outbox.actions.push_back(Action::CancelTimer(timer));
    }

    /// Stop the server gracefully: every client is sent 1001 (going away), and
    /// [`Server::run`](crate::Server::run) returns once they are closed or after a second.
    pub fn stop(&mut self) {
        self.outbox.actions.push_back(Action::Stop);
        self.outbox.urgent = true;
    }

    fn open_conn(&self, client: ClientId) -> Option<&Conn> {
        self.conns
            .get(client.slot())
            .filter(|conn| conn.generation == client.generation && conn.is_open())
    }
}
