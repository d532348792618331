//! The trait a user implements: the server's events, told to one handler that owns all state.
//!
//! `context.rs` and `client_context.rs`: what each method is handed to act with (sends, closes,
//! timers, the request); `outbox.rs`: what a call asked for and the loop has yet to apply;
//! `topics.rs` and `topic_api.rs`: subscriptions.

pub(crate) mod client_context;
pub(crate) mod context;
pub(crate) mod kept_request;
pub(crate) mod outbox;
pub(crate) mod topic_api;
pub(crate) mod topics;

use crate::client::TimerId;
use crate::handler::client_context::ClientContext;
use crate::handler::context::Context;
use crate::message::{CloseReason, Message};
use crate::message_ref::MessageRef;
use crate::request::Request;
use crate::response::{Decision, HttpResponse};

/// The application's side of the server: one value, owning all application state, told about
/// every client's events on the server's one thread.
///
/// Each method gets a context through which it sends to the client the event is about, to any
/// client by id, to all, or to all but one, and closes clients. What a method asks takes effect in
/// order: a send into the client's outgoing buffer, everything else after the method returns;
/// the loop writes to the sockets after that. No method touches a socket, so none can block the
/// server.
///
/// Each connection also has a [`State`](Handler::State) of the handler's choosing, kept by the
/// server beside the connection: made (with `Default`) when its handshake request arrives,
/// filled in by [`on_handshake`](Handler::on_handshake) if it likes, handed as `&mut` to every
/// event about that client, and given back by value to [`on_close`](Handler::on_close). A
/// handler thus needs no map from client ids to their state. A stateless handler says
/// `type State = ();`.
///
/// Only [`State`](Handler::State) and [`on_message`](Handler::on_message) must be written; the
/// others default to doing nothing (and [`on_handshake`](Handler::on_handshake) to accepting,
/// [`on_http`](Handler::on_http) to the built-in page or 404).
///
/// ```
/// use simple_ws_server::{ClientContext, Handler, Message};
///
/// /// Sends every message back to its sender, upper-cased when it is text.
/// struct Shout;
///
/// impl Handler for Shout {
///     type State = ();
///
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
///         match message.as_text() {
///             Some(text) => ctx.send(text.to_uppercase()),
///             None => ctx.send(message),
///         }
///     }
/// }
/// ```
///
/// With state, a chat that knows each client's name:
///
/// ```
/// use simple_ws_server::{ClientContext, CloseReason, Decision, Handler, Message, Request};
///
/// struct Names;
///
/// #[derive(Default)]
/// struct Name(String);
///
/// impl Handler for Names {
///     type State = Name;
///
///     fn on_handshake(&mut self, request: &Request, name: &mut Name) -> Decision {
///         match request.query_param("name") {
///             Some(given) if !given.is_empty() => {
///                 name.0 = given.to_owned();
///                 Decision::accept()
///             }
///             _ => Decision::reject(400, "say who you are: ?name=..."),
///         }
///     }
///
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, name: &mut Name, message: Message) {
///         if let Some(text) = message.as_text() {
///             ctx.broadcast_others(format!("{}: {text}", name.0));
///         }
///     }
///
///     fn on_close(&mut self, ctx: &mut ClientContext<'_>, name: Name, _reason: CloseReason) {
///         ctx.broadcast_others(format!("{} left", name.0));
///     }
/// }
/// ```
pub trait Handler {
    /// What the server keeps for each connection on the handler's behalf (a user, a room, a
    /// subscription list...): `()` for none. Made with `Default` when the handshake request
    /// arrives, and dropped after [`on_close`](Handler::on_close) or when the handshake fails.
    type State: Default;

    /// A client asks to upgrade; decide before the server answers. The request's path, query,
    /// headers and peer address are all there: check a token, pick a subprotocol, add response
    /// headers, or reject with an HTTP status. `state` is the connection's new
    /// [`State`](Handler::State), to fill in (e.g. with the authenticated user). The server has
    /// already checked the request against RFC 6455 and the configured origins. Default: accept.
    fn on_handshake(&mut self, request: &Request, state: &mut Self::State) -> Decision {
        let _ = (request, state);
        Decision::accept()
    }

    /// A plain HTTP request (not a WebSocket upgrade) arrived on the server's port: answer it,
    /// as Python websockets' `process_request` does, e.g. a health check for a load balancer.
    /// Only the request head is read: a request body is not available. The connection closes
    /// after the response; for `HEAD` the body is left out.
    ///
    /// `None` (the default) leaves the answer to the server: the built-in test page at `/`
    /// (when [`Config::serve_page`](crate::Config::serve_page) is on) and `404` elsewhere.
    ///
    /// ```
    /// use simple_ws_server::{ClientContext, Context, Handler, HttpResponse, Message, Request};
    ///
    /// struct WithHealth;
    ///
    /// impl Handler for WithHealth {
    ///     type State = ();
    ///     fn on_message(&mut self, _: &mut ClientContext<'_>, _: &mut (), _: Message) {}
    ///
    ///     fn on_http(&mut self, ctx: &mut Context<'_>, request: &Request) -> Option<HttpResponse> {
    ///         match request.path() {
    ///             "/healthz" => Some(HttpResponse::text(200, "ok\n")),
    ///             "/metrics" => Some(
    ///                 HttpResponse::new(200)
    ///                     .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
    ///                     .body(ctx.stats().to_prometheus()),
    ///             ),
    ///             _ => None,
    ///         }
    ///     }
    /// }
    /// ```
    fn on_http(&mut self, ctx: &mut Context<'_>, request: &Request) -> Option<HttpResponse> {
        let _ = (ctx, request);
        None
    }

    /// A client has completed its handshake; `ctx.id()` is its id from now until
    /// [`on_close`](Handler::on_close), and [`ctx.request()`](ClientContext::request) its
    /// handshake request.
    fn on_open(&mut self, ctx: &mut ClientContext<'_>, state: &mut Self::State) {
        let _ = (ctx, state);
    }

    /// A whole message has arrived from the client `ctx.id()`.
    ///
    /// Every message comes here unless [`on_message_ref`](Handler::on_message_ref) is written:
    /// then only those the server could not lend in place (see there).
    fn on_message(
        &mut self,
        ctx: &mut ClientContext<'_>,
        state: &mut Self::State,
        message: Message,
    );

    /// A whole message has arrived from the client `ctx.id()` in one piece, and is lent where
    /// the server read it: no allocation, no copy. Write this method (beside
    /// [`on_message`](Handler::on_message)) when messages are looked at and let go, as an echo, a
    /// parser or a router does; the default copies the message into an owned [`Message`] for
    /// `on_message`.
    ///
    /// The server lends a message that came as one unfragmented, uncompressed frame of up to
    /// 64 KiB read whole; the others (fragmented, compressed with permessage-deflate, larger,
    /// or split across reads) are assembled and go to `on_message`. Each message reaches
    /// exactly one of the two methods, so a handler that writes both usually has `on_message`
    /// call this one with [`message.as_message_ref()`](Message::as_message_ref).
    ///
    /// Sends take the borrowed message as it is ([`IntoMessage`](crate::IntoMessage)).
    ///
    /// ```
    /// use simple_ws_server::{ClientContext, Handler, Message, MessageRef};
    ///
    /// /// Sends every message back to its sender without making an owned copy of it.
    /// struct Echo;
    ///
    /// impl Handler for Echo {
    ///     type State = ();
    ///
    ///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, s: &mut (), message: Message) {
    ///         self.on_message_ref(ctx, s, message.as_message_ref());
    ///     }
    ///
    ///     fn on_message_ref(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), m: MessageRef<'_>) {
    ///         ctx.send(m);
    ///     }
    /// }
    /// ```
    fn on_message_ref(
        &mut self,
        ctx: &mut ClientContext<'_>,
        state: &mut Self::State,
        message: MessageRef<'_>,
    ) {
        self.on_message(ctx, state, message.to_message());
    }

    /// The client `ctx.id()` has gone; called exactly once for each client that was opened,
    /// whatever ended it, and never for one whose handshake did not finish. Its state is given
    /// back, to keep or drop. Sends to this client are dropped from now on; sends to others go
    /// out as usual.
    fn on_close(&mut self, ctx: &mut ClientContext<'_>, state: Self::State, reason: CloseReason) {
        let _ = (ctx, state, reason);
    }

    /// A timer set with [`Context::set_timer`] has fired (once; not if it was cancelled). The
    /// context is the loop-wide one: timers belong to no client, so keep the client's id with
    /// the timer's if it is about one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use simple_ws_server::{ClientContext, Context, Handler, Message, TimerId};
    ///
    /// /// Tells every client the number of clients once a second, while any are connected.
    /// #[derive(Default)]
    /// struct Census {
    ///     timer: Option<TimerId>,
    /// }
    ///
    /// impl Handler for Census {
    ///     type State = ();
    ///
    ///     fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
    ///         if self.timer.is_none() {
    ///             self.timer = Some(ctx.set_timer(Duration::from_secs(1)));
    ///         }
    ///     }
    ///
    ///     fn on_message(&mut self, _: &mut ClientContext<'_>, _: &mut (), _: Message) {}
    ///
    ///     fn on_timer(&mut self, ctx: &mut Context<'_>, _timer: TimerId) {
    ///         let n = ctx.client_count();
    ///         if n == 0 {
    ///             self.timer = None; // the next client starts it again
    ///             return;
    ///         }
    ///         ctx.broadcast(format!("{n} connected"));
    ///         self.timer = Some(ctx.set_timer(Duration::from_secs(1)));
    ///     }
    /// }
    /// ```
    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        let _ = (ctx, timer);
    }

    /// The client `ctx.id()`, whose backlog had passed the high-water mark
    /// ([`Config::high_water_mark`](crate::Config::high_water_mark)), has taken enough of it to
    /// fall below the low-water mark. Called once per such fall, only after the client was
    /// above the mark, whatever the [`Backpressure`](crate::Backpressure) policy: the moment for
    /// a handler that streams to a client to send more (see
    /// [`Context::buffered_amount`](crate::Context::buffered_amount)).
    fn on_drain(&mut self, ctx: &mut ClientContext<'_>, state: &mut Self::State) {
        let _ = (ctx, state);
    }
}

impl<H: Handler + ?Sized> Handler for Box<H> {
    type State = H::State;

    fn on_handshake(&mut self, request: &Request, state: &mut Self::State) -> Decision {
        (**self).on_handshake(request, state)
    }
    fn on_http(&mut self, ctx: &mut Context<'_>, request: &Request) -> Option<HttpResponse> {
        (**self).on_http(ctx, request)
    }
    fn on_open(&mut self, ctx: &mut ClientContext<'_>, state: &mut Self::State) {
        (**self).on_open(ctx, state)
    }
    fn on_message(
        &mut self,
        ctx: &mut ClientContext<'_>,
        state: &mut Self::State,
        message: Message,
    ) {
        (**self).on_message(ctx, state, message)
    }
    fn on_message_ref(
        &mut self,
        ctx: &mut ClientContext<'_>,
        state: &mut Self::State,
        message: MessageRef<'_>,
    ) {
        (**self).on_message_ref(ctx, state, message)
    }
    fn on_close(&mut self, ctx: &mut ClientContext<'_>, state: Self::State, reason: CloseReason) {
        (**self).on_close(ctx, state, reason)
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        (**self).on_timer(ctx, timer)
    }
    fn on_drain(&mut self, ctx: &mut ClientContext<'_>, state: &mut Self::State) {
        (**self).on_drain(ctx, state)
    }
}
