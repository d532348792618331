//! The context of an event about one client: [`Context`] plus the client's id, address and
//! request, and sends to it.

use std::fmt;
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};

use crate::client::ClientId;
use crate::handler::context::Context;
use crate::handler::kept_request::KeptRequest;
use crate::message::Fragment;
use crate::message_ref::IntoMessage;
use crate::request::Request;

/// The context of an event about one client: everything [`Context`] does (through `Deref`), plus
/// the client's id and address and sends to it.
///
/// ```
/// use simple_ws_server::{ClientContext, Handler, Message};
///
/// struct Relay;
///
/// impl Handler for Relay {
///     type State = ();
///
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
///         ctx.broadcast_others(message); // to everyone but the sender
///         ctx.send("relayed");           // to the sender
///     }
/// }
/// ```
pub struct ClientContext<'a> {
    ctx: Context<'a>,
    id: ClientId,
    peer: SocketAddr,
    request: &'a KeptRequest,
}

impl fmt::Debug for ClientContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientContext")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .field("path", &self.request.get(self.peer).path())
            .finish_non_exhaustive()
    }
}

impl<'a> ClientContext<'a> {
    pub(crate) fn new(
        ctx: Context<'a>,
        id: ClientId,
        peer: SocketAddr,
        request: &'a KeptRequest,
    ) -> Self {
        ClientContext {
            ctx,
            id,
            peer,
            request,
        }
    }

    /// Whether the loop may lend this client's next whole frame within the same handler call:
    /// nothing is queued that must be applied before more is read (a broadcast to coalesce, a
    /// send held by flow control, a close), and the client is still open and not paused.
    pub(crate) fn lends_more(&self) -> bool {
        self.ctx.outbox.actions.is_empty()
            && !self.ctx.outbox.applying
            && self.ctx.conns.get(self.id.slot()).is_some_and(|conn| {
                conn.generation == self.id.generation && conn.is_open() && !conn.flow.paused()
            })
    }

    /// The handshake request this client opened its WebSocket with (path, query, headers), and
    /// what the handshake settled (subprotocol, extensions); readable for the connection's life.
    ///
    /// The server keeps only the request head's bytes between events and parses them again the
    /// first time an event asks (a microsecond or two for a browser's request), which keeps an
    /// idle connection small: read what you need in `on_open` (into the connection's
    /// [`State`](crate::Handler::State)) rather than on every message.
    ///
    /// `on_open` sees every header of the handshake. Later events see the request without the
    /// headers that only served the upgrade, which is over (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Key`, `Sec-WebSocket-Version`, `Sec-WebSocket-Extensions`): about 110 of
    /// an idle connection's bytes. What they settled stays readable as
    /// [`Request::protocol`] and [`Request::extensions`].
    pub fn request(&self) -> &Request {
        self.request.get(self.peer)
    }

    /// The id of the client this event is about.
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// The address of the client this event is about.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Send a message to the client this event is about.
    pub fn send(&mut self, message: impl IntoMessage) {
        let id = self.id;
        self.ctx.send_to(id, message);
    }

    /// Close the client this event is about with a close code and reason (see
    /// [`Context::close`]).
    pub fn disconnect(&mut self, code: u16, reason: &str) {
        let id = self.id;
        self.ctx.close(id, code, reason);
    }

    /// Send a message to every connected client but the one this event is about.
    pub fn broadcast_others(&mut self, message: impl IntoMessage) {
        let id = self.id;
        self.ctx.broadcast_except(id, message);
    }

    /// Send one piece of a fragmented message to the client this event is about (see
    /// [`Fragment`]).
    ///
    /// ```
    /// use simple_ws_server::{ClientContext, Fragment, Handler, Message};
    ///
    /// /// Answers each message with 1 MiB of zeros in 64 KiB frames.
    /// struct Zeros;
    ///
    /// impl Handler for Zeros {
    ///     type State = ();
    ///
    ///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), _: Message) {
    ///         let piece = simple_ws_server::Bytes::from(vec![0u8; 64 << 10]);
    ///         ctx.send_fragment(Fragment::Start(piece.clone().into()));
    ///         for _ in 1..16 {
    ///             ctx.send_fragment(Fragment::Continue(piece.clone()));
    ///         }
    ///         ctx.send_fragment(Fragment::End(Default::default()));
    ///     }
    /// }
    /// ```
    pub fn send_fragment(&mut self, fragment: Fragment) {
        let id = self.id;
        self.ctx.send_fragment_to(id, fragment);
    }
}

impl<'a> Deref for ClientContext<'a> {
    type Target = Context<'a>;

    fn deref(&self) -> &Context<'a> {
        &self.ctx
    }
}

impl DerefMut for ClientContext<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.ctx
    }
}
