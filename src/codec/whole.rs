//! The common case in one step: a whole, unfragmented, uncompressed text or binary frame with a
//! length under 64 KiB, all in the input, while no message is open.
//!
//! Every rule the decoder's general path checks holds for such a frame by its first two bytes
//! (FIN, RSV clear, a data opcode, masked) and its length (within both limits), so the outcome
//! is the same: the message, or 1007 for invalid UTF-8. [`whole_in_place`] unmasks the payload
//! where it lies, for a handler that borrows it ([`MessageRef`]) or copies it; [`checked`] then
//! applies the UTF-8 rule. The connection takes this path first and the decoder for the rest;
//! the differential fuzzer drives both ways against tungstenite.

use super::head;
use super::{Failure, Limits};
use crate::message_ref::MessageRef;

/// Where a whole frame's parts lie in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    text: bool,
    /// Header length: the payload starts here.
    head: usize,
    len: usize,
    key: [u8; 4],
}

/// A whole frame at the start of `input`, or `None` when the general path must decode it.
#[inline]
fn find(input: &[u8], limits: &Limits) -> Option<Frame> {
    let (first, second) = match *input {
        [first @ (0x81 | 0x82), second, ..] if second & 0x80 != 0 => (first, second),
        _ => return None,
    };
    let (len, head) = match second & 0x7f {
        126 => match input.get(2..4) {
            Some(&[hi, lo]) => (usize::from(u16::from_be_bytes([hi, lo])), 8),
            _ => return None,
        },
        127 => return None,
        short => (usize::from(short), 6),
    };
    if len > limits.max_frame || len > limits.max_message || input.len() < head + len {
        return None;
    }
    let key = match input.get(head - 4..head) {
        Some(&[a, b, c, d]) => [a, b, c, d],
        _ => return None,
    };
    Some(Frame {
        text: first == 0x81,
        head,
        len,
        key,
    })
}

/// A whole frame unmasked in place: its payload is `buf[start..start + len]`, and the frame
/// took `used` bytes from the start of `buf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InPlace {
    pub(crate) text: bool,
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) used: usize,
}

/// Unmasks the whole frame at the start of `buf` where it lies; `None` (nothing touched) for
/// anything else. Only for a decoder with no frame or message begun
/// ([`Decoder::is_mid_frame`](super::Decoder::is_mid_frame) false); text is not checked yet:
/// pass the payload to [`checked`].
#[inline]
pub(crate) fn whole_in_place(buf: &mut [u8], limits: &Limits) -> Option<InPlace> {
    let frame = find(buf, limits)?;
    let end = frame.head + frame.len;
    head::unmask_in_place(&mut buf[frame.head..end], frame.key);
    Some(InPlace {
        text: frame.text,
        start: frame.head,
        len: frame.len,
        used: end,
    })
}

/// The payload of a whole frame unmasked by [`whole_in_place`], as the message it is.
pub(crate) fn checked(text: bool, payload: &[u8]) -> Result<MessageRef<'_>, Failure> {
    if text {
        // "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte
        // stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
        // Connection_." (RFC 6455, 8.1)
        std::str::from_utf8(payload)
            .map(MessageRef::Text)
            .map_err(|_| Failure::utf8())
    } else {
        Ok(MessageRef::Binary(payload))
    }
}
