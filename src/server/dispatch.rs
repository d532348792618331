//! Between the loop and the handler: act on what connections report, call the handler, and
//! apply what it queued.

use std::net::SocketAddr;

use std::panic::{catch_unwind, AssertUnwindSafe};

use log::{debug, error, info};

use crate::client::ClientId;
use crate::client::TimerId;
use crate::connection::http::{self, Step};
use crate::connection::outgoing::Broadcast;
use crate::connection::{Phase, Progress, Then};
use crate::handler::client_context::ClientContext;
use crate::handler::context::Context;
use crate::handler::outbox::Action;
use crate::handler::Handler;
use crate::message::Fragment;
use crate::message::{CloseReason, Message};
use crate::request::Request;
use crate::response::Decision;
use crate::server::event_loop::EventLoop;
use crate::server::timer::Due;

/// The handler's context, borrowing the loop's fields apart from the handler.
macro_rules! context {
    ($loop:expr) => {
        Context {
            conns: &mut $loop.conns,
            outbox: &mut $loop.outbox,
            stats: &mut $loop.stats,
            flow: &$loop.flow.stats,
            topics: &mut $loop.topics,
            to_flush: &mut $loop.to_flush,
            high: $loop.flow.high,
        }
    };
}

impl<H: Handler> EventLoop<H> {
    /// Acts on one report of a connection; returns whether the connection still exists. The
    /// caller applies the outbox afterwards (never this function: applying it can close
    /// connections, whose `on_close` queues more, and that must not recurse).
    pub(crate) fn on_progress(&mut self, slot: usize, progress: Progress) -> bool {
        let Some(conn) = self.conns.get(slot) else {
            return false;
        };
        let id = ClientId::new(slot, conn.generation);
        let peer = conn.peer;
        match progress {
            Progress::Idle | Progress::Continue => {}
            Progress::Request(step) => self.answer(slot, step),
            Progress::Opened(request) => {
                info!("{peer} connected");
                if let Some(mut session) = self.sessions.take(slot) {
                    session.open(request);
                    self.sessions.put(slot, session);
                }
                self.call(id, "on_open", |handler, ctx, state| {
                    handler.on_open(ctx, state)
                });
            }
            Progress::Message(message) => self.on_owned_message(id, message),
            Progress::InPlace { text, start, len } => {
                return self.on_message_in_place(slot, id, (text, start, len), &mut 0);
            }
            Progress::Left(reason) => {
                self.flow_leave(slot);
                self.deadlines
                    .add_after(self.now, self.config.close_timeout, Due::Close(id));
                self.queue_flush(slot);
                self.call_close(id, peer, reason);
                self.forget_topics(id);
            }
            Progress::Finished(reason) => {
                self.remove(slot, reason);
                return false;
            }
        }
        true
    }

    /// Answers a complete HTTP request: the page, an error status, or the upgrade.
    fn answer(&mut self, slot: usize, step: Step) {
        let Some(conn) = self.conns.get_mut(slot) else {
            return;
        };
        let Phase::Request { buf } = &mut conn.phase else {
            return;
        };
        let mut buf = std::mem::take(buf);
        let (peer, generation) = (conn.peer, conn.generation);
        let (bytes, then) = match step {
            Step::NeedMore => return,
            Step::Respond(bytes) => (bytes, Then::Close),
            Step::Http(request) => {
                let request = Request::new(*request, peer);
                let mut ctx = context!(self);
                let head = request.method() == ::http::Method::HEAD;
                let handler = &mut self.handler;
                let bytes = match guard("on_http", peer, || handler.on_http(&mut ctx, &request)) {
                    Some(Some(response)) => response.to_bytes(head),
                    Some(None) => http::plain_http(&request, self.config.serve_page),
                    None => http::error(500, "internal error"),
                };
                (bytes, Then::Close)
            }
            Step::Upgrade(parts) => {
                let http::Upgrade {
                    request,
                    response,
                    head_len,
                } = *parts;
                let mut request = Request::new(request, peer);
                let mut state = H::State::default();
                let decision = if http::origin_allowed(&request.inner, &self.config.allowed_origins)
                {
                    let handler = &mut self.handler;
                    guard("on_handshake", peer, || {
                        handler.on_handshake(&request, &mut state)
                    })
                    .unwrap_or_else(|| Decision::reject(500, "internal error"))
                } else {
                    Decision::reject(403, "origin not allowed")
                };
                match decision {
                    Decision::Accept { protocol, headers } => {
                        let (bytes, protocol) =
                            http::upgrade_response(response, protocol.as_deref(), &headers);
                        request.protocol = protocol;
                        let leftover = buf.split_off(head_len);
                        self.sessions.insert(slot, state, &buf[..head_len]);
                        (bytes, upgrade(leftover, request))
                    }
                    Decision::Reject {
                        status,
                        body,
                        headers,
                    } => {
                        debug!("{peer}: handshake rejected with {status}");
                        let status = status.clamp(400, 599);
                        (http::error_with(status, &body, &headers), Then::Close)
                    }
                }
            }
        };
        if let Then::Close = then {
            let id = ClientId::new(slot, generation);
            self.deadlines
                .add_after(self.now, self.config.close_timeout, Due::Close(id));
        }
        if let Some(conn) = self.conns.get_mut(slot) {
            conn.respond(bytes, then);
            self.queue_flush(slot);
        }
    }

    /// Calls the handler about one open client, with its state. A panic in the call closes that
    /// client with 1011 (internal error); the others are served on.
    pub(crate) fn call<R>(
        &mut self,
        id: ClientId,
        method: &str,
        f: impl FnOnce(&mut H, &mut ClientContext<'_>, &mut H::State) -> R,
    ) -> Option<R> {
        let conn = self.conns.get(id.slot())?;
        if conn.generation != id.generation {
            return None;
        }
        let peer = conn.peer;
        // Borrowed in its slot (the context borrows other fields of the loop): the state is
        // `&mut` beside the context without moving the session out and back per message.
        let session = self.sessions.get_mut(id.slot())?;
        let (request, state) = session.parts();
        let ctx = context!(self);
        let mut ctx = ClientContext::new(ctx, id, peer, request);
        let handler = &mut self.handler;
        let outcome = guard(method, peer, || f(handler, &mut ctx, state));
        if outcome.is_none() {
            ctx.disconnect(1011, "internal error");
        }
        session.forget_parsed();
        outcome
    }

    /// Tells the handler a client has gone (the connection may already be out of the slab),
    /// handing it the client's state; the session ends here.
    pub(crate) fn call_close(&mut self, id: ClientId, peer: SocketAddr, reason: CloseReason) {
        info!("{peer} closed");
        debug!("{peer} ({id}): {reason:?}");
        self.stats.closed(&reason);
        let Some(session) = self.sessions.take(id.slot()) else {
            return;
        };
        let (request, state) = session.into_parts();
        let ctx = context!(self);
        let mut ctx = ClientContext::new(ctx, id, peer, &request);
        let handler = &mut self.handler;
        guard("on_close", peer, || {
            handler.on_close(&mut ctx, state, reason)
        });
    }

    pub(crate) fn call_timer(&mut self, timer: TimerId) {
        let mut ctx = context!(self);
        let handler = &mut self.handler;
        if catch_unwind(AssertUnwindSafe(|| handler.on_timer(&mut ctx, timer))).is_err() {
            error!("the handler panicked in on_timer ({timer:?}); the server goes on");
        }
    }

    /// Applies everything the handler queued, in order, including what the handler queues while
    /// this runs (an `on_close` caused by a send).
    pub(crate) fn apply_outbox(&mut self) {
        self.outbox.urgent = false;
        // Nested calls (an `on_close` a send caused, inside `apply`) leave the flag to the
        // outermost.
        let outermost = !std::mem::replace(&mut self.outbox.applying, true);
        // A queue: what an action queues (an `on_close` caused by a send) goes after the rest,
        // and the allocation is kept for the next handler call.
        while let Some(action) = self.outbox.actions.pop_front() {
            self.apply(action);
        }
        if outermost {
            self.outbox.applying = false;
        }
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Send(id, message) => {
                if self.conn(id).is_some() {
                    self.send_to_slot(id.slot(), message);
                }
            }
            // With those queued right after them for the same recipients: one batch.
            Action::Broadcast { except, message } => self.broadcast_run(except, message),
            Action::Publish {
                topic,
                except,
                message,
                forward,
            } => self.publish_run(topic, except, message, forward),
            Action::Hosting(topic, hosted) => {
                if let Some(relay) = self.inbox.relay() {
                    relay.hosting(&topic, hosted);
                }
            }
            Action::Close(id, code, reason) => {
                if let Some(conn) = self.conn_mut(id) {
                    let progress = conn.close(code, &reason, CloseReason::ByServer { code });
                    self.queue_flush(id.slot());
                    self.on_progress(id.slot(), progress);
                }
            }
            Action::Fragment(id, fragment) => {
                if self.conn(id).is_some_and(|conn| conn.is_open()) {
                    let stats = &mut self.stats;
                    match &fragment {
                        Fragment::Start(message) => {
                            stats.messages_out += 1;
                            stats.bytes_out += message.len() as u64;
                        }
                        Fragment::Continue(bytes) | Fragment::End(bytes) => {
                            stats.bytes_out += bytes.len() as u64;
                        }
                    }
                }
                if let Some(conn) = self
                    .conns
                    .get_mut(id.slot())
                    .filter(|c| c.generation == id.generation)
                {
                    let progress = conn.send_fragment(fragment, &mut self.deflate);
                    self.queue_flush(id.slot());
                    self.on_progress(id.slot(), progress);
                }
            }
            Action::SetTimer(timer, at) => self.deadlines.add(at, Due::Timer(timer)),
            Action::CancelTimer(timer) => self.deadlines.cancel_timer(timer),
            Action::Stop => self.begin_shutdown(),
        }
    }
}

impl<H: Handler> EventLoop<H> {
    /// Queues a message on the connection in `slot` and lists it for the flush. The hot path of
    /// echo and broadcast: one slab lookup, and the handler is involved only when the client
    /// cannot take the message.
    ///
    /// Flow control costs a comparison before the send (`Drop` skips clients above the mark)
    /// and one after (did this send leave the client above the high-water mark?).
    fn send_to_slot(&mut self, slot: usize, message: Message) {
        let Some(conn) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.backlog() > self.flow.drop_above {
            return self.dropped();
        }
        if conn.is_open() {
            self.stats.messages_out += 1;
            self.stats.bytes_out += message.len() as u64;
        }
        let progress = conn.send(message, &mut self.deflate);
        let over = conn.backlog() > self.flow.high;
        self.after_send(slot, progress, over);
    }

    /// Delivers one message to a list of clients (a broadcast's, a topic's): encoded once, the
    /// frame copied to each open recipient with the flow-control checks of
    /// [`send_frame_to_slot`](Self::send_frame_to_slot). Ids are checked one by one (generation
    /// included), since sending can close a slow client and free its slot.
    pub(crate) fn deliver(&mut self, recipients: &[ClientId], message: &Message) {
        if recipients.is_empty() {
            return;
        }
        // Server frames are not masked: one encoding serves every receiver (one per window
        // size for those that agreed permessage-deflate without context takeover).
        let mut frame = Broadcast::new(message);
        for &id in recipients {
            if self.conn(id).is_some_and(|conn| conn.is_open()) {
                self.send_frame_to_slot(id.slot(), &mut frame);
            }
        }
    }

    /// The same for a frame already encoded (a broadcast).
    pub(crate) fn send_frame_to_slot(&mut self, slot: usize, frame: &mut Broadcast<'_>) {
        let Some(conn) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.backlog() > self.flow.drop_above {
            return self.dropped();
        }
        if conn.is_open() {
            self.stats.messages_out += 1;
            self.stats.bytes_out += frame.message.len() as u64;
        }
        let progress = conn.send_encoded(frame, &mut self.deflate);
        let over = conn.backlog() > self.flow.high;
        self.after_send(slot, progress, over);
    }

    pub(crate) fn after_send(&mut self, slot: usize, progress: Progress, over: bool) {
        self.queue_flush(slot);
        if let Progress::Idle = progress {
            // `Idle` holds nothing: forgetting it skips the out-of-line drop of a `Progress`,
            // which the compiler called for every send (~20 instructions per delivery).
            std::mem::forget(progress);
            if over {
                self.over_mark(slot);
            }
            return;
        }
        self.on_progress(slot, progress);
    }
}

/// Runs a handler method, catching a panic so that it cannot unwind out of `Server::run` and
/// drop every client; `None` when it panicked (logged, naming the method and the client).
///
/// `AssertUnwindSafe` is sound here: what the method can reach is the handler (whose state after
/// a panic is the application's to judge: it is the same state a `Mutex` would have poisoned),
/// the slab (borrowed immutably) and the outbox, a `Vec` of whole actions (a push either
/// happened or did not). The loop's own state is not touched during the call. Actions queued
/// before the panic are applied, as they would have been.
pub(crate) fn guard<T>(method: &str, peer: SocketAddr, f: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Some(value),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            error!("the handler panicked in {method} for {peer}: {what}");
            None
        }
    }
}

fn upgrade(leftover: Vec<u8>, request: Request) -> Then {
    Then::Upgrade {
        leftover,
        request: Box::new(request),
    }
}
