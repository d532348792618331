//! Between the loop and the handler: act on what connections report, call the handler, and
//! apply what it queued.

use std::net::SocketAddr;

use log::{debug, info};

use crate::client::ClientId;
use crate::conn::{Phase, Progress, Then};
use crate::context::{Action, ClientContext, Context, Fragment};
use crate::event_loop::EventLoop;
use crate::handler::Handler;
use crate::http::{self, Step};
use crate::message::{CloseReason, Message};
use crate::outgoing::encode_frame;
use crate::request::Request;
use crate::response::Decision;
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
                if let Some(mut session) = self.sessions.take(slot) {
                    session.open(request);
                    self.sessions.put(slot, session);
                }
                self.call(id, |handler, ctx, state| handler.on_open(ctx, state));
            }
            Progress::Message(message) => {
                self.stats.messages_in += 1;
                self.stats.bytes_in += message.len() as u64;
                self.call(id, |handler, ctx, state| {
                    handler.on_message(ctx, state, message)
                });
            }
            Progress::Left(reason) => {
                self.deadlines
                    .add(self.now + self.config.close_timeout, Due::Close(id));
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
        let (peer, generation) = (conn.peer, conn.generation);
        let (bytes, then) = match step {
            Step::NeedMore => return,
            Step::Respond(bytes) => (bytes, Then::Close),
            Step::Http(request) => {
                let request = Request::new(*request, peer);
                let mut ctx = Context::new(&self.conns, &mut self.outbox, &self.stats);
                let head = request.method() == ::http::Method::HEAD;
                let bytes = match self.handler.on_http(&mut ctx, &request) {
                    Some(response) => response.to_bytes(head),
                    None => http::plain_http(&request, self.config.serve_page),
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
                    self.handler.on_handshake(&request, &mut state)
                } else {
                    Decision::reject(403, "origin not allowed")
                };
                match decision {
                    Decision::Accept { protocol, headers } => {
                        let (bytes, protocol) =
                            http::upgrade_response(response, protocol.as_deref(), &headers);
                        request.protocol = protocol;
                        let leftover = buf.split_off(head_len);
                        self.sessions.insert(slot, state, buf);
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
                .add(self.now + self.config.close_timeout, Due::Close(id));
        }
        if let Some(conn) = self.conns.get_mut(slot) {
            conn.respond(bytes, then);
            self.queue_flush(slot);
        }
    }

    /// Calls the handler about one open client, with its state.
    fn call(
        &mut self,
        id: ClientId,
        f: impl FnOnce(&mut H, &mut ClientContext<'_>, &mut H::State),
    ) {
        let Some(conn) = self.conn(id) else { return };
        let peer = conn.peer;
        // Out of its slot for the call, so that the state is `&mut` beside the context.
        let Some(mut session) = self.sessions.take(id.slot()) else {
            return;
        };
        if let Some(request) = &session.request {
            let ctx = Context::new(&self.conns, &mut self.outbox, &self.stats);
            let mut ctx = ClientContext::new(ctx, id, peer, request);
            f(&mut self.handler, &mut ctx, &mut session.state);
        }
        session.forget_parsed();
        self.sessions.put(id.slot(), session);
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
        if let Some(request) = session.request {
            let ctx = Context::new(&self.conns, &mut self.outbox, &self.stats);
            let mut ctx = ClientContext::new(ctx, id, peer, &request);
            self.handler.on_close(&mut ctx, session.state, reason);
        }
    }

    pub(crate) fn call_timer(&mut self, timer: TimerId) {
        let mut ctx = Context::new(&self.conns, &mut self.outbox, &self.stats);
        self.handler.on_timer(&mut ctx, timer);
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
                // Server frames are not masked: one encoding serves every receiver.
                let mut frame = Vec::new();
                let opcode = if message.is_text() { 1 } else { 2 };
                encode_frame(&mut frame, opcode, message.as_bytes());
                let mut slot = 0;
                // Index loop: sending can close a slow client, which changes the slab.
                while slot < self.conns.capacity() {
                    if let Some(conn) = self.conns.get(slot) {
                        let id = ClientId::new(slot, conn.generation);
                        if conn.is_open() && Some(id) != except {
                            self.send_frame_to_slot(slot, &frame, &message);
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
                if let Some(conn) = self.conn_mut(id) {
                    let progress = conn.send_fragment(fragment);
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
    fn send_to_slot(&mut self, slot: usize, message: Message) {
        let Some(conn) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.is_open() {
            self.stats.messages_out += 1;
            self.stats.bytes_out += message.len() as u64;
        }
        let progress = conn.send(message);
        self.after_send(slot, progress);
    }

    /// The same for a frame already encoded (a broadcast).
    fn send_frame_to_slot(&mut self, slot: usize, frame: &[u8], message: &Message) {
        let Some(conn) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.is_open() {
            self.stats.messages_out += 1;
            self.stats.bytes_out += message.len() as u64;
        }
        let progress = conn.send_encoded(frame, message);
        self.after_send(slot, progress);
    }

    fn after_send(&mut self, slot: usize, progress: Progress) {
        self.queue_flush(slot);
        if !matches!(progress, Progress::Idle) {
            self.on_progress(slot, progress);
        }
    }
}

fn upgrade(leftover: Vec<u8>, request: Request) -> Then {
    Then::Upgrade {
        leftover,
        request: Box::new(request),
    }
}
