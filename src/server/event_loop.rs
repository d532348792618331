//! The loop: one `mio::Poll` owning the listener and every connection, edge-triggered throughout.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use tungstenite::protocol::WebSocketConfig;

use crate::client::ClientId;
use crate::config::Config;
use crate::connection::read_ahead::ReadAhead;
use crate::connection::{Conn, Progress};
use crate::error::{Error, Result};
use crate::handler::outbox::Outbox;
use crate::handler::topics::Topics;
use crate::handler::Handler;
use crate::message::CloseReason;
use crate::server::flow::Flow;
use crate::server::handle::Inbox;
use crate::server::session::Sessions;
use crate::server::timer::{Deadlines, Due};
use crate::stats::Stats;

pub(crate) const LISTENER: Token = Token(0);
pub(crate) const WAKER: Token = Token(1);
pub(crate) const FIRST_CONN: usize = 2;

/// How long a graceful shutdown waits for clients to answer their close frames.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// Reports (messages, control frames) taken from one connection per turn of the loop before the
/// others get theirs; the rest of its bytes wait on the ready list. Large enough that pipelined
/// echo costs no extra turns, small enough that a flood of tiny frames cannot hold the loop.
const READ_BUDGET: u32 = 64;
/// Bytes of messages from one connection whose handler actions are applied together (see
/// [`EventLoop::read`]): what a recipient can be pushed past the high-water mark before flow
/// control sees it is bounded by this (and by one message).
const COALESCE_BYTES: usize = 16 * 1024;
/// Output a read left queued for its own connection that is written at once (see
/// [`EventLoop::read`]) rather than at the end of the turn.
const EARLY_FLUSH: usize = 32 * 1024;

pub(crate) struct EventLoop<H: Handler> {
    pub(crate) poll: Poll,
    pub(crate) listener: Option<TcpListener>,
    pub(crate) config: Config,
    pub(crate) ws_config: WebSocketConfig,
    pub(crate) conns: Slab<Conn>,
    pub(crate) outbox: Outbox,
    /// Connections with output queued, flushed once at the end of each batch of events.
    pub(crate) to_flush: Vec<usize>,
    pub(crate) deadlines: Deadlines,
    pub(crate) handler: H,
    /// Each connection's handler state and request, by slot.
    pub(crate) sessions: Sessions<H::State>,
    pub(crate) stats: Stats,
    pub(crate) inbox: Inbox,
    pub(crate) next_generation: u32,
    /// The loop's one large read buffer (see read_ahead.rs).
    pub(crate) ahead: ReadAhead,
    /// permessage-deflate state shared by the loop's connections (see deflate/pool.rs).
    pub(crate) deflate: crate::connection::DeflatePool,
    pub(crate) now: Instant,
    /// Flow control and the ready list (see flow.rs).
    pub(crate) flow: Flow,
    pub(crate) stopping: bool,
    pub(crate) accept_paused: bool,
    /// Which clients subscribe to which topics (see topics.rs).
    pub(crate) topics: Topics,
}

impl<H: Handler> EventLoop<H> {
    pub(crate) fn new(
        poll: Poll,
        mut listener: TcpListener,
        config: Config,
        inbox: Inbox,
        handler: H,
    ) -> Result<Self> {
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .map_err(|source| Error::EventLoop {
                context: "registering the listener",
                source,
            })?;
        let mut deadlines = Deadlines::default();
        deadlines.add(Instant::now(), Due::Sweep);
        Ok(EventLoop {
            poll,
            listener: Some(listener),
            ws_config: config.websocket_config(),
            flow: Flow::new(&config),
            deflate: crate::connection::deflate_pool(&config),
            config,
            conns: Slab::new(),
            outbox: Outbox::default(),
            to_flush: Vec::new(),
            deadlines,
            handler,
            sessions: Sessions::default(),
            stats: Stats::default(),
            inbox,
            next_generation: 0,
            ahead: ReadAhead::new(),
            now: Instant::now(),
            stopping: false,
            accept_paused: false,
            topics: Topics::default(),
        })
    }

    /// One turn of the loop: waits for events (until the nearest deadline, and at most
    /// `max_wait`), acts on them and on the deadlines that came due. Returns whether the loop
    /// goes on: `false` once it has stopped.
    pub(crate) fn step(&mut self, events: &mut Events, max_wait: Option<Duration>) -> Result<bool> {
        if self.stopping && self.conns.is_empty() {
            return Ok(false);
        }
        // Connections with bytes left to read get no new event: do not sleep while any wait.
        let mut timeout = if self.flow.ready.is_empty() {
            self.deadlines.timeout(Instant::now())
        } else {
            Some(Duration::ZERO)
        };
        if let Some(max) = max_wait {
            timeout = Some(timeout.map_or(max, |t| t.min(max)));
        }
        if let Err(source) = self.poll.poll(events, timeout) {
            if source.kind() == ErrorKind::Interrupted {
                return Ok(true);
            }
            return Err(Error::EventLoop {
                context: "waiting for events",
                source,
            });
        }
        self.now = Instant::now();
        for event in events.iter() {
            match event.token() {
                LISTENER => self.accept_all(),
                WAKER => self.take_commands(),
                Token(token) => {
                    let slot = token - FIRST_CONN;
                    if event.is_writable() {
                        self.queue_flush(slot);
                    }
                    if event.is_readable() || event.is_read_closed() || event.is_error() {
                        self.read(slot);
                    }
                }
            }
        }
        // Then the connections that were stopped by their budget or have just been resumed,
        // after every connection that had an event.
        let mut ready = std::mem::take(&mut self.flow.ready);
        for slot in ready.drain(..) {
            self.read(slot);
        }
        if self.flow.ready.is_empty() {
            // Keep the allocation for the next turn.
            self.flow.ready = ready;
        }
        self.flush_all();
        self.run_deadlines();
        Ok(!(self.stopping && self.conns.is_empty()))
    }

    /// Reads from a connection until it would block, acting on everything it reports; or until
    /// flow control pauses it, or its budget for this turn is spent (then it goes on the ready
    /// list, to be read again after the others).
    ///
    /// What the handler queues for the messages of one read is applied together, once the read
    /// ends or [`COALESCE_BYTES`] of messages have been handled: a run of broadcasts (or
    /// publishes to one topic) is then delivered as one batch, one copy and one check per
    /// recipient instead of one per message (see `deliver_batch`). Order is kept: actions are
    /// applied in the order they were queued, before anything else happens on the loop.
    pub(crate) fn read(&mut self, slot: usize) {
        // Whatever is left in the shared buffer belongs to a connection that has gone.
        self.ahead.clear();
        self.read_batch(slot);
        self.apply_outbox();
        self.flow.cause = None;
        // Large output is written now, while the bytes just encoded are still in the cache;
        // small output waits for the end of the turn, to go out in fewer, larger writes.
        if self
            .conns
            .get(slot)
            .is_some_and(|conn| conn.dirty && conn.backlog() >= EARLY_FLUSH)
        {
            self.flush_one(slot);
        }
    }

    fn read_batch(&mut self, slot: usize) {
        let mut budget = READ_BUDGET;
        let mut pending = 0;
        loop {
            if pending >= COALESCE_BYTES {
                // Bounded coalescing: flow control sees the sends before more is read.
                pending = 0;
                self.apply_outbox();
            }
            let Some(conn) = self.conns.get_mut(slot) else {
                return;
            };
            if conn.flow.paused() && conn.is_open() {
                // Resumed by flow.rs, which puts it back on the ready list.
                conn.keep_unread(&mut self.ahead);
                return;
            }
            if budget == 0 {
                conn.keep_unread(&mut self.ahead);
                self.flow.ready.push(slot);
                return;
            }
            budget -= 1;
            let id = ClientId::new(slot, conn.generation);
            let progress = conn.read(&self.config, &mut self.ahead, &mut self.deflate, self.now);
            match progress {
                Progress::Idle => return,
                Progress::Continue => self.queue_flush(slot),
                Progress::InPlace { text, start, len } => {
                    pending += len.max(1);
                    self.queue_flush(slot);
                    self.flow.cause = Some(id);
                    if !self.on_message_in_place(slot, id, (text, start, len), &mut budget) {
                        return;
                    }
                    if !self.outbox.may_wait() {
                        pending = COALESCE_BYTES;
                    }
                }
                progress => {
                    if let Progress::Message(message) = &progress {
                        pending += message.len().max(1);
                    } else {
                        // Anything but a message (an open, a close) is acted on at once.
                        pending = COALESCE_BYTES;
                    }
                    self.queue_flush(slot);
                    // What the handler sends now is caused by this client's data.
                    self.flow.cause = Some(id);
                    if !self.on_progress(slot, progress) {
                        return;
                    }
                    if !self.outbox.may_wait() {
                        pending = COALESCE_BYTES;
                    }
                }
            }
        }
    }

    pub(crate) fn queue_flush(&mut self, slot: usize) {
        if let Some(conn) = self.conns.get_mut(slot) {
            if !conn.dirty {
                conn.dirty = true;
                self.to_flush.push(slot);
            }
        }
    }

    /// Writes out every connection's queued output: one write per connection per batch, however
    /// many messages were queued for it.
    pub(crate) fn flush_all(&mut self) {
        while let Some(slot) = self.to_flush.pop() {
            self.flush_one(slot);
        }
    }

    /// Writes out one connection's queued output, if it has any not yet written (a slot may be
    /// listed twice, once flushed early: see [`read`](Self::read)).
    fn flush_one(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).filter(|conn| conn.dirty) else {
            return;
        };
        conn.dirty = false;
        let above = conn.flow.above().then(|| conn.backlog());
        let progress = conn.flush(&self.ws_config);
        if let Progress::Opened(_) = progress {
            self.on_progress(slot, progress);
            self.apply_outbox();
            // Bytes may have arrived with or after the handshake, while we did not read.
            self.read(slot);
        } else if !matches!(progress, Progress::Idle) {
            self.on_progress(slot, progress);
            self.apply_outbox();
        }
        if let Some(before) = above {
            self.flushed_above(slot, before);
            self.apply_outbox();
        }
    }

    fn take_commands(&mut self) {
        self.inbox.begin_taking();
        while let Ok(action) = self.inbox.commands.try_recv() {
            self.outbox.actions.push_back(action);
        }
        self.apply_outbox();
        if self.inbox.stop_requested() {
            self.begin_shutdown();
        }
    }

    /// Stops accepting and sends every client 1001 (going away).
    pub(crate) fn begin_shutdown(&mut self) {
        if self.stopping {
            return;
        }
        self.stopping = true;
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        let slots: Vec<usize> = self.conns.iter().map(|(slot, _)| slot).collect();
        for slot in slots {
            let Some(conn) = self.conns.get_mut(slot) else {
                continue;
            };
            if conn.is_open() {
                let progress = conn.close(1001, "server shutting down", CloseReason::Shutdown);
                self.queue_flush(slot);
                self.on_progress(slot, progress);
            } else if conn.in_handshake() {
                self.remove(slot, CloseReason::Shutdown);
            }
        }
        self.deadlines
            .add_after(self.now, SHUTDOWN_GRACE, Due::Shutdown);
        self.apply_outbox();
    }

    pub(crate) fn conn(&self, id: ClientId) -> Option<&Conn> {
        self.conns
            .get(id.slot())
            .filter(|conn| conn.generation == id.generation)
    }

    pub(crate) fn conn_mut(&mut self, id: ClientId) -> Option<&mut Conn> {
        self.conns
            .get_mut(id.slot())
            .filter(|conn| conn.generation == id.generation)
    }

    /// Drops a connection, telling the handler first if it was open.
    pub(crate) fn remove(&mut self, slot: usize, reason: CloseReason) {
        if !self.conns.contains(slot) {
            return;
        }
        self.flow_leave(slot);
        #[cfg_attr(target_os = "linux", allow(unused_mut))] // Only deregistering needs it.
        let mut conn = self.conns.remove(slot);
        // Closing the socket takes it out of epoll, so Linux is spared a system call per
        // connection; stale events already fetched for its token are harmless (the slot is
        // empty, or a newer connection's, whose read or flush just finds nothing to do).
        #[cfg(not(target_os = "linux"))]
        let _ = self.poll.registry().deregister(conn.stream.tcp());
        if conn.is_open() {
            let id = ClientId::new(slot, conn.generation);
            self.call_close(id, conn.peer, reason);
        }
        self.forget_topics(ClientId::new(slot, conn.generation));
        self.sessions.forget(slot);
    }
}

impl<H: Handler> EventLoop<H> {
    /// Forgets the subscriptions of a client that has gone; the loop's relay is told of the
    /// topics this loop no longer hosts.
    pub(crate) fn forget_topics(&mut self, id: ClientId) {
        let emptied = self.topics.remove_client(id);
        if emptied.is_empty() {
            return;
        }
        if let Some(relay) = self.inbox.relay() {
            for topic in emptied {
                relay.hosting(&topic, false);
            }
        }
    }
}
