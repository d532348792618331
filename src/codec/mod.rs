//! RFC 6455 framing as pure protocol state, with no I/O and no knowledge of connections.
//!
//! - `head.rs`: frame headers (parse, limits) and unmasking.
//! - `decoder.rs`: the incoming side: bytes in, messages, pings, pongs and closes out, or a
//!   [`Failure`] carrying the close code to send. It keeps only a partial header and the message
//!   being assembled, and validates text as it arrives.
//! - `whole.rs`: the common case in one step, a whole small frame at a message boundary,
//!   unmasked where it lies (the connection lends it to the handler); the decoder takes the rest.
//! - `close.rs`: which close codes may be received and sent, and close payloads.
//! - `encoder.rs`: server frames (unmasked) for data, fragments, pings, pongs and closes.
//! - `fuzz/` (tests, and the `fuzzing` feature for the cargo-fuzz target): the differential
//!   fuzzer against tungstenite run by `scripts/fuzz`.
//!
//! permessage-deflate (RFC 7692) plugs in through [`Inflate`]: the decoder accepts RSV1 on the
//! first frame of a data message only when the caller passes one, and hands the payload of such
//! a message to it before any UTF-8 check.

mod close;
mod decoder;
mod encoder;
mod head;
mod whole;

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod fuzz;
#[cfg(test)]
mod tests;

pub(crate) use close::may_send;
pub(crate) use decoder::{Decoder, Event};
#[cfg(feature = "deflate")]
pub(crate) use encoder::encode_head;
pub(crate) use encoder::{encode, encode_close, encode_message};
#[cfg(test)]
pub(crate) use head::unmask;
pub(crate) use whole::{checked, whole_in_place};

/// Opcodes (RFC 6455, 5.2).
pub(crate) mod opcode {
    pub(crate) const CONTINUATION: u8 = 0x0;
    pub(crate) const TEXT: u8 = 0x1;
    pub(crate) const BINARY: u8 = 0x2;
    pub(crate) const CLOSE: u8 = 0x8;
    pub(crate) const PING: u8 = 0x9;
    pub(crate) const PONG: u8 = 0xA;
}

/// The limits the decoder enforces, each checked from a frame header before its payload is
/// buffered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest frame payload, in bytes (1009 past it).
    pub(crate) max_frame: usize,
    /// Largest message, reassembled from its frames (and after inflating), in bytes (1009).
    pub(crate) max_message: usize,
}

/// Why the peer's input cannot go on: _Fail the WebSocket Connection_ (RFC 6455, 7.1.7) with
/// this close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The close code to send: 1002 (protocol error), 1007 (invalid UTF-8) or 1009 (too big).
    pub(crate) code: u16,
    /// A short reason for the close frame and the log.
    pub(crate) reason: &'static str,
}

impl Failure {
    pub(crate) const fn protocol(reason: &'static str) -> Self {
        Failure { code: 1002, reason }
    }

    pub(crate) const fn utf8() -> Self {
        Failure {
            code: 1007,
            reason: "invalid UTF-8",
        }
    }

    pub(crate) const fn too_big(reason: &'static str) -> Self {
        Failure { code: 1009, reason }
    }
}

/// The step a negotiated extension (permessage-deflate, issue 13) applies to a message whose
/// first frame had RSV1 set: it turns the message's payload as received (unmasked, reassembled
/// from its frames) into the message's bytes, appending to `out` no more than `limit` bytes
/// (past that it must stop and return 1009). UTF-8 is checked by the decoder afterwards.
pub(crate) trait Inflate {
    /// Inflates one whole message.
    fn inflate(&mut self, payload: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), Failure>;
}
