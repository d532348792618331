//! What a connection writes: messages, fragments, pings, pongs, closes and HTTP responses,
//! encoded by `codec/` into the connection's one outgoing buffer without blocking, and written
//! out by [`Conn::flush`] once per batch of events. Every frame counts against the client's
//! backlog limit.

use crate::codec::{self, opcode};
use crate::connection::{Conn, DeflatePool, Phase, Progress, Response, Then};
use crate::message::Fragment;
use crate::message::{CloseReason, Message};
use crate::message_ref::MessageRef;
use std::collections::VecDeque;

/// Messages waiting for a fragmented message to end, and their payload bytes.
#[derive(Default)]
pub(crate) struct Held {
    messages: VecDeque<Message>,
    bytes: usize,
}

/// The largest header of a server frame (no mask).
pub(crate) const MAX_HEAD: usize = 10;

/// One broadcast message, encoded once for every receiver: the plain frame, and with
/// permessage-deflate the compressed frame per server window size, made on first need.
pub(crate) struct Broadcast<'m> {
    pub(crate) message: &'m Message,
    frame: Vec<u8>,
    #[cfg(feature = "deflate")]
    pub(crate) once: crate::deflate::CompressOnce<'m>,
    /// Per window size 9 to 15: the compressed frame (header with RSV1, then the payload).
    #[cfg(feature = "deflate")]
    pub(crate) frames: [Option<Vec<u8>>; 7],
}

impl<'m> Broadcast<'m> {
    /// Encodes the plain frame; nothing is compressed until a receiver needs it.
    pub(crate) fn new(message: &'m Message) -> Self {
        let mut frame = Vec::new();
        codec::encode_message(&mut frame, data_opcode(message), message.as_bytes());
        Broadcast {
            message,
            frame,
            #[cfg(feature = "deflate")]
            once: crate::deflate::CompressOnce::new(message.as_bytes()),
            #[cfg(feature = "deflate")]
            frames: Default::default(),
        }
    }
}

impl Broadcast<'_> {
    /// The plain (uncompressed) frame.
    pub(crate) fn frame(&self) -> &[u8] {
        &self.frame
    }
}

pub(crate) fn data_opcode(message: &Message) -> u8 {
    if message.is_text() {
        opcode::TEXT
    } else {
        opcode::BINARY
    }
}

impl Conn {
    /// The backlog limit of an open connection (`None` when it is not open).
    fn open_limit(&self) -> Option<usize> {
        match &self.phase {
            Phase::Open(ws) => Some(ws.backlog_limit),
            _ => None,
        }
    }

    /// Queues a message, compressed if the client agreed permessage-deflate and it pays;
    /// returns what to report when the client cannot take it.
    pub(crate) fn send(&mut self, message: Message, pool: &mut DeflatePool) -> Progress {
        let Some(limit) = self.open_limit() else {
            return Progress::Idle;
        };
        if let Some(held) = &mut self.held {
            held.bytes += message.len();
            held.messages.push_back(message);
            if held.bytes > limit {
                return self.overflow();
            }
            return Progress::Idle;
        }
        #[cfg(feature = "deflate")]
        if self.deflating() {
            if let Some(progress) = self.send_compressed(&message, pool, limit) {
                return progress;
            }
        }
        #[cfg(not(feature = "deflate"))]
        let _ = pool;
        if self.backlog() + message.len() + MAX_HEAD > limit {
            return self.overflow();
        }
        codec::encode_message(&mut self.out, data_opcode(&message), message.as_bytes());
        Progress::Idle
    }

    /// Queues a broadcast, whose frames are encoded once for all receivers; the message itself
    /// is held instead while a fragmented message is open.
    pub(crate) fn send_encoded(
        &mut self,
        broadcast: &mut Broadcast<'_>,
        pool: &mut DeflatePool,
    ) -> Progress {
        let Some(limit) = self.open_limit() else {
            return Progress::Idle;
        };
        if self.held.is_some() {
            return self.send(broadcast.message.clone(), pool);
        }
        #[cfg(feature = "deflate")]
        if self.deflating() {
            if let Some(progress) = self.send_broadcast_compressed(broadcast, pool, limit) {
                return progress;
            }
        }
        let frame = &broadcast.frame;
        if self.backlog() + frame.len() > limit {
            return self.overflow();
        }
        self.out.extend_from_slice(frame);
        Progress::Idle
    }

    /// Whether frames already encoded without compression can be appended as they are: the
    /// connection is open, no fragmented message is being sent, no permessage-deflate.
    pub(crate) fn takes_plain_frames(&self) -> bool {
        match &self.phase {
            #[cfg(feature = "deflate")]
            Phase::Open(ws) => self.held.is_none() && ws.deflate.is_none(),
            #[cfg(not(feature = "deflate"))]
            Phase::Open(_) => self.held.is_none(),
            _ => false,
        }
    }

    /// Queues plain frames already encoded (a batch of broadcasts, see
    /// [`takes_plain_frames`](Self::takes_plain_frames)): all of them, or, past the backlog
    /// limit, none and the close.
    pub(crate) fn send_frames(&mut self, frames: &[u8]) -> Progress {
        let Some(limit) = self.open_limit() else {
            return Progress::Idle;
        };
        if self.backlog() + frames.len() > limit {
            return self.overflow();
        }
        self.out.extend_from_slice(frames);
        Progress::Idle
    }

    /// Queues a message now if it can go as it is (see
    /// [`takes_plain_frames`](Self::takes_plain_frames)) and leaves the backlog at most `high`
    /// (below the backlog limit, which `Config` checks); `false`, with nothing done, otherwise.
    pub(crate) fn send_now(&mut self, message: MessageRef<'_>, high: usize) -> bool {
        if !self.takes_plain_frames() || self.backlog() + message.len() + MAX_HEAD > high {
            return false;
        }
        let op = if message.is_text() {
            opcode::TEXT
        } else {
            opcode::BINARY
        };
        codec::encode_message(&mut self.out, op, message.as_bytes());
        true
    }

    /// Whether the client agreed permessage-deflate: checked here, inline, so that a client
    /// without it pays one branch per send rather than a call.
    #[cfg(feature = "deflate")]
    #[inline]
    fn deflating(&self) -> bool {
        matches!(&self.phase, Phase::Open(ws) if ws.deflate.is_some())
    }

    /// Bytes queued for the client and not yet taken by the socket.
    pub(crate) fn backlog(&self) -> usize {
        self.out.len() - self.out_sent
    }

    /// Queues one piece of a fragmented message; after the last piece, the messages held while
    /// it was open. Pieces are never compressed (RSV1 clear: permessage-deflate compresses
    /// whole messages only here); the held messages may be.
    pub(crate) fn send_fragment(&mut self, fragment: Fragment, pool: &mut DeflatePool) -> Progress {
        let Some(limit) = self.open_limit() else {
            return Progress::Idle;
        };
        let (op, fin, payload) = match (&fragment, self.held.is_some()) {
            (Fragment::Start(message), false) => (data_opcode(message), false, message.as_bytes()),
            (Fragment::Continue(bytes), true) => (opcode::CONTINUATION, false, &bytes[..]),
            (Fragment::End(bytes), true) => (opcode::CONTINUATION, true, &bytes[..]),
            (Fragment::Start(_), true) => {
                log::warn!(
                    "{}: a fragmented message was started while another is open; piece dropped",
                    self.peer
                );
                return Progress::Idle;
            }
            (_, false) => {
                log::warn!(
                    "{}: a fragment was sent with no fragmented message open; piece dropped",
                    self.peer
                );
                return Progress::Idle;
            }
        };
        if self.backlog() + payload.len() + MAX_HEAD > limit {
            return self.overflow();
        }
        codec::encode(&mut self.out, fin, op, payload);
        if let Fragment::Start(_) = fragment {
            self.held = Some(Box::default());
        }
        if fin {
            let held = self.held.take().unwrap_or_default();
            for message in held.messages {
                match self.send(message, pool) {
                    Progress::Idle => {}
                    progress => return progress,
                }
            }
        }
        Progress::Idle
    }

    /// Queues a ping (for idle detection).
    pub(crate) fn ping(&mut self) -> Progress {
        let Some(limit) = self.open_limit() else {
            return Progress::Idle;
        };
        self.pinged = true;
        if self.backlog() + 2 > limit {
            return self.overflow();
        }
        codec::encode(&mut self.out, true, opcode::PING, &[]);
        Progress::Idle
    }

    /// Queues the pong owed for the latest ping. If the previous pong is still in the queue, the
    /// socket is offered the queue first; if it does not take that pong (the client is not
    /// reading), the new one waits, replaced by any later ping, until the socket has taken the
    /// previous one. A client that reads gets a pong for every ping; one that never reads gets
    /// no more pongs queued than one (RFC 6455 5.5.3 allows answering only the latest ping).
    pub(crate) fn queue_pong(&mut self) -> Progress {
        let Phase::Open(ws) = &self.phase else {
            return Progress::Idle;
        };
        if ws.pong.is_none() {
            return Progress::Idle;
        }
        if self.out_sent < ws.pong_end {
            if let Err(Some(progress)) = self.write_out() {
                return progress;
            }
        }
        let out_sent = self.out_sent;
        let backlog = self.backlog();
        let Phase::Open(ws) = &mut self.phase else {
            return Progress::Idle;
        };
        if out_sent < ws.pong_end {
            return Progress::Idle;
        }
        let payload = ws.pong.take().unwrap_or_default();
        if backlog + payload.len() + 2 > ws.backlog_limit {
            return self.overflow();
        }
        codec::encode(&mut self.out, true, opcode::PONG, &payload);
        ws.pong_end = self.out.len();
        Progress::Idle
    }

    /// Starts the close handshake from the server's side. A code that must not go on the wire
    /// (RFC 6455 7.4: 1005, 1006, 1015, reserved or out of range) is never sent: 1005 ("no
    /// status") becomes a close frame without a payload, which is what it stands for; any other
    /// becomes 1011 (internal error) with a warning in the log. `why` reports the code sent.
    pub(crate) fn close(&mut self, code: u16, reason: &str, why: CloseReason) -> Progress {
        let phase = std::mem::replace(&mut self.phase, Phase::Draining(false));
        let Phase::Open(mut ws) = phase else {
            self.phase = phase;
            return Progress::Idle;
        };
        let sent = if codec::may_send(code) {
            Some(code)
        } else if code == 1005 {
            None
        } else {
            log::warn!(
                "{}: close code {code} may not be sent (RFC 6455, 7.4); sending 1011 instead",
                self.peer
            );
            Some(1011)
        };
        codec::encode_close(&mut self.out, sent, reason);
        ws.pong = None;
        self.phase = Phase::Closing(ws);
        let why = match why {
            CloseReason::ByServer { .. } => CloseReason::ByServer {
                code: sent.unwrap_or(1005),
            },
            other => other,
        };
        Progress::Left(why)
    }

    /// Starts writing an HTTP response.
    pub(crate) fn respond(&mut self, bytes: Vec<u8>, then: Then) {
        self.phase = Phase::Response(Box::new(Response {
            bytes,
            written: 0,
            then,
        }));
    }
}
