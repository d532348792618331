//! The trait a user implements: the server's events, told to one handler that owns all state.

use crate::context::{ClientContext, Context};
use crate::message::{CloseReason, Message};
use crate::request::{Decision, Request};
use crate::timer::TimerId;

/// The application's side of the server: one value, owning all application state, told about
/// every client's events on the server's one thread.
///
/// Each method gets a context through which it sends to the client the event is about, to any
/// client by id, to all, or to all but one, and closes clients. Sends only queue: the loop writes
/// them after the method returns. No method touches a socket, so none can block the server.
///
/// Only [`on_message`](Handler::on_message) must be written; the others default to doing nothing
/// (and [`on_handshake`](Handler::on_handshake) to accepting).
///
/// ```
/// use simple_ws_server::{ClientContext, Handler, Message};
///
/// /// Sends every message back to its sender, upper-cased when it is text.
/// struct Shout;
///
/// impl Handler for Shout {
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message) {
///         match message.as_text() {
///             Some(text) => ctx.send(text.to_uppercase()),
///             None => ctx.send(message),
///         }
///     }
/// }
/// ```
pub trait Handler {
    /// A client asks to upgrade; decide before the server answers. The request's path, query,
    /// headers and peer address are all there: check a token, pick a subprotocol, or reject with
    /// an HTTP status. The server has already checked the request against RFC 6455 and the
    /// configured origins. Default: accept.
    fn on_handshake(&mut self, request: &Request) -> Decision {
        let _ = request;
        Decision::Accept
    }

    /// A client has completed its handshake; `ctx.id()` is its id from now until
    /// [`on_close`](Handler::on_close).
    fn on_open(&mut self, ctx: &mut ClientContext<'_>, request: &Request) {
        let _ = (ctx, request);
    }

    /// A whole message has arrived from the client `ctx.id()`.
    fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message);

    /// The client `ctx.id()` has gone; called exactly once for each client that was opened,
    /// whatever ended it, and never for one whose handshake did not finish. Sends to this client
    /// are dropped from now on; sends to others go out as usual.
    fn on_close(&mut self, ctx: &mut ClientContext<'_>, reason: CloseReason) {
        let _ = (ctx, reason);
    }

    /// A timer set with [`Context::set_timer`] has fired (once; not if it was cancelled). The
    /// context is the loop-wide one: timers belong to no client, so keep the client's id with
    /// the timer's if it is about one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use simple_ws_server::{ClientContext, Context, Handler, Message, Request, TimerId};
    ///
    /// /// Tells every client the number of clients once a second, while any are connected.
    /// #[derive(Default)]
    /// struct Census {
    ///     timer: Option<TimerId>,
    /// }
    ///
    /// impl Handler for Census {
    ///     fn on_open(&mut self, ctx: &mut ClientContext<'_>, _request: &Request) {
    ///         if self.timer.is_none() {
    ///             self.timer = Some(ctx.set_timer(Duration::from_secs(1)));
    ///         }
    ///     }
    ///
    ///     fn on_message(&mut self, _ctx: &mut ClientContext<'_>, _message: Message) {}
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
    fn on_drain(&mut self, ctx: &mut ClientContext<'_>) {
        let _ = ctx;
    }
}

impl<H: Handler + ?Sized> Handler for Box<H> {
    fn on_handshake(&mut self, request: &Request) -> Decision {
        (**self).on_handshake(request)
    }
    fn on_open(&mut self, ctx: &mut ClientContext<'_>, request: &Request) {
        (**self).on_open(ctx, request)
    }
    fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message) {
        (**self).on_message(ctx, message)
    }
    fn on_close(&mut self, ctx: &mut ClientContext<'_>, reason: CloseReason) {
        (**self).on_close(ctx, reason)
    }
    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        (**self).on_timer(ctx, timer)
    }
    fn on_drain(&mut self, ctx: &mut ClientContext<'_>) {
        (**self).on_drain(ctx)
    }
}
