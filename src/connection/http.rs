//! The HTTP side of a connection before it is a WebSocket: parse the request, route it (upgrade,
//! the built-in page, or an error status) and build the response bytes. Pure protocol state: no
//! I/O happens here.

use std::sync::atomic::{AtomicUsize, Ordering};

use tungstenite::error::{Error as WsError, ProtocolError};
use tungstenite::handshake::server::{create_response, write_response};
use tungstenite::http::{self, HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::request::Request;
use crate::response::push_headers;

/// The page served at `GET /`, built into the binary.
pub(crate) const PAGE: &str = include_str!("../../websocket.html");

/// Headers read per request; a request with more is answered 431.
const MAX_HEADERS: usize = 100;

/// What to do with the bytes read so far.
pub(crate) enum Step {
    /// The request is not complete yet: read more.
    NeedMore,
    /// A valid RFC 6455 upgrade request, `head_len` bytes long; what follows it in the buffer
    /// already belongs to the WebSocket.
    Upgrade(Box<Upgrade>),
    /// Answer with these bytes, then close.
    Respond(Vec<u8>),
    /// A plain HTTP request (no upgrade): the handler may answer it.
    Http(Box<http::Request<()>>),
}

/// A valid upgrade request and tungstenite's answer to it.
pub(crate) struct Upgrade {
    pub(crate) request: http::Request<()>,
    pub(crate) response: http::Response<()>,
    /// Length of the request head; bytes after it belong to the WebSocket.
    pub(crate) head_len: usize,
}

/// How many times [`parse`] ran in this process: the tests check that a request dribbled a byte
/// at a time is not parsed again on every read.
pub(crate) static PARSES: AtomicUsize = AtomicUsize::new(0);

/// Whether the bytes of `buf` from `from` on complete the blank line that ends a request head
/// (`\r\n\r\n`, or the bare `\n\n` httparse also accepts). Only those bytes (and the two
/// before them) are looked at, so a head that arrives in many small reads is searched once.
pub(crate) fn head_ends_in(buf: &[u8], from: usize) -> bool {
    let start = from.saturating_sub(2);
    (start.max(1)..buf.len()).any(|i| {
        buf[i] == b'\n'
            && (buf[i - 1] == b'\n' || (i >= 2 && buf[i - 1] == b'\r' && buf[i - 2] == b'\n'))
    })
}

/// Reads an HTTP request head from `buf`.
pub(crate) fn parse(buf: &[u8], max_size: usize) -> Step {
    PARSES.fetch_add(1, Ordering::Relaxed);
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= max_size => len,
        Ok(httparse::Status::Partial) if buf.len() < max_size => return Step::NeedMore,
        Ok(_) | Err(httparse::Error::TooManyHeaders) => {
            return Step::Respond(error(431, "request header fields too large"))
        }
        Err(_) => return Step::Respond(error(400, "not an HTTP request")),
    };
    let (Some(method), Some(path)) = (req.method, req.path) else {
        return Step::Respond(error(400, "not an HTTP request"));
    };
    let wants_upgrade = req.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("upgrade")
            && std::str::from_utf8(h.value)
                .is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
    });
    let request = match to_http_request(method, path, req.version, req.headers) {
        Ok(request) => request,
        Err(reason) => return Step::Respond(error(400, reason)),
    };
    if !wants_upgrade {
        return Step::Http(Box::new(request));
    }
    // The RFC 6455 checks (section 4.2.1) are tungstenite's.
    match create_response(&request) {
        Ok(response) => Step::Upgrade(Box::new(Upgrade {
            request,
            response,
            head_len,
        })),
        Err(WsError::Protocol(ProtocolError::MissingSecWebSocketVersionHeader)) => {
            // "If this version does not match a version understood by the server, the server
            // MUST abort the WebSocket handshake described in this section and instead send an
            // appropriate HTTP error code (such as 426 Upgrade Required) and a
            // |Sec-WebSocket-Version| header field indicating the version(s) the server is
            // capable of understanding." (RFC 6455, 4.2.2)
            Step::Respond(response(
                426,
                &[("Sec-WebSocket-Version", "13")],
                "text/plain; charset=utf-8",
                b"this server speaks WebSocket version 13\n",
            ))
        }
        Err(err) => Step::Respond(error(400, &format!("bad WebSocket handshake: {err}"))),
    }
}

/// The server's own answer to a plain HTTP request the handler left to it: the page, or 404.
pub(crate) fn plain_http(request: &Request, serve_page: bool) -> Vec<u8> {
    let path = request.path();
    let is_page = serve_page && (path == "/" || path == "/index.html");
    match request.method().as_str() {
        "GET" if is_page => response(200, &[], "text/html; charset=utf-8", PAGE.as_bytes()),
        "HEAD" if is_page => {
            let mut head = response(200, &[], "text/html; charset=utf-8", PAGE.as_bytes());
            head.truncate(head.len() - PAGE.len());
            head
        }
        _ => error(404, "not found"),
    }
}

/// Parses a request head that [`parse`] accepted before (a kept handshake request).
/// Header lines that only serve the upgrade: dropped from the head a connection keeps.
const HANDSHAKE_ONLY: [&[u8]; 5] = [
    b"upgrade",
    b"connection",
    b"sec-websocket-key",
    b"sec-websocket-version",
    b"sec-websocket-extensions",
];

/// The request head an open connection keeps: the head as received, without the header lines
/// that only served the upgrade ([`HANDSHAKE_ONLY`]; the subprotocol and extensions agreed are
/// kept apart). The head was parsed whole at the handshake (httparse refuses folded lines), so
/// each header is one `name: value` line.
pub(crate) fn kept_head(head: &[u8]) -> Box<[u8]> {
    let mut kept = Vec::with_capacity(head.len());
    let mut lines = head.split_inclusive(|&b| b == b'\n');
    if let Some(request_line) = lines.next() {
        kept.extend_from_slice(request_line);
    }
    for line in lines {
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        let handshake_only = line.contains(&b':')
            && HANDSHAKE_ONLY
                .iter()
                .any(|only| name.trim_ascii().eq_ignore_ascii_case(only));
        if !handshake_only {
            kept.extend_from_slice(line);
        }
    }
    kept.into_boxed_slice()
}

pub(crate) fn reparse(head: &[u8]) -> Option<http::Request<()>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).ok()?;
    to_http_request(req.method?, req.path?, req.version, req.headers).ok()
}

fn to_http_request(
    method: &str,
    path: &str,
    version: Option<u8>,
    headers: &[httparse::Header<'_>],
) -> Result<http::Request<()>, &'static str> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .version(match version {
            Some(1) => http::Version::HTTP_11,
            _ => http::Version::HTTP_10,
        });
    let map = builder.headers_mut().ok_or("bad request line")?;
    for header in headers {
        let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| "bad header name")?;
        let value = HeaderValue::from_bytes(header.value).map_err(|_| "bad header value")?;
        map.append(name, value);
    }
    builder.body(()).map_err(|_| "bad request line")
}

/// The `101 Switching Protocols` answer, with the subprotocol the handler chose (returned when
/// it could be sent) and the handler's extra headers (but not the handshake's own).
pub(crate) fn upgrade_response(
    mut response: http::Response<()>,
    protocol: Option<&str>,
    extra: &HeaderMap,
) -> (Vec<u8>, Option<String>) {
    let mut chosen = None;
    if let Some(protocol) = protocol {
        match HeaderValue::from_str(protocol) {
            Ok(value) => {
                response
                    .headers_mut()
                    .insert(http::header::SEC_WEBSOCKET_PROTOCOL, value);
                chosen = Some(protocol.to_owned());
            }
            Err(_) => log::warn!("subprotocol {protocol:?} left out: not a valid header value"),
        }
    }
    let own: Vec<HeaderName> = response.headers().keys().cloned().collect();
    for (name, value) in extra {
        if !own.contains(name) && !name.as_str().starts_with("sec-websocket-") {
            response.headers_mut().append(name, value.clone());
        }
    }
    let mut bytes = Vec::with_capacity(160);
    // Writing to a Vec cannot fail, and every header value came from a valid HeaderValue.
    let _ = write_response(&mut bytes, &response);
    (bytes, chosen)
}

/// Negotiates permessage-deflate (RFC 7692 section 7.1) for an upgrade when the server has it
/// on: the first offer of the request's `Sec-WebSocket-Extensions` headers that the server can
/// honour is answered in the 101 response, and the agreed parameters are kept in the request's
/// extensions (the connection makes its session from them, the handler reads them with
/// `Request::deflate`). No acceptable offer: the 101 names no extension.
#[cfg(feature = "deflate")]
pub(crate) fn negotiate_deflate(
    upgrade: &mut Upgrade,
    config: Option<&crate::deflate::DeflateConfig>,
) {
    let Some(config) = config else { return };
    let offers = upgrade
        .request
        .headers()
        .get_all(http::header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .map(|value| value.as_bytes());
    let Some(agreement) = crate::deflate::negotiate(config, offers) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(agreement.response_header()) {
        upgrade
            .response
            .headers_mut()
            .insert(http::header::SEC_WEBSOCKET_EXTENSIONS, value);
        upgrade.request.extensions_mut().insert(agreement.params());
    }
}

/// Whether the request's `Origin` is on the allow-list (an empty list allows every origin).
pub(crate) fn origin_allowed(request: &http::Request<()>, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let origin = request
        .headers()
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_end_matches('/'));
    origin.is_some_and(|origin| allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)))
}

/// A plain-text error response.
pub(crate) fn error(status: u16, body: &str) -> Vec<u8> {
    error_with(status, body, &HeaderMap::new())
}

/// A plain-text error response with the handler's extra headers (but not the framing ones).
pub(crate) fn error_with(status: u16, body: &str, extra: &HeaderMap) -> Vec<u8> {
    let mut text = String::with_capacity(body.len() + 1);
    text.push_str(body);
    text.push('\n');
    let mut bytes = response(status, &[], "text/plain; charset=utf-8", text.as_bytes());
    if !extra.is_empty() {
        // Between the server's headers and the blank line that ends them.
        let head_end = bytes.len() - text.len() - 2;
        let body = bytes.split_off(head_end);
        let reserved = [
            http::header::CONTENT_TYPE,
            http::header::CONTENT_LENGTH,
            http::header::CONNECTION,
            http::header::CACHE_CONTROL,
        ];
        push_headers(&mut bytes, extra, &reserved);
        bytes.extend_from_slice(&body);
    }
    bytes
}

/// A complete HTTP/1.1 response that closes the connection.
pub(crate) fn response(
    status: u16,
    extra: &[(&str, &str)],
    content_type: &str,
    body: &[u8],
) -> Vec<u8> {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
        body.len()
    );
    for (name, value) in extra {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPGRADE: &str = "GET /chat?room=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    fn status_of(step: Step) -> String {
        match step {
            Step::Respond(bytes) => String::from_utf8_lossy(&bytes[..12]).into_owned(),
            Step::Upgrade(_) => "upgrade".into(),
            Step::NeedMore => "more".into(),
            Step::Http(request) => format!("http {}", request.uri().path()),
        }
    }

    #[test]
    fn a_valid_upgrade_keeps_the_bytes_after_the_head() {
        let mut bytes = UPGRADE.as_bytes().to_vec();
        bytes.extend_from_slice(&[0x81, 0x80]);
        match parse(&bytes, 16384) {
            Step::Upgrade(upgrade) => {
                let Upgrade {
                    request,
                    response,
                    head_len,
                } = *upgrade;
                assert_eq!(head_len, UPGRADE.len());
                assert_eq!(request.uri().path(), "/chat");
                let extra = HeaderMap::from_iter([
                    (http::header::SET_COOKIE, HeaderValue::from_static("a=b")),
                    (http::header::UPGRADE, HeaderValue::from_static("nope")),
                ]);
                let (bytes, chosen) = upgrade_response(response, Some("chat"), &extra);
                assert_eq!(chosen.as_deref(), Some("chat"));
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.contains("set-cookie: a=b\r\n"), "{text}");
                assert!(!text.contains("nope"), "{text}");
                // The accept key of RFC 6455's own example.
                assert!(text.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
                assert!(text.contains("sec-websocket-protocol: chat"));
            }
            _ => panic!("expected an upgrade"),
        }
    }

    #[test]
    fn the_end_of_a_head_is_found_in_the_new_bytes_alone() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert!(head_ends_in(head, 0));
        // Arriving a byte at a time, it is found exactly when its last byte comes.
        for end in 1..head.len() {
            assert!(!head_ends_in(&head[..end], end - 1), "{end}");
        }
        assert!(head_ends_in(head, head.len() - 1));
        assert!(head_ends_in(b"GET / HTTP/1.1\nHost: x\n\n", 20));
        assert!(!head_ends_in(b"GET / HTTP/1.1\r\n", 0));
    }

    #[test]
    fn routing_and_error_statuses() {
        assert_eq!(status_of(parse(b"GET / HTTP/1.1\r\n", 16384)), "more");
        assert_eq!(
            status_of(parse(b"GET /x?y HTTP/1.1\r\n\r\n", 16384)),
            "http /x"
        );
        assert_eq!(
            status_of(parse(b"\x16\x03\x01garbage\r\n\r\n", 16384)),
            "HTTP/1.1 400"
        );
        let old = UPGRADE.replace("Version: 13", "Version: 8");
        assert_eq!(status_of(parse(old.as_bytes(), 16384)), "HTTP/1.1 426");
        let no_key = UPGRADE.replace("Sec-WebSocket-Key", "X-Key");
        assert_eq!(status_of(parse(no_key.as_bytes(), 16384)), "HTTP/1.1 400");
        assert_eq!(status_of(parse(&[b'a'; 300], 256)), "HTTP/1.1 431");
        let long = format!("GET / HTTP/1.1\r\nX: {}\r\n", "y".repeat(400));
        assert_eq!(status_of(parse(long.as_bytes(), 256)), "HTTP/1.1 431");
        let many: String = (0..200).map(|i| format!("X-{i}: 1\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(status_of(parse(many.as_bytes(), 16384)), "HTTP/1.1 431");
    }
}
