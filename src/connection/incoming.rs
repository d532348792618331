//! A connection's reads: the HTTP request head, then frames, decoded into what the loop is
//! told ([`Progress`]).

use std::io::{ErrorKind, Read};
use std::time::Instant;

use crate::codec::{self, Event, Limits};
use crate::config::Config;
use crate::connection::http::{self, Step};
use crate::connection::read_ahead::ReadAhead;
use crate::connection::stream::Stream;
use crate::connection::{Conn, DeflatePool, Phase, Progress};
use crate::message::{CloseReason, Message};

/// The frame and message limits the codec enforces, from the configuration.
pub(crate) fn frame_limits(config: &Config) -> Limits {
    Limits {
        max_frame: config.frame_limit(),
        max_message: config.max_message_size,
    }
}

impl Conn {
    /// Reads until there is something to report or the socket would block.
    pub(crate) fn read(
        &mut self,
        config: &Config,
        ahead: &mut ReadAhead,
        pool: &mut DeflatePool,
        now: Instant,
    ) -> Progress {
        match &mut self.phase {
            Phase::Request { buf } => {
                Self::read_request(&mut self.stream, buf, config, ahead.scratch())
            }
            // The response is written first; the loop reads again once it is.
            Phase::Response(_) => Progress::Idle,
            Phase::Open(_) | Phase::Closing(_) => self.read_frames(config, ahead, pool, now),
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

    /// Reads the request head. Only the new bytes are searched for the blank line that ends it,
    /// and it is parsed when that line arrives, or when the bytes read pass a power of two (so
    /// garbage is refused early): a head dribbled a byte at a time costs linear time, not
    /// quadratic.
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
                    let old = buf.len();
                    buf.extend_from_slice(&scratch[..n]);
                    let new = buf.len();
                    let worth_parsing = http::head_ends_in(buf, old)
                        || (old == 0 || new.ilog2() > old.ilog2())
                        || new >= config.max_handshake_size;
                    if !worth_parsing {
                        continue;
                    }
                    match http::parse(buf, config.max_handshake_size) {
                        Step::NeedMore => continue,
                        #[cfg(feature = "deflate")]
                        Step::Upgrade(mut upgrade) => {
                            http::negotiate_deflate(&mut upgrade, config.deflate.as_ref());
                            return Progress::Request(Step::Upgrade(upgrade));
                        }
                        step => return Progress::Request(step),
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Idle,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return Progress::Finished(CloseReason::Disconnected),
            }
        }
    }

    /// Reads and decodes frames (open or closing) until there is something to report or the
    /// socket would block. Any byte received counts as life for the idle timeout, even in the
    /// middle of a long message.
    fn read_frames(
        &mut self,
        config: &Config,
        ahead: &mut ReadAhead,
        pool: &mut DeflatePool,
        now: Instant,
    ) -> Progress {
        let limits = frame_limits(config);
        loop {
            let (Phase::Open(ws) | Phase::Closing(ws)) = &mut self.phase else {
                return Progress::Idle;
            };
            if ahead.unread().is_empty() {
                if !ws.kept.is_empty() {
                    ahead.restore(&std::mem::take(&mut ws.kept));
                    continue;
                }
                if ahead.drained() {
                    return Progress::Idle;
                }
                match ahead.fill(&mut self.stream) {
                    Ok(0) => return Progress::Finished(CloseReason::Disconnected),
                    Ok(_) => {
                        self.last_seen = now;
                        self.pinged = false;
                        continue;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Idle,
                    Err(_) => return Progress::Finished(CloseReason::Disconnected),
                }
            }
            if !ws.decoder.is_mid_frame() {
                // The common case, lent in place: no copy unless the handler asks for one.
                let (unread, offset) = ahead.unread_mut();
                if let Some(whole) = codec::whole_in_place(unread, &limits) {
                    ahead.consume(whole.used);
                    if matches!(self.phase, Phase::Open(_)) {
                        return Progress::InPlace {
                            text: whole.text,
                            start: offset + whole.start,
                            len: whole.len,
                        };
                    }
                    // Data after our close frame is not delivered.
                    continue;
                }
            }
            let mut input = ahead.unread();
            let before = input.len();
            // Without permessage-deflate this costs one branch: RSV1 stays a protocol error.
            #[cfg(feature = "deflate")]
            let decoded = match ws.deflate.as_deref_mut() {
                Some(session) => {
                    let mut inflater = crate::deflate::Inflater {
                        session,
                        pool: &mut *pool,
                    };
                    ws.decoder.decode(&mut input, &limits, Some(&mut inflater))
                }
                None => ws.decoder.decode(&mut input, &limits, None),
            };
            #[cfg(not(feature = "deflate"))]
            let decoded = {
                let _ = &pool;
                ws.decoder.decode(&mut input, &limits, None)
            };
            let used = before - input.len();
            ahead.consume(used);
            let open = matches!(self.phase, Phase::Open(_));
            match decoded {
                Ok(None) => continue,
                Ok(Some(event)) if open => match self.on_event(event) {
                    Progress::Idle => continue,
                    progress => return progress,
                },
                Ok(Some(Event::Close(_))) => {
                    // The client answered our close: the handshake is done.
                    self.phase = Phase::Finishing;
                    return Progress::Continue;
                }
                // Data after our close frame is not delivered, and pings are not answered.
                Ok(Some(_)) => continue,
                Err(failure) if open => {
                    log::debug!("{}: {}", self.peer, failure.reason);
                    return self.fail(failure.code, failure.reason);
                }
                Err(_) => return Progress::Finished(CloseReason::Disconnected),
            }
        }
    }

    /// Acts on one event of an open connection.
    fn on_event(&mut self, event: Event) -> Progress {
        match event {
            Event::Text(text) => Progress::Message(Message::Text(text.into())),
            Event::Binary(bytes) => Progress::Message(Message::Binary(bytes.into())),
            Event::Ping(payload) => {
                if let Phase::Open(ws) = &mut self.phase {
                    ws.pong = Some(payload.into_boxed_slice());
                }
                match self.queue_pong() {
                    Progress::Idle => Progress::Continue,
                    progress => progress,
                }
            }
            Event::Pong(_) => Progress::Idle,
            Event::Close(frame) => {
                // "If an endpoint receives a Close frame and did not previously send a Close
                // frame, the endpoint MUST send a Close frame in response. (When sending a Close
                // frame in response, the endpoint typically echos the status code it received.)"
                // (RFC 6455, 5.5.1) The pong owed, if any, is dropped: the close comes after it.
                let (code, reason) = match &frame {
                    Some((code, reason)) => (Some(*code), reason.as_str()),
                    None => (None, ""),
                };
                codec::encode_close(&mut self.out, code, reason);
                self.phase = Phase::Finishing;
                let (code, reason) = frame.unwrap_or((1005, String::new()));
                Progress::Left(CloseReason::ByClient { code, reason })
            }
        }
    }
}
