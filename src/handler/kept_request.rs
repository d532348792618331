//! The handshake request a connection keeps for its life (see `server/session.rs` for why it is
//! kept as bytes).

use std::cell::OnceCell;
use std::net::SocketAddr;

use crate::connection::http;
use crate::request::Request;

/// A request kept for the connection's life: its head, and what the handshake settled.
pub(crate) struct KeptRequest {
    pub(crate) head: Box<[u8]>,
    pub(crate) peer: SocketAddr,
    pub(crate) protocol: Option<String>,
    pub(crate) extensions: Option<String>,
    /// The request parsed from `head`, while a handler call needs it.
    pub(crate) parsed: OnceCell<Box<Request>>,
}

impl KeptRequest {
    /// The request, parsed from the kept head if this call has not already.
    pub(crate) fn get(&self) -> &Request {
        self.parsed.get_or_init(|| {
            // The head parsed at the handshake; failing now would be a bug, and still gets a
            // request (an empty `GET /`) rather than a panic.
            let inner = http::reparse(&self.head).unwrap_or_default();
            let mut request = Request::new(inner, self.peer);
            request.protocol.clone_from(&self.protocol);
            request.extensions.clone_from(&self.extensions);
            Box::new(request)
        })
    }
}
