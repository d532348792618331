//! Between the loop and the handler: act on what connections report, call the handler, and
//! apply what it queued.

use std::net::SocketAddr;

use std::panic::{catch_unwind, AssertUnwindSafe};

use log::{debug, error, info};

use crate::client::ClientId;
use crate::conn::{Phase, Progress, Then};
use crate::context::{Action, ClientContext, Context};
use crate::event_loop::EventLoop;
use crate::handler::Handler;
use crate::http::{self, Step};
use crate::message::{CloseReason, Message};
use crate::outgoing::Broadcast;
use crate::request::{Decision, Request};
use crate::timer::{Due, TimerId};

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
                self.call(id, "on_open", |handler, ctx| handler.on_open(ctx, &request));
            }
            Progress::Message(message) => {
                self.call(id, "on_message", |handler, ctx| {
                    handler.on_message(ctx, message)
                });
            }
            Progress::Left(reason) => {
                self.flow_leave(slot);
                self.deadlines
                    .add_after(self.now, self.config.close_timeout, Due::Close(id));
                self.queue_flush(slot);
                self.call_close(id, peer, reason);
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
        let peer = conn.peer;
        let (bytes, then) = match step {
            Step::NeedMore => return,
            Step::Respond(bytes) => (bytes, Then::Close),
            Step::Upgrade(parts) => {
                let http::Upgrade {
                    request,
                    response,
                    head_len,
                } = *parts;
                let request = Request {
                    inner: request,
                    peer,
                };
                let decision = if http::origin_allowed(&request.inner, &self.config.allowed_origins)
                {
                    let handler = &mut self.handler;
                    guard("on_handshake", peer, || handler.on_handshake(&request))
                        .unwrap_or_else(|| Decision::reject(500, "internal error"))
                } else {
                    Decision::reject(403, "origin not allowed")
                };
                match decision {
                    Decision::Accept => (
                        http::upgrade_response(response, None),
                        upgrade(buf.split_off(head_len), request),
                    ),
                    Decision::AcceptWithProtocol(protocol) => (
                        http::upgrade_response(response, Some(&protocol)),
                        upgrade(buf.split_off(head_len), request),
                    ),
                    Decision::Reject { status, body } => {
                        debug!("{peer}: handshake rejected with {status}");
                        (http::error(status.clamp(400, 599), &body), Then::Close)
                    }
                }
            }
        };
        if let Then::Close = then {
            let id = ClientId::new(slot, conn.generation);
            self.deadlines
                .add_after(self.now, self.config.close_timeout, Due::Close(id));
        }
        conn.respond(bytes, then);
        self.queue_flush(slot);
    }

    /// Calls the handler about one open client. A panic in the call closes that client with
    /// 1011 (internal error); the others are served on.
    fn call(&mut self, id: ClientId, method: &str, f: impl FnOnce(&mut H, &mut ClientContext<'_>)) {
        let Some(conn) = self.conn(id) else { return };
        let peer = conn.peer;
        let ctx = Context::new(&self.conns, &mut self.outbox, &self.flow.stats);
        let mut ctx = ClientContext::new(ctx, id, peer);
        let handler = &mut self.handler;
        if guard(method, peer, || f(handler, &mut ctx)).is_none() {
            ctx.disconnect(1011, "internal error");
        }
    }

    /// Tells the handler a client has gone (the connection may already be out of the slab).
    pub(crate) fn call_close(&mut self, id: ClientId, peer: SocketAddr, reason: CloseReason) {
        info!("{peer} closed");
        debug!("{peer} ({id}): {reason:?}");
        let ctx = Context::new(&self.conns, &mut self.outbox, &self.flow.stats);
        let mut ctx = ClientContext::new(ctx, id, peer);
        let handler = &mut self.handler;
        guard("on_close", peer, || handler.on_close(&mut ctx, reason));
    }

    pub(crate) fn call_timer(&mut self, timer: TimerId) {
        let mut ctx = Context::new(&self.conns, &mut self.outbox, &self.flow.stats);
        let handler = &mut self.handler;
        if catch_unwind(AssertUnwindSafe(|| handler.on_timer(&mut ctx, timer))).is_err() {
            error!("the handler panicked in on_timer ({timer:?}); the server goes on");
        }
    }

    /// Applies everything the handler queued, in order, including what the handler queues while
    /// this runs (an `on_close` caused by a send).
    pub(crate) fn apply_outbox(&mut self) {
        while !self.outbox.actions.is_empty() {
            let mut actions = std::mem::take(&mut self.outbox.actions);
            for action in actions.drain(..) {
                self.apply(action);
            }
            if self.outbox.actions.is_empty() {
                // Keep the allocation for the next handler call.
                self.outbox.actions = actions;
            }
        }
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Send(id, message) => {
                if self.conn(id).is_some() {
                    self.send_to_slot(id.slot(), message);
                }
            }
            Action::Broadcast { except, message } => {
                // Server frames are not masked: one encoding serves every receiver (one per
                // window size for those that agreed permessage-deflate).
                let mut frame = Broadcast::new(&message);
                let mut slot = 0;
                // Index loop: sending can close a slow client, which changes the slab.
                while slot < self.conns.capacity() {
                    if let Some(conn) = self.conns.get(slot) {
                        let id = ClientId::new(slot, conn.generation);
                        if conn.is_open() && Some(id) != except {
                            self.send_frame_to_slot(slot, &mut frame);
                        }
                    }
                    slot += 1;
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
        let progress = conn.send(message, &mut self.deflate);
        let over = conn.backlog() > self.flow.high;
        self.after_send(slot, progress, over);
    }

    /// The same for a frame already encoded (a broadcast).
    fn send_frame_to_slot(&mut self, slot: usize, frame: &mut Broadcast<'_>) {
        let Some(conn) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.backlog() > self.flow.drop_above {
            return self.dropped();
        }
        let progress = conn.send_encoded(frame, &mut self.deflate);
        let over = conn.backlog() > self.flow.high;
        self.after_send(slot, progress, over);
    }

    fn after_send(&mut self, slot: usize, progress: Progress, over: bool) {
        self.queue_flush(slot);
        if !matches!(progress, Progress::Idle) {
            self.on_progress(slot, progress);
        } else if over {
            self.over_mark(slot);
        }
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
