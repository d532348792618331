//! What a connection writes: messages, fragments, pings, closes and HTTP responses, queued
//! without blocking and written out by [`Conn::flush`] once per batch of events.

use std::collections::VecDeque;
use std::io::{ErrorKind, Write};

use tungstenite::error::Error as WsError;
use tungstenite::protocol::{Role, WebSocketConfig, WebSocketContext};

use crate::conn::{close_frame, would_block, Conn, Phase, Progress, Response, Then};
use crate::context::Fragment;
use crate::message::{CloseReason, Message};

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
        match ws.write(&mut self.stream, message.into_tungstenite()) {
            Ok(()) => Progress::Idle,
            Err(err) if would_block(&err) => Progress::Idle,
            Err(WsError::WriteBufferFull(_)) => self.overflow(),
            Err(_) => Progress::Finished(CloseReason::Disconnected),
        }
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
        let progress = match ws.write(&mut self.stream, tungstenite::Message::Frame(frame)) {
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
            &mut self.stream,
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
        match ws.close(&mut self.stream, Some(close_frame(code, reason))) {
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
            Phase::Open(ws) | Phase::Closing(ws) => match ws.flush(&mut self.stream) {
                Ok(()) => Progress::Idle,
                Err(err) if would_block(&err) => Progress::Idle,
                Err(WsError::ConnectionClosed) => Progress::Finished(CloseReason::Disconnected),
                Err(_) => Progress::Finished(CloseReason::Disconnected),
            },
            Phase::Draining(ws) => {
                if let Some(ctx) = ws {
                    match ctx.flush(&mut self.stream) {
                        Ok(()) | Err(WsError::ConnectionClosed) => {}
                        Err(err) if would_block(&err) => return Progress::Idle,
                        Err(_) => return Progress::Finished(CloseReason::Disconnected),
                    }
                    *ws = None;
                    self.stream.shutdown_write();
                }
                Progress::Idle
            }
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
