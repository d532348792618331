//! One client connection: its phases (HTTP request, HTTP response, open WebSocket, closing,
//! draining) and the non-blocking reads that move it between them. Its writes are in
//! `outgoing.rs`.
//!
//! A connection never calls the handler: it reports [`Progress`] and the loop acts on it.

use std::io::{ErrorKind, Read};
use std::net::SocketAddr;
use std::time::Instant;

use tungstenite::error::{Error as WsError, ProtocolError};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::WebSocketContext;

use crate::config::Config;
use crate::fast_path::Framing;
use crate::http::{self, Step};
use crate::message::{CloseReason, Message};
use crate::outgoing::Held;
use crate::read_ahead::{Appender, ReadAhead};
use crate::request::Request;
use crate::stream::Stream;
use crate::text::Text;

/// What a connection's reads or writes came to, for the loop to act on.
pub(crate) enum Progress {
    /// Nothing more can happen until the socket is ready again.
    Idle,
    /// A control frame was handled inside the connection: read again.
    Continue,
    /// A whole HTTP request has arrived; the loop decides how to answer it.
    Request(Step),
    /// The handshake is done: the loop calls `on_open`, then reads (bytes that came with the
    /// handshake may already be buffered).
    Opened(Box<Request>),
    /// A message for the handler.
    Message(Message),
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

pub(crate) enum Phase {
    /// Reading the HTTP request head.
    Request { buf: Vec<u8> },
    /// Writing an HTTP response.
    Response(Box<Response>),
    /// An open WebSocket: messages flow both ways.
    /// Boxed: the context is most of a connection's size, and the slab holds handshakes too.
    Open(Box<WebSocketContext>),
    /// A close frame was sent or received; finishing the close handshake.
    Closing(Box<WebSocketContext>),
    /// Writing what is left (a close frame after an error), then discarding input until EOF.
    Draining(Option<Box<WebSocketContext>>),
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
    /// When a byte last arrived from the client.
    pub(crate) last_seen: Instant,
    /// A ping for idleness is out and unanswered.
    pub(crate) pinged: bool,
    /// A fragmented message is being sent: data messages sent meanwhile wait here until its last
    /// piece (RFC 6455 5.4 forbids interleaving them with its frames).
    pub(crate) held: Option<Held>,
    /// Where the connection is in its stream of incoming frames.
    pub(crate) framing: Framing,
    /// Bytes for the client, in order: data frames the server encodes and the frames tungstenite
    /// makes (see `read_ahead::Appender`). Only `flush` writes them to the socket.
    pub(crate) out: Vec<u8>,
    /// How much of `out` the socket has taken.
    pub(crate) out_sent: usize,
}

pub(crate) fn would_block(err: &WsError) -> bool {
    matches!(err, WsError::Io(e) if e.kind() == ErrorKind::WouldBlock)
}

pub(crate) fn close_frame(code: u16, reason: &str) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_owned().into(),
    }
}

impl Conn {
    pub(crate) fn new(stream: Stream, peer: SocketAddr, generation: u32, now: Instant) -> Self {
        Conn {
            stream,
            peer,
            generation,
            phase: Phase::Request { buf: Vec::new() },
            dirty: false,
            last_seen: now,
            pinged: false,
            held: None,
            framing: Framing::default(),
            out: Vec::new(),
            out_sent: 0,
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open(_))
    }

    pub(crate) fn in_handshake(&self) -> bool {
        matches!(self.phase, Phase::Request { .. } | Phase::Response(_))
    }

    /// Reads until there is something to report or the socket would block.
    pub(crate) fn read(
        &mut self,
        config: &Config,
        ahead: &mut ReadAhead,
        now: Instant,
    ) -> Progress {
        match &mut self.phase {
            Phase::Request { buf } => {
                Self::read_request(&mut self.stream, buf, config, ahead.scratch())
            }
            // The response is written first; the loop reads again once it is.
            Phase::Response(_) => Progress::Idle,
            Phase::Open(_) => self.read_open(config, ahead, now),
            Phase::Closing(ws) => loop {
                self.framing.restore_kept(ahead);
                match ws.read(&mut ahead.over(&mut self.stream, &mut self.out)) {
                    // Data after a close frame is not delivered.
                    Ok(_) => continue,
                    Err(err) if would_block(&err) => return Progress::Idle,
                    // The close handshake is done; its last frame may still wait in `out`.
                    Err(WsError::ConnectionClosed) if self.out.len() > self.out_sent => {
                        self.phase = Phase::Finishing;
                        return Progress::Continue;
                    }
                    Err(_) => return Progress::Finished(CloseReason::Disconnected),
                }
            },
            Phase::Draining(_) | Phase::Finishing => loop {
                match self.stream.read(ahead.scratch()) {
                    Ok(0) => return Progress::Finished(CloseReason::Disconnected),
                    Ok(_) => continue,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Idle,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(_) => return Progress::Finished(CloseReason::Disconnected),
                }
            },
        }
    }

    fn read_request(
        stream: &mut Stream,
        buf: &mut Vec<u8>,
        config: &Config,
        scratch: &mut [u8],
    ) -> Progress {
        loop {
            let room = config.max_handshake_size.saturating_sub(buf.len()).max(1);
            let len = room.min(scratch.len());
            match stream.read(&mut scratch[..len]) {
                Ok(0) => return Progress::Finished(CloseReason::Disconnected),
                Ok(n) => {
                    buf.extend_from_slice(&scratch[..n]);
                    match http::parse(buf, config.max_handshake_size) {
                        Step::NeedMore => continue,
                        step => return Progress::Request(step),
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Idle,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return Progress::Finished(CloseReason::Disconnected),
            }
        }
    }

    pub(crate) fn on_frame(&mut self, message: tungstenite::Message) -> Progress {
        match message {
            tungstenite::Message::Text(text) => {
                Progress::Message(Message::Text(Text::from_checked(text)))
            }
            tungstenite::Message::Binary(bytes) => Progress::Message(Message::Binary(bytes)),
            tungstenite::Message::Close(frame) => {
                // tungstenite has queued the answering close frame.
                let (code, reason) = match frame {
                    Some(f) => (u16::from(f.code), f.reason.as_str().to_owned()),
                    None => (1005, String::new()),
                };
                self.leave(Phase::Closing);
                Progress::Left(CloseReason::ByClient { code, reason })
            }
            // Pongs to pings are queued by tungstenite; pongs and raw frames need nothing more.
            _ => Progress::Continue,
        }
    }

    pub(crate) fn on_read_error(&mut self, err: WsError) -> Progress {
        let code = match err {
            ref e if would_block(e) => return Progress::Idle,
            WsError::Capacity(_) => 1009,
            WsError::Utf8(_) => 1007,
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                return Progress::Finished(CloseReason::Disconnected)
            }
            WsError::Protocol(_) | WsError::AttackAttempt => 1002,
            WsError::WriteBufferFull(_) => return self.overflow(),
            _ => return Progress::Finished(CloseReason::Disconnected),
        };
        self.fail(code)
    }

    /// Fails the WebSocket connection (RFC 6455, 7.1.7): a close frame with `code`, then the TCP
    /// close once it is written.
    pub(crate) fn fail(&mut self, code: u16) -> Progress {
        let reason = match code {
            1007 => "invalid UTF-8",
            1009 => "message too big",
            _ => "protocol error",
        };
        if let Phase::Open(ws) = &mut self.phase {
            match ws.close(
                &mut Appender(&mut self.out),
                Some(close_frame(code, reason)),
            ) {
                Ok(()) => {}
                Err(err) if would_block(&err) => {}
                Err(_) => return Progress::Finished(CloseReason::ProtocolError { code }),
            }
        }
        self.leave(|ws| Phase::Draining(Some(ws)));
        Progress::Left(CloseReason::ProtocolError { code })
    }

    /// The client's backlog passed the limit: close it with 1008, or drop it when even the close
    /// frame does not fit.
    pub(crate) fn overflow(&mut self) -> Progress {
        self.close(
            1008,
            "too slow: backlog limit reached",
            CloseReason::SlowConsumer,
        )
    }

    /// Moves an open (or closing) connection's WebSocket into its next phase.
    pub(crate) fn leave(&mut self, next: impl FnOnce(Box<WebSocketContext>) -> Phase) {
        let phase = std::mem::replace(&mut self.phase, Phase::Draining(None));
        self.phase = match phase {
            Phase::Open(ws) | Phase::Closing(ws) => next(ws),
            other => other,
        };
    }
}

#[cfg(test)]
mod tests {
    /// Every connection the slab holds costs this much before anything is allocated for it; the
    /// idle-memory goal (1 KiB per connection, 100,000 connections) keeps it small.
    #[test]
    fn a_connection_slot_stays_small() {
        assert!(
            std::mem::size_of::<super::Conn>() <= 208,
            "{}",
            std::mem::size_of::<super::Conn>()
        );
    }
}
