//! The handshake request as the handler sees it, and the handler's answer to it.

use std::net::SocketAddr;

use tungstenite::http;

/// The HTTP upgrade request a client opened its WebSocket with.
///
/// Shown to [`Handler::on_handshake`](crate::Handler::on_handshake) before the upgrade (to accept
/// or reject it) and to [`Handler::on_open`](crate::Handler::on_open) after it.
#[derive(Debug)]
pub struct Request {
    pub(crate) inner: http::Request<()>,
    pub(crate) peer: SocketAddr,
}

impl Request {
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
}

/// The handler's answer to a handshake request, from
/// [`Handler::on_handshake`](crate::Handler::on_handshake).
///
/// ```
/// use simple_ws_server::Decision;
///
/// let no = Decision::reject(401, "missing token");
/// assert!(matches!(no, Decision::Reject { status: 401, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Upgrade the connection.
    Accept,
    /// Upgrade the connection and answer with this subprotocol in `Sec-WebSocket-Protocol`. It
    /// should be one the client offered ([`Request::protocols`]).
    AcceptWithProtocol(String),
    /// Refuse the upgrade with this HTTP status (e.g. 401, 403, 404) and plain-text body; the
    /// connection then ends.
    Reject {
        /// The HTTP status code, 400 to 599.
        status: u16,
        /// The body, sent as `text/plain`.
        body: String,
    },
}

impl Decision {
    /// Upgrade the connection.
    pub fn accept() -> Self {
        Decision::Accept
    }

    /// Upgrade the connection with a subprotocol.
    pub fn accept_protocol(protocol: impl Into<String>) -> Self {
        Decision::AcceptWithProtocol(protocol.into())
    }

    /// Refuse the upgrade with an HTTP status and a plain-text body.
    pub fn reject(status: u16, body: impl Into<String>) -> Self {
        Decision::Reject {
            status,
            body: body.into(),
        }
    }
}
