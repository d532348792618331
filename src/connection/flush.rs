//! Writing what a connection has queued to its socket without blocking: the HTTP response, then
//! the outgoing buffer; what is left waits for the next writable event.

use std::io::{ErrorKind, Write};

use tungstenite::protocol::WebSocketConfig;

use crate::codec::Decoder;
use crate::connection::{Conn, Phase, Progress, Then, Ws};
use crate::message::CloseReason;

impl Conn {
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
            Phase::Open(_) => loop {
                match self.queue_pong() {
                    Progress::Idle => {}
                    progress => return progress,
                }
                match self.write_out() {
                    // A pong that waited for the one before it can go now.
                    Ok(()) if matches!(&self.phase, Phase::Open(ws) if ws.pong.is_some()) => {}
                    Ok(()) | Err(None) => return Progress::Idle,
                    Err(Some(progress)) => return progress,
                }
            },
            Phase::Closing(_) => match self.write_out() {
                Ok(()) | Err(None) => Progress::Idle,
                Err(Some(progress)) => progress,
            },
            Phase::Finishing => match self.write_out() {
                Ok(()) => Progress::Finished(CloseReason::Disconnected),
                Err(None) => Progress::Idle,
                Err(Some(progress)) => progress,
            },
            Phase::Draining(pending) => {
                if *pending {
                    match self.write_out() {
                        Ok(()) => {}
                        Err(None) => return Progress::Idle,
                        Err(Some(progress)) => return progress,
                    }
                    self.phase = Phase::Draining(false);
                    self.stream.shutdown_write();
                }
                Progress::Idle
            }
        }
    }

    /// Writes the queue to the socket: `Ok` when all of it went, `Err(None)` when the socket
    /// would block, `Err(Some(_))` when the connection is gone.
    pub(crate) fn write_out(&mut self) -> Result<(), Option<Progress>> {
        while self.out_sent < self.out.len() {
            match self.stream.write(&self.out[self.out_sent..]) {
                Ok(0) => return Err(Some(Progress::Finished(CloseReason::Disconnected))),
                Ok(n) => self.out_sent += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    // Keep the queue from creeping forward without end behind a slow reader.
                    if self.out_sent > self.out.len() / 2 {
                        let sent = self.out_sent;
                        self.out.drain(..sent);
                        self.out_sent = 0;
                        self.pong_moved(sent);
                    }
                    return Err(None);
                }
                Err(_) => return Err(Some(Progress::Finished(CloseReason::Disconnected))),
            }
        }
        let sent = self.out_sent;
        self.out.clear();
        self.out_sent = 0;
        self.pong_moved(sent);
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

    /// The first `by` bytes of `out` were written and dropped: the last pong moved with them.
    fn pong_moved(&mut self, by: usize) {
        if let Phase::Open(ws) = &mut self.phase {
            ws.pong_end = ws.pong_end.saturating_sub(by);
        }
    }

    fn after_response(&mut self, ws_config: &WebSocketConfig) -> Progress {
        let phase = std::mem::replace(&mut self.phase, Phase::Draining(false));
        let Phase::Response(response) = phase else {
            return Progress::Idle;
        };
        match response.then {
            Then::Close => {
                self.stream.shutdown_write();
                Progress::Idle
            }
            Then::Upgrade { leftover, request } => {
                // Bytes that came with the handshake are decoded first, like any others.
                self.phase = Phase::Open(Box::new(Ws {
                    #[cfg(feature = "deflate")]
                    deflate: request
                        .inner
                        .extensions()
                        .get::<crate::deflate::DeflateParams>()
                        .map(|params| Box::new(crate::deflate::DeflateSession::new(*params))),
                    decoder: Decoder::default(),
                    kept: leftover.into_boxed_slice(),
                    pong: None,
                    pong_end: 0,
                    backlog_limit: ws_config.max_write_buffer_size,
                }));
                Progress::Opened(request)
            }
        }
    }
}
