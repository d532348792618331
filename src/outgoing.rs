//! What a connection writes: messages, fragments, pings, closes and HTTP responses, queued
//! without blocking and written out by [`Conn::flush`] once per batch of events.

use std::collections::VecDeque;
use std::io::{ErrorKind, Write};

use tungstenite::error::Error as WsError;
use tungstenite::protocol::{Role, WebSocketConfig, WebSocketContext};

use crate::conn::{close_frame, would_block, Conn, Phase, Progress, Response, Then};
use crate::context::Fragment;
use crate::message::{CloseReason, Message};
use crate::read_ahead::Appender;

/// Messages waiting for a fragmented message to end, and their payload bytes.
#[derive(Default)]
pub(crate) struct Held {
    messages: VecDeque<Message>,
    bytes: usize,
}

impl Conn {
    /// Queues a message; returns what to report when the client cannot take it.
    pub(crate) fn send(&mut self, message: Message) -> Progress {
        let Phase::Open(ws) = &mut self.phase else {
            return Progress::Idle;
        };
        if let Some(held) = &mut self.held {
            held.bytes += message.len();
            held.messages.push_back(message);
            if held.bytes > ws.get_config().max_write_buffer_size {
                return self.overflow();
            }
            return Progress::Idle;
        }
        let limit = ws.get_config().max_write_buffer_size;
        let (opcode, payload) = match &message {
            Message::Text(text) => (1, text.as_bytes()),
            Message::Binary(bytes) => (2, &bytes[..]),
        };
        if self.backlog() + payload.len() + 10 > limit {
            return self.overflow();
        }
        encode_frame(&mut self.out, opcode, payload);
        Progress::Idle
    }

    /// Queues a message already encoded as a frame (a broadcast encodes its frame once); the
    /// message itself is held instead while a fragmented message is open.
    pub(crate) fn send_encoded(&mut self, frame: &[u8], message: &Message) -> Progress {
        let Phase::Open(ws) = &self.phase else {
            return Progress::Idle;
        };
        if self.held.is_some() {
            return self.send(message.clone());
        }
        if self.backlog() + frame.len() > ws.get_config().max_write_buffer_size {
            return self.overflow();
        }
        self.out.extend_from_slice(frame);
        Progress::Idle
    }

    /// Bytes queued for the client and not yet taken by the socket.
    pub(crate) fn backlog(&self) -> usize {
        self.out.len() - self.out_sent
    }

    /// Queues one piece of a fragmented message; after the last piece, the messages held while
    /// it was open.
    pub(crate) fn send_fragment(&mut self, fragment: Fragment) -> Progress {
        use tungstenite::protocol::frame::coding::{Data, OpCode};
        use tungstenite::protocol::frame::Frame;
        let Phase::Open(ws) = &mut self.phase else {
            return Progress::Idle;
        };
        let (frame, last) = match (fragment, self.held.is_some()) {
            (Fragment::Start(message), false) => {
                let kind = if message.is_text() {
                    Data::Text
                } else {
                    Data::Binary
                };
                let payload = match message {
                    Message::Text(text) => text.into(),
                    Message::Binary(bytes) => bytes,
                };
                self.held = Some(Held::default());
                (Frame::message(payload, OpCode::Data(kind), false), false)
            }
            (Fragment::Continue(bytes), true) => (
                Frame::message(bytes, OpCode::Data(Data::Continue), false),
                false,
            ),
            (Fragment::End(bytes), true) => (
                Frame::message(bytes, OpCode::Data(Data::Continue), true),
                true,
            ),
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
        let limit = ws.get_config().max_write_buffer_size;
        if self.out.len() - self.out_sent + frame.len() > limit {
            return self.overflow();
        }
        let progress = match ws.write(
            &mut Appender(&mut self.out),
            tungstenite::Message::Frame(frame),
        ) {
            Ok(()) => Progress::Idle,
            Err(err) if would_block(&err) => Progress::Idle,
            Err(WsError::WriteBufferFull(_)) => return self.overflow(),
            Err(_) => return Progress::Finished(CloseReason::Disconnected),
        };
        if last {
            let held = self.held.take().unwrap_or_default();
            for message in held.messages {
                match self.send(message) {
                    Progress::Idle => {}
                    progress => return progress,
                }
            }
        }
        progress
    }

    /// Queues a ping (for idle detection).
    pub(crate) fn ping(&mut self) -> Progress {
        let Phase::Open(ws) = &mut self.phase else {
            return Progress::Idle;
        };
        self.pinged = true;
        match ws.write(
            &mut Appender(&mut self.out),
            tungstenite::Message::Ping(Default::default()),
        ) {
            Ok(()) => Progress::Idle,
            Err(err) if would_block(&err) => Progress::Idle,
            Err(WsError::WriteBufferFull(_)) => self.overflow(),
            Err(_) => Progress::Finished(CloseReason::Disconnected),
        }
    }

    /// Starts the close handshake from the server's side.
    pub(crate) fn close(&mut self, code: u16, reason: &str, why: CloseReason) -> Progress {
        let Phase::Open(ws) = &mut self.phase else {
            return Progress::Idle;
        };
        match ws.close(
            &mut Appender(&mut self.out),
            Some(close_frame(code, reason)),
        ) {
            Ok(()) => {}
            Err(err) if would_block(&err) => {}
            Err(_) => return Progress::Finished(why),
        }
        self.leave(Phase::Closing);
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

    /// Writes what is queued.
    pub(crate) fn flush(&mut self, ws_config: &WebSocketConfig) -> Progress {
        match &mut self.phase {
            // TLS handshake records that did not fit in the socket when they were made.
            Phase::Request { .. } => match self.stream.flush() {
                Ok(()) => Progress::Idle,
                Err(e) if e.kind() == ErrorKind::WouldBlock => Progress::Idle,
                Err(_) => Progress::Finished(CloseReason::Disconnected),
            },
            Phase::Response(response) => {
                while response.written < response.bytes.len() {
                    match self.stream.write(&response.bytes[response.written..]) {
                        Ok(0) => return Progress::Finished(CloseReason::Disconnected),
                        Ok(n) => response.written += n,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Idle,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(_) => return Progress::Finished(CloseReason::Disconnected),
                    }
                }
                // A TLS stream may still hold the response's last records.
                match self.stream.flush() {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Idle,
                    Err(_) => return Progress::Finished(CloseReason::Disconnected),
                }
                self.after_response(ws_config)
            }
            Phase::Open(ws) | Phase::Closing(ws) => {
                // Frames tungstenite still holds (a pong) join the queue, then the queue goes.
                let closed = match ws.flush(&mut Appender(&mut self.out)) {
                    Ok(()) => false,
                    Err(err) if would_block(&err) => false,
                    // The close handshake is done: send what is queued, then close.
                    Err(WsError::ConnectionClosed) => true,
                    Err(_) => return Progress::Finished(CloseReason::Disconnected),
                };
                if closed {
                    self.phase = Phase::Finishing;
                    return self.flush(ws_config);
                }
                match self.write_out() {
                    Ok(()) | Err(None) => Progress::Idle,
                    Err(Some(progress)) => progress,
                }
            }
            Phase::Finishing => match self.write_out() {
                Ok(()) => Progress::Finished(CloseReason::Disconnected),
                Err(None) => Progress::Idle,
                Err(Some(progress)) => progress,
            },
            Phase::Draining(ws) => {
                if ws.is_some() {
                    match self.write_out() {
                        Ok(()) => {}
                        Err(None) => return Progress::Idle,
                        Err(Some(progress)) => return progress,
                    }
                    if let Phase::Draining(ws) = &mut self.phase {
                        *ws = None;
                    }
                    self.stream.shutdown_write();
                }
                Progress::Idle
            }
        }
    }

    /// Writes the queue to the socket: `Ok` when all of it went, `Err(None)` when the socket
    /// would block, `Err(Some(_))` when the connection is gone.
    fn write_out(&mut self) -> Result<(), Option<Progress>> {
        while self.out_sent < self.out.len() {
            match self.stream.write(&self.out[self.out_sent..]) {
                Ok(0) => return Err(Some(Progress::Finished(CloseReason::Disconnected))),
                Ok(n) => self.out_sent += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    // Keep the queue from creeping forward without end behind a slow reader.
                    if self.out_sent > self.out.len() / 2 {
                        self.out.drain(..self.out_sent);
                        self.out_sent = 0;
                    }
                    return Err(None);
                }
                Err(_) => return Err(Some(Progress::Finished(CloseReason::Disconnected))),
            }
        }
        self.out.clear();
        self.out_sent = 0;
        if self.out.capacity() > 256 * 1024 {
            // A burst once grew it: give the memory back.
            self.out = Vec::new();
        }
        // A TLS stream holds records until flushed.
        match self.stream.flush() {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Err(None),
            Err(_) => Err(Some(Progress::Finished(CloseReason::Disconnected))),
        }
    }

    fn after_response(&mut self, ws_config: &WebSocketConfig) -> Progress {
        let phase = std::mem::replace(&mut self.phase, Phase::Draining(None));
        let Phase::Response(response) = phase else {
            return Progress::Idle;
        };
        match response.then {
            Then::Close => {
                self.stream.shutdown_write();
                Progress::Idle
            }
            Then::Upgrade { leftover, request } => {
                // Bytes that came with the handshake are read first, like any others, so that
                // the server and tungstenite agree on where each frame starts.
                let ws = WebSocketContext::new(Role::Server, Some(*ws_config));
                self.framing.keep(leftover);
                self.phase = Phase::Open(Box::new(ws));
                Progress::Opened(request)
            }
        }
    }
}

/// Appends an unmasked server frame (RFC 6455, 5.2): FIN, the opcode, the length, the payload.
pub(crate) fn encode_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.reserve(payload.len() + 10);
    out.push(0x80 | opcode);
    match payload.len() {
        len if len < 126 => out.push(len as u8),
        len if len <= 0xffff => {
            out.push(126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}
