//! The handshake request a connection keeps for its life (see `server/session.rs` for why it is
//! kept as bytes).

use std::cell::OnceCell;
use std::net::SocketAddr;

use crate::connection::http;
use crate::request::Request;

/// A request kept for the connection's life: its head, and what the handshake settled. Stored
/// inline in the connection's session (no box of its own: an idle connection pays its fields,
/// not an allocation).
pub(crate) struct KeptRequest {
    /// The head without the handshake's own header lines (see [`http::kept_head`]).
    pub(crate) head: Box<[u8]>,
    pub(crate) protocol: Option<Box<str>>,
    pub(crate) extensions: Option<Box<str>>,
    /// The request parsed from `head`, while a handler call needs it.
    pub(crate) parsed: OnceCell<Box<Request>>,
}

impl KeptRequest {
    /// The request of the client at `peer`, parsed from the kept head if this call has not
    /// already.
    pub(crate) fn get(&self, peer: SocketAddr) -> &Request {
        self.parsed.get_or_init(|| {
            // The head parsed at the handshake; failing now would be a bug, and still gets a
            // request (an empty `GET /`) rather than a panic.
            let inner = http::reparse(&self.head).unwrap_or_default();
            let mut request = Request::new(inner, peer);
            request.protocol = self.protocol.as_deref().map(str::to_owned);
            request.extensions = self.extensions.as_deref().map(str::to_owned);
            Box::new(request)
        })
    }
}
