//! One client connection: its phases (HTTP request, HTTP response, open WebSocket, closing,
//! draining) and the non-blocking reads that move it between them. Its frames are decoded and
//! encoded by `codec/`; its writes are in `outgoing.rs`.
//!
//! A connection never calls the handler: it reports [`Progress`] and the loop acts on it.
//!
//! Files: `mod.rs` (the connection and its phases), `incoming.rs` (its reads), `http.rs` (the HTTP request head and
//! responses), `outgoing.rs` (everything it queues to write), `flush.rs` (writing it to the
//! socket), `read_ahead.rs` (the loop's shared read buffer), `stream.rs` (plain TCP or TLS),
//! `pace.rs` (its flow-control state), `compress.rs` (permessage-deflate on the way out).

#[cfg(feature = "deflate")]
pub(crate) mod compress;
pub(crate) mod flush;
pub(crate) mod http;
pub(crate) mod incoming;
pub(crate) mod outgoing;
pub(crate) mod pace;
pub(crate) mod read_ahead;
pub(crate) mod stream;

use std::net::SocketAddr;
use std::time::Instant;

use crate::codec::{self, Decoder};
use crate::config::Config;
use crate::connection::outgoing::Held;
use crate::connection::read_ahead::ReadAhead;
use crate::connection::stream::Stream;
use crate::message::{CloseReason, Message};
use crate::request::Request;
use http::Step;

/// The loop's permessage-deflate state (compressors, idle inflaters), lent to connections as
/// they read and send; nothing without the `deflate` feature.
#[cfg(feature = "deflate")]
pub(crate) type DeflatePool = crate::deflate::DeflatePool;
/// The loop's permessage-deflate state: nothing without the `deflate` feature.
#[cfg(not(feature = "deflate"))]
pub(crate) type DeflatePool = ();

/// The loop's pool, made from the server's settings (it allocates nothing until a message
/// needs it).
pub(crate) fn deflate_pool(config: &Config) -> DeflatePool {
    #[cfg(feature = "deflate")]
    return DeflatePool::new(config.deflate.unwrap_or_default());
    #[cfg(not(feature = "deflate"))]
    let _ = config;
}

/// What a connection's reads or writes came to, for the loop to act on.
pub(crate) enum Progress {
    /// Nothing more can happen until the socket is ready again.
    Idle,
    /// A control frame was handled inside the connection (a pong may be owed): flush, and read
    /// again.
    Continue,
    /// A whole HTTP request has arrived; the loop decides how to answer it.
    Request(Step),
    /// The handshake is done: the loop calls `on_open`, then reads (bytes that came with the
    /// handshake may already be buffered).
    Opened(Box<Request>),
    /// A message for the handler.
    Message(Message),
    /// A whole message unmasked where it was read: `len` bytes at `start` in the loop's read
    /// buffer ([`ReadAhead::taken`]), there until the next read. Text is not checked yet
    /// ([`codec::checked`]).
    InPlace {
        text: bool,
        start: usize,
        len: usize,
    },
    /// The connection left the open state (close frame sent or received, protocol error, slow
    /// consumer); the loop calls `on_close`. The socket lives on to finish the close handshake.
    Left(CloseReason),
    /// The socket is done: the loop removes it, calling `on_close` with this reason first if the
    /// connection was still open.
    Finished(CloseReason),
}

/// What happens once an HTTP response has been written.
pub(crate) enum Then {
    Upgrade {
        leftover: Vec<u8>,
        request: Box<Request>,
    },
    Close,
}

/// An HTTP response being written (boxed in [`Phase`]: connections spend little time here).
pub(crate) struct Response {
    pub(crate) bytes: Vec<u8>,
    pub(crate) written: usize,
    pub(crate) then: Then,
}

/// An open (or closing) WebSocket's state, boxed in [`Phase`] so that a connection in its
/// handshake does not pay for it.
pub(crate) struct Ws {
    pub(crate) decoder: Decoder,
    /// permessage-deflate, when agreed in the handshake (boxed: connections without it pay
    /// 8 bytes).
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<Box<crate::deflate::DeflateSession>>,
    /// Bytes read and not yet decoded: those that came with the handshake, or those left in the
    /// shared buffer when reading stopped early (see [`Conn::keep_unread`]).
    pub(crate) kept: Box<[u8]>,
    /// The payload of the latest ping not answered yet. RFC 6455 5.5.3 lets an endpoint answer
    /// only the most recent of several pings, so a burst of pings costs one pong.
    pub(crate) pong: Option<Box<[u8]>>,
    /// Where the last pong queued in `out` ends; while the socket has not taken it, the next pong
    /// waits here instead of piling up behind a client that does not read.
    pub(crate) pong_end: usize,
    /// Most bytes queued for the client (`Config::backlog_limit`).
    pub(crate) backlog_limit: usize,
}

pub(crate) enum Phase {
    /// Reading the HTTP request head.
    Request { buf: Vec<u8> },
    /// Writing an HTTP response.
    Response(Box<Response>),
    /// An open WebSocket: messages flow both ways.
    Open(Box<Ws>),
    /// The server sent a close frame; reading until the client's, discarding data meanwhile.
    Closing(Box<Ws>),
    /// Writing what is left (a close frame after an error; `true` until it is written and the
    /// write side shut), then discarding input until EOF.
    Draining(bool),
    /// The close handshake is done: writing its last frame, then the socket is dropped (the
    /// server closes the TCP connection first, as RFC 6455 7.1.1 asks).
    Finishing,
}

pub(crate) struct Conn {
    pub(crate) stream: Stream,
    pub(crate) peer: SocketAddr,
    pub(crate) generation: u32,
    pub(crate) phase: Phase,
    /// Queued in the loop's list of connections to flush.
    pub(crate) dirty: bool,
    /// A ping for idleness is out and unanswered.
    pub(crate) pinged: bool,
    /// When a byte last arrived from the client.
    pub(crate) last_seen: Instant,
    /// A fragmented message is being sent: data messages sent meanwhile wait here until its last
    /// piece (RFC 6455 5.4 forbids interleaving them with its frames).
    pub(crate) held: Option<Box<Held>>,
    /// Bytes for the client, in order: every frame the server sends is encoded here. Only
    /// `flush` writes them to the socket.
    pub(crate) out: Vec<u8>,
    /// How much of `out` the socket has taken.
    pub(crate) out_sent: usize,
    /// Flow control: above the high-water mark, paused (see `flow.rs`).
    pub(crate) flow: pace::ConnFlow,
}

impl Conn {
    pub(crate) fn new(stream: Stream, peer: SocketAddr, generation: u32, now: Instant) -> Self {
        Conn {
            stream,
            peer,
            generation,
            phase: Phase::Request { buf: Vec::new() },
            dirty: false,
            pinged: false,
            last_seen: now,
            held: None,
            out: Vec::new(),
            out_sent: 0,
            flow: Default::default(),
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open(_))
    }

    pub(crate) fn in_handshake(&self) -> bool {
        matches!(self.phase, Phase::Request { .. } | Phase::Response(_))
    }

    /// Fails the WebSocket connection (RFC 6455, 7.1.7): a close frame with `code`, then the TCP
    /// close once it is written.
    pub(crate) fn fail(&mut self, code: u16, reason: &str) -> Progress {
        if let Phase::Open(_) = self.phase {
            codec::encode_close(&mut self.out, Some(code), reason);
            self.phase = Phase::Draining(true);
            return Progress::Left(CloseReason::ProtocolError { code });
        }
        Progress::Idle
    }

    /// The client's backlog passed the limit: close it with 1008.
    pub(crate) fn overflow(&mut self) -> Progress {
        self.close(
            1008,
            "too slow: backlog limit reached",
            CloseReason::SlowConsumer,
        )
    }

    /// Keeps the bytes still unread in the shared buffer for this connection's next read, for
    /// a caller that stops reading it before the socket would block (the buffer is then lent to
    /// another connection).
    pub(crate) fn keep_unread(&mut self, ahead: &mut ReadAhead) {
        if let Phase::Open(ws) | Phase::Closing(ws) = &mut self.phase {
            // `kept` is empty here: it goes back into the buffer before the socket is read.
            if !ahead.unread().is_empty() {
                ws.kept = ahead.unread().into();
                ahead.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every connection the slab holds costs this much before anything is allocated for it; the
    /// idle-memory goal (1 KiB per connection, 100,000 connections) keeps it small. An open
    /// WebSocket adds its boxed state, which holds no other heap memory while idle (the decoder
    /// keeps no read buffer: it decodes from the loop's shared one). With the `deflate` feature
    /// it holds 8 bytes more: the pointer to a permessage-deflate session (`None` for
    /// connections that did not agree the extension).
    #[test]
    fn a_connection_slot_stays_small() {
        let conn = std::mem::size_of::<super::Conn>();
        let ws = std::mem::size_of::<super::Ws>();
        let deflate = if cfg!(feature = "deflate") { 8 } else { 0 };
        assert!(conn <= 136, "{conn}");
        assert!(ws <= 128 + deflate, "{ws}");
    }
}
