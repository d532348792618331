//! An HTTP request as the handler sees it: the upgrade request a WebSocket opened with, or a
//! plain HTTP request.

use std::net::SocketAddr;

/// The HTTP request a client opened its WebSocket with, or a plain HTTP request.
///
/// Shown to [`Handler::on_handshake`](crate::Handler::on_handshake) before the upgrade (to accept
/// or reject it), then readable for the whole life of the connection through
/// [`ClientContext::request`](crate::ClientContext::request), with what the handshake settled
/// ([`protocol`](Request::protocol), [`extensions`](Request::extensions)). Plain HTTP requests
/// are shown to [`Handler::on_http`](crate::Handler::on_http).
#[derive(Debug)]
pub struct Request {
    pub(crate) inner: http::Request<()>,
    pub(crate) peer: SocketAddr,
    /// The subprotocol the handler chose, once it has.
    pub(crate) protocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` value the server answered (permessage-deflate's
    /// negotiation fills it), once the handshake is done.
    pub(crate) extensions: Option<String>,
}

impl Request {
    pub(crate) fn new(inner: http::Request<()>, peer: SocketAddr) -> Self {
        Request {
            inner,
            peer,
            protocol: None,
            extensions: None,
        }
    }

    /// The request method, e.g. `GET`.
    pub fn method(&self) -> &http::Method {
        self.inner.method()
    }

    /// The request target as sent, e.g. `/chat?room=1`.
    pub fn uri(&self) -> &http::Uri {
        self.inner.uri()
    }

    /// The path of the request target, e.g. `/chat` for `GET /chat?room=1`.
    pub fn path(&self) -> &str {
        self.inner.uri().path()
    }

    /// The query string without the `?`, e.g. `room=1`, if there is one.
    pub fn query(&self) -> Option<&str> {
        self.inner.uri().query()
    }

    /// The value of a query parameter, e.g. `query_param("token")` for `/?token=abc` is `abc`.
    /// Values are returned as sent (no percent-decoding).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query()?
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    /// The value of a header as text, if present and valid text (header names are
    /// case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner.headers().get(name)?.to_str().ok()
    }

    /// Every header of the request.
    pub fn headers(&self) -> &http::HeaderMap {
        self.inner.headers()
    }

    /// The client's address. An IPv4 client of a dual-stack listener shows as plain IPv4.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The permessage-deflate parameters agreed with this client, if the server has deflate on
    /// ([`Config::deflate`](crate::Config::deflate)) and accepted one of its offers (the 101
    /// response states them in `Sec-WebSocket-Extensions`).
    #[cfg(feature = "deflate")]
    pub fn deflate(&self) -> Option<&crate::deflate::DeflateParams> {
        self.inner.extensions().get()
    }

    /// The subprotocols the client offered in `Sec-WebSocket-Protocol`, in its order of
    /// preference.
    pub fn protocols(&self) -> impl Iterator<Item = &str> {
        self.inner
            .headers()
            .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|protocol| !protocol.is_empty())
    }

    /// The subprotocol the server answered in `Sec-WebSocket-Protocol` (the one
    /// [`Decision::protocol`](crate::Decision::protocol) chose); `None` before the handshake is
    /// decided, or when none was chosen.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The extensions the server answered in `Sec-WebSocket-Extensions` (e.g.
    /// `permessage-deflate`), as that header's value; `None` before the handshake is done, or
    /// when none were agreed.
    pub fn extensions(&self) -> Option<&str> {
        self.extensions.as_deref()
    }
}
