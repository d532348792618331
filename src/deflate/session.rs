//! One connection's permessage-deflate state.

use std::fmt;

use zlib_rs::{Deflate, Inflate};

use super::stream::{deflate_message, inflate_into, new_inflate, TAIL};
use super::{DeflateError, DeflateParams, DeflatePool};

/// The permessage-deflate state of one connection, made from its [`DeflateParams`] after the
/// handshake. It holds zlib state only where the agreement needs it:
/// - a compressor, with server context takeover, from the first compressed message on;
/// - an inflater, with client context takeover, from the first compressed message on, or
///   without it, only from the first to the last frame of a compressed message (lent by the
///   [`DeflatePool`]).
///
/// So a connection that agreed no context takeover both ways holds no zlib state while idle.
pub struct DeflateSession {
    params: DeflateParams,
    deflate: Option<Box<Deflate>>,
    inflate: Option<Box<Inflate>>,
    /// Inflated bytes of the message in progress.
    inflated: usize,
    /// A message is in progress (its first frame had RSV1).
    in_message: bool,
    /// Its stream ended with a final block: the rest of its input is ignored.
    ended: bool,
}

impl fmt::Debug for DeflateSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeflateSession")
            .field("params", &self.params)
            .field("holds_compressor", &self.deflate.is_some())
            .field("holds_inflater", &self.inflate.is_some())
            .field("in_message", &self.in_message)
            .finish()
    }
}

impl DeflateSession {
    /// The state for a connection that agreed `params`; allocates nothing.
    pub fn new(params: DeflateParams) -> Self {
        DeflateSession {
            params,
            deflate: None,
            inflate: None,
            inflated: 0,
            in_message: false,
            ended: false,
        }
    }

    /// The agreed parameters.
    pub fn params(&self) -> DeflateParams {
        self.params
    }

    /// Whether zlib state is held now: `(compressor, inflater)`.
    pub fn holds_state(&self) -> (bool, bool) {
        (self.deflate.is_some(), self.inflate.is_some())
    }

    /// Whether a compressed message is being inflated (its last frame has not come yet).
    pub fn in_message(&self) -> bool {
        self.in_message
    }

    /// Compresses one whole outgoing data message, appending the frame payload to `out`.
    /// `Ok(true)`: `out` got the compressed payload; send it with RSV1 set on the first frame.
    /// `Ok(false)`: nothing was appended; send `message` as it is, RSV1 clear (shorter than
    /// [`DeflateConfig::min_message_size`](super::DeflateConfig::min_message_size), or, without
    /// context takeover, not made smaller by deflate).
    ///
    /// # Errors
    /// Only if zlib fails on its own state ([`DeflateError::Corrupt`]); `out` is then unchanged.
    pub fn compress(
        &mut self,
        pool: &mut DeflatePool,
        message: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<bool, DeflateError> {
        if message.len() < pool.config().min_message_size {
            return Ok(false);
        }
        let bits = self.params.server_max_window_bits;
        if self.params.server_no_context_takeover {
            return compress_shared(pool, bits, message, out);
        }
        if self.deflate.is_none() {
            self.deflate = Some(pool.dedicated_deflate(bits));
        }
        match self.deflate.as_deref_mut() {
            // With context takeover the peer's window must see every compressed message, so
            // the output is sent even when it is not smaller.
            Some(z) => deflate_message(z, message, out).map(|()| true),
            None => Ok(false),
        }
    }

    /// Inflates the payload of one frame of a compressed message (the first had RSV1; the
    /// caller routes its continuation frames here too) and appends the inflated bytes to
    /// `out`. `fin`: this is the message's last frame; `00 00 FF FF` is appended to the stream
    /// (RFC 7692 section 7.2.2) and the context is reset or kept as agreed.
    ///
    /// Inflates in steps of at most 16 KiB and stops as soon as the message's inflated size
    /// passes `max_message_size`, without inflating the rest.
    ///
    /// # Errors
    /// [`DeflateError::TooBig`] (close 1009), [`DeflateError::Corrupt`] (close 1007). After an
    /// error the connection is to be closed; the session drops its inflater.
    pub fn inflate_frame(
        &mut self,
        pool: &mut DeflatePool,
        payload: &[u8],
        fin: bool,
        max_message_size: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), DeflateError> {
        if !self.in_message {
            self.in_message = true;
            self.ended = false;
            self.inflated = 0;
        }
        let result = self.inflate_parts(pool, payload, fin, max_message_size, out);
        if result.is_err() {
            self.inflate = None;
            self.in_message = false;
        } else if fin {
            self.in_message = false;
            if self.params.client_no_context_takeover {
                if let Some(z) = self.inflate.take() {
                    pool.give_inflate(z);
                }
            }
        }
        result
    }

    fn inflate_parts(
        &mut self,
        pool: &mut DeflatePool,
        payload: &[u8],
        fin: bool,
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), DeflateError> {
        if self.ended {
            return Ok(());
        }
        let bits = self.params.client_max_window_bits;
        let z = match self.inflate.as_deref_mut() {
            Some(z) => z,
            None => {
                let z = if self.params.client_no_context_takeover {
                    pool.take_inflate()
                } else {
                    Box::new(new_inflate(bits))
                };
                self.inflate.insert(z)
            }
        };
        let mut ended = inflate_into(z, payload, out, &mut self.inflated, limit)?;
        if fin && !ended {
            ended = inflate_into(z, &TAIL, out, &mut self.inflated, limit)?;
        }
        if ended {
            // A final block ends the deflate stream: a kept context starts a new stream (its
            // window is lost, so a peer that relies on it fails cleanly with 1007).
            self.ended = !fin;
            if self.params.client_no_context_takeover {
                z.reset(false);
            } else {
                *z = new_inflate(bits);
            }
        }
        Ok(())
    }
}

/// Compresses `message` with the pool's reset compressor; falls back to uncompressed when that
/// is not smaller (allowed: without context takeover no later message depends on this one).
fn compress_shared(
    pool: &mut DeflatePool,
    bits: u8,
    message: &[u8],
    out: &mut Vec<u8>,
) -> Result<bool, DeflateError> {
    let start = out.len();
    deflate_message(pool.shared_deflate(bits), message, out)?;
    if out.len() - start >= message.len() {
        out.truncate(start);
        return Ok(false);
    }
    Ok(true)
}

/// The compressed payload for a client without server context takeover, shared by
/// [`CompressOnce`](super::CompressOnce).
pub(crate) fn compress_for_shared(
    pool: &mut DeflatePool,
    bits: u8,
    message: &[u8],
) -> Result<Option<Vec<u8>>, DeflateError> {
    if message.len() < pool.config().min_message_size {
        return Ok(None);
    }
    let mut out = Vec::new();
    Ok(compress_shared(pool, bits, message, &mut out)?.then_some(out))
}
