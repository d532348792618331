//! Reading an open WebSocket: whole, unfragmented data frames are decoded straight out of the
//! loop's shared read buffer; every other frame is handed to tungstenite, one frame at a time.
//!
//! tungstenite reads into a buffer of its own in small steps, zero-filling and copying each
//! step, and costs several hundred instructions per frame. Most frames a server gets are small
//! whole text or binary frames; for those the server checks the header, unmasks the payload
//! into the message and checks UTF-8 itself. Everything else — control frames (ping, pong,
//! close), fragments, frames over a size limit, frames breaking a rule (unmasked, reserved bits
//! or opcodes), and frames not yet wholly read — goes to tungstenite, which applies RFC 6455 to
//! it. tungstenite is given exactly the frame's bytes, so it never holds bytes of the next frame
//! and the two never disagree on where a frame starts.

use std::io::ErrorKind;
use std::time::Instant;

use crate::config::Config;
use crate::conn::{would_block, Conn, Phase, Progress};
use crate::message::{CloseReason, Message};
use crate::read_ahead::ReadAhead;

/// Where a connection is in its stream of incoming frames.
#[derive(Default)]
pub(crate) struct Framing {
    /// Bytes of the frame handed to tungstenite that it has not read yet.
    frame_left: u64,
    /// A fragmented message is open; tungstenite assembles it, so its frames all go there.
    fragmented: bool,
    /// Bytes read and not yet taken, kept between reads: bytes that came with the handshake,
    /// or the start of a frame header that arrived without the rest.
    kept: Vec<u8>,
}

impl Framing {
    /// Puts the bytes kept from the last read back in front of the (empty) shared buffer.
    pub(crate) fn restore_kept(&mut self, ahead: &mut ReadAhead) {
        if !self.kept.is_empty() {
            ahead.restore(&std::mem::take(&mut self.kept));
        }
    }

    /// Keeps bytes for the next read.
    pub(crate) fn keep(&mut self, bytes: Vec<u8>) {
        self.kept = bytes;
    }
}

/// A parsed frame header.
struct Head {
    fin: bool,
    reserved_bits: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    header_len: usize,
    payload_len: u64,
}

/// Parses the frame header at the start of `buf`; `None` while it is incomplete.
fn parse_head(buf: &[u8]) -> Option<Head> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    let (payload_len, mut pos) = match b1 & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => {
            let mut len = [0u8; 8];
            len.copy_from_slice(buf.get(2..10)?);
            (u64::from_be_bytes(len), 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = if b1 & 0x80 != 0 {
        let mut key = [0u8; 4];
        key.copy_from_slice(buf.get(pos..pos + 4)?);
        pos += 4;
        Some(key)
    } else {
        None
    };
    Some(Head {
        fin: b0 & 0x80 != 0,
        reserved_bits: b0 & 0x70 != 0,
        opcode: b0 & 0x0f,
        mask,
        header_len: pos,
        payload_len,
    })
}

/// Copies a masked payload out, unmasking it (RFC 6455, 5.3) eight bytes at a time.
fn unmask(payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut out = payload.to_vec();
    let [a, b, c, d] = key;
    let word = u64::from_ne_bytes([a, b, c, d, a, b, c, d]);
    let mut chunks = out.chunks_exact_mut(8);
    for chunk in &mut chunks {
        if let Ok(bytes) = <[u8; 8]>::try_from(&*chunk) {
            chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word).to_ne_bytes());
        }
    }
    // Chunks of eight keep the key's phase, so the remainder starts at key[0].
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
    out
}

impl Conn {
    /// Reads an open connection until there is something to report or the socket would block.
    pub(crate) fn read_open(
        &mut self,
        config: &Config,
        ahead: &mut ReadAhead,
        now: Instant,
    ) -> Progress {
        self.framing.restore_kept(ahead);
        let limit = config.frame_limit().min(config.max_message_size) as u64;
        loop {
            let Phase::Open(ws) = &mut self.phase else {
                return Progress::Idle;
            };
            if self.framing.frame_left > 0 {
                let mut reader = ahead.limited(
                    &mut self.stream,
                    &mut self.out,
                    &mut self.framing.frame_left,
                );
                match ws.read(&mut reader) {
                    Ok(message) => {
                        self.last_seen = now;
                        self.pinged = false;
                        return self.on_frame(message);
                    }
                    // The socket has no more of the frame for now.
                    Err(err) if would_block(&err) && self.framing.frame_left > 0 => {
                        return Progress::Idle
                    }
                    // tungstenite took the whole frame (a fragment) and waits for the next.
                    Err(err) if would_block(&err) => continue,
                    Err(err) => return self.on_read_error(err),
                }
            }
            let Some(head) = parse_head(ahead.unread()) else {
                match ahead.fill(&mut self.stream) {
                    Ok(0) => return Progress::Finished(CloseReason::Disconnected),
                    Ok(_) => continue,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        // Less than a header is left; keep it for the next read.
                        self.framing.keep(ahead.unread().to_vec());
                        return Progress::Idle;
                    }
                    Err(_) => return Progress::Finished(CloseReason::Disconnected),
                }
            };
            let total = head.header_len as u64 + head.payload_len;
            let whole = (ahead.unread().len() as u64) >= total;
            match head.mask {
                Some(key)
                    if whole
                        && head.fin
                        && !head.reserved_bits
                        && !self.framing.fragmented
                        && (head.opcode == 1 || head.opcode == 2)
                        && head.payload_len <= limit =>
                {
                    let payload = &ahead.unread()[head.header_len..total as usize];
                    let bytes = unmask(payload, key);
                    ahead.consume(total as usize);
                    self.last_seen = now;
                    self.pinged = false;
                    if head.opcode == 2 {
                        return Progress::Message(Message::Binary(bytes.into()));
                    }
                    match String::from_utf8(bytes) {
                        Ok(text) => return Progress::Message(Message::Text(text.into())),
                        // "When an endpoint is to interpret a byte stream as UTF-8 but finds that
                        // the byte stream is not, in fact, a valid UTF-8 stream, that endpoint
                        // MUST _Fail the WebSocket Connection_." (RFC 6455, 8.1)
                        Err(_) => return self.fail(1007),
                    }
                }
                _ => {
                    // tungstenite's frame: track fragments so later frames go there too.
                    match head.opcode {
                        1 | 2 => self.framing.fragmented = !head.fin,
                        0 if head.fin => self.framing.fragmented = false,
                        _ => {}
                    }
                    self.framing.frame_left = total;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_in_every_length_form_and_not_before_they_are_whole() {
        let short = [0x81, 0x85, 1, 2, 3, 4];
        let head = parse_head(&short).unwrap();
        assert!(head.fin && !head.reserved_bits);
        assert_eq!((head.opcode, head.header_len, head.payload_len), (1, 6, 5));
        assert_eq!(head.mask, Some([1, 2, 3, 4]));
        assert!(parse_head(&short[..5]).is_none());
        let medium = [0x02, 0xfe, 0x01, 0x00, 9, 9, 9, 9];
        let head = parse_head(&medium).unwrap();
        assert!(!head.fin);
        assert_eq!(
            (head.opcode, head.header_len, head.payload_len),
            (2, 8, 256)
        );
        let long = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0];
        let head = parse_head(&long).unwrap();
        assert_eq!(
            (head.mask, head.header_len, head.payload_len),
            (None, 10, 1 << 63)
        );
        assert!(parse_head(&long[..9]).is_none());
        assert!(parse_head(&[0xf1, 0x00]).unwrap().reserved_bits);
    }

    #[test]
    fn unmasking_undoes_the_mask_for_any_length() {
        let key = [0x12, 0x34, 0x56, 0x78];
        for len in 0..21 {
            let plain: Vec<u8> = (0..len as u8).collect();
            let masked: Vec<u8> = plain
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ key[i % 4])
                .collect();
            assert_eq!(unmask(&masked, key), plain);
        }
    }
}
