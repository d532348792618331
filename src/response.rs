//! The handler's answers to HTTP: [`Decision`] for an upgrade request, [`HttpResponse`] for a
//! plain one; and their bytes on the wire.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::StatusCode;

/// The handler's answer to a handshake request, from
/// [`Handler::on_handshake`](crate::Handler::on_handshake): accept (with a subprotocol, with
/// extra response headers) or reject with an HTTP status.
///
/// Built with its constructors and chained methods:
///
/// ```
/// use simple_ws_server::Decision;
///
/// let yes = Decision::accept()
///     .protocol("chat.v2")
///     .header("Set-Cookie", "session=abc; HttpOnly; Secure");
/// assert!(yes.is_accept());
///
/// let no = Decision::reject(401, "a token is required")
///     .header("WWW-Authenticate", "Bearer realm=\"chat\"");
/// assert!(matches!(no, Decision::Reject { status: 401, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Upgrade the connection.
    #[non_exhaustive]
    Accept {
        /// The subprotocol to answer in `Sec-WebSocket-Protocol`; it should be one the client
        /// offered ([`Request::protocols`](crate::Request::protocols)).
        protocol: Option<String>,
        /// Extra headers for the `101 Switching Protocols` response (e.g. `Set-Cookie`). The
        /// headers the handshake itself needs (`Upgrade`, `Connection`, `Sec-WebSocket-*`) are
        /// the server's and are not taken from here.
        headers: HeaderMap,
    },
    /// Refuse the upgrade with an HTTP status and a plain-text body; the connection then ends.
    #[non_exhaustive]
    Reject {
        /// The HTTP status code, 400 to 599 (others are sent as 400 or 599).
        status: u16,
        /// The body, sent as `text/plain`.
        body: String,
        /// Extra response headers (e.g. `WWW-Authenticate` for a 401). `Content-Type`,
        /// `Content-Length` and `Connection` are the server's and are not taken from here.
        headers: HeaderMap,
    },
}

impl Decision {
    /// Upgrade the connection.
    pub fn accept() -> Self {
        Decision::Accept {
            protocol: None,
            headers: HeaderMap::new(),
        }
    }

    /// Upgrade the connection with a subprotocol (short for `accept().protocol(..)`).
    pub fn accept_protocol(protocol: impl Into<String>) -> Self {
        Decision::accept().protocol(protocol)
    }

    /// Refuse the upgrade with an HTTP status and a plain-text body.
    pub fn reject(status: u16, body: impl Into<String>) -> Self {
        Decision::Reject {
            status,
            body: body.into(),
            headers: HeaderMap::new(),
        }
    }

    /// Answers with this subprotocol (on a rejection, does nothing).
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        if let Decision::Accept { protocol: p, .. } = &mut self {
            *p = Some(protocol.into());
        }
        self
    }

    /// Adds a response header, for an acceptance or a rejection. A name or value that is not
    /// valid HTTP is left out and logged as a warning (it cannot be sent).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        add_header(self.headers_mut(), name, value);
        self
    }

    /// The extra response headers, to add to or read.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        match self {
            Decision::Accept { headers, .. } | Decision::Reject { headers, .. } => headers,
        }
    }

    /// Whether this decision upgrades the connection.
    pub fn is_accept(&self) -> bool {
        matches!(self, Decision::Accept { .. })
    }
}

/// The handler's answer to a plain HTTP request (one that is not a WebSocket upgrade), from
/// [`Handler::on_http`](crate::Handler::on_http). The connection closes once it is sent.
///
/// ```
/// use simple_ws_server::HttpResponse;
///
/// let ok = HttpResponse::text(200, "ok\n");
/// let moved = HttpResponse::new(301).header("Location", "/app/");
/// let json = HttpResponse::new(200)
///     .header("Content-Type", "application/json")
///     .body("{\"up\":true}");
/// # let _ = (ok, moved, json);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl HttpResponse {
    /// A response with this status (100 to 999; others are sent as 500), no headers, empty body.
    pub fn new(status: u16) -> Self {
        HttpResponse {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// A `text/plain; charset=utf-8` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        HttpResponse::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(body.into())
    }

    /// `404 Not Found`, as the server answers a path it does not serve.
    pub fn not_found() -> Self {
        HttpResponse::text(404, "not found\n")
    }

    /// Adds a header. A name or value that is not valid HTTP is left out and logged as a
    /// warning. `Content-Length` and `Connection` are the server's and are not taken from here.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        add_header(&mut self.headers, name, value);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers, to add to or read.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body.
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }

    /// The whole response as sent, closing the connection; without the body for `HEAD`.
    pub(crate) fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let status = if (100..=999).contains(&self.status) {
            self.status
        } else {
            500
        };
        let mut out = status_line(status);
        push_header(
            &mut out,
            "Content-Length",
            self.body.len().to_string().as_bytes(),
        );
        push_header(&mut out, "Connection", b"close");
        push_headers(
            &mut out,
            &self.headers,
            &[header::CONTENT_LENGTH, header::CONNECTION],
        );
        out.extend_from_slice(b"\r\n");
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

impl<B: Into<Bytes>> From<http::Response<B>> for HttpResponse {
    fn from(response: http::Response<B>) -> Self {
        let (parts, body) = response.into_parts();
        HttpResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.into(),
        }
    }
}

fn add_header(headers: &mut HeaderMap, name: &str, value: &str) {
    match (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        (Ok(name), Ok(value)) => {
            headers.append(name, value);
        }
        _ => log::warn!("response header {name:?} left out: not a valid HTTP header"),
    }
}

/// `HTTP/1.1 <status> <reason>\r\n`.
pub(crate) fn status_line(status: u16) -> Vec<u8> {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("HTTP/1.1 {status} {reason}\r\n").into_bytes()
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Appends `headers` but those named in `reserved` (the server's own).
pub(crate) fn push_headers(out: &mut Vec<u8>, headers: &HeaderMap, reserved: &[HeaderName]) {
    for (name, value) in headers {
        if !reserved.contains(name) {
            push_header(out, name.as_str(), value.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_keeps_its_headers_but_not_the_framing_ones() {
        let response = HttpResponse::text(200, "ok")
            .header("X-One", "1")
            .header("Content-Length", "999")
            .header("Bad Name", "x")
            .header("X-Bad-Value", "a\r\nInjected: yes");
        let text = String::from_utf8(response.to_bytes(false)).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Content-Length: 2\r\n"), "{text}");
        assert!(!text.contains("999"), "{text}");
        assert!(text.contains("x-one: 1\r\n"), "{text}");
        assert!(!text.contains("Injected"), "{text}");
        assert!(text.ends_with("\r\n\r\nok"), "{text}");
        let head = String::from_utf8(response.to_bytes(true)).unwrap();
        assert!(head.ends_with("\r\n\r\n"), "{head}");
    }

    #[test]
    fn decisions_carry_headers() {
        let mut no = Decision::reject(401, "no").header("WWW-Authenticate", "Bearer");
        assert_eq!(no.headers_mut().len(), 1);
        let yes = Decision::accept().protocol("p");
        assert!(matches!(yes, Decision::Accept { protocol: Some(ref p), .. } if p == "p"));
        // A protocol on a rejection means nothing and is ignored.
        assert!(!Decision::reject(403, "").protocol("p").is_accept());
    }
}
