//! The two zlib loops: compress one whole message with a sync flush, and inflate input into a
//! buffer in bounded steps that stop at a size limit. Nothing here knows about connections.

use zlib_rs::{
    Deflate, DeflateConfig as ZConfig, DeflateFlush, Inflate, InflateFlush, Method, Status,
    Strategy,
};

use super::DeflateError;

/// Output room per zlib call: the most one inflate step writes, so the most any message can
/// overshoot `max_message_size` by before it is stopped is nothing (see [`inflate_into`]).
pub(crate) const STEP: usize = 16 * 1024;

/// The tail a sync flush ends with: an empty non-final stored block (RFC 7692 section 7.2.1:
/// "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end").
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// A raw-deflate compressor for an agreed window of `bits` (8 to 15). zlib-rs panics on a raw
/// 8-bit window, a level above 9 or a `mem_level` outside 1 to 9, so values are clamped here
/// (they are already checked by `DeflateConfig` and negotiation). An agreed 8 is compressed
/// with 9 bits, whose matches reach back at most `512 - 262 = 250` bytes (see `negotiate`).
pub(crate) fn new_deflate(bits: u8, level: u8, mem_level: u8) -> Deflate {
    debug_assert!((8..=15).contains(&bits) && level <= 9 && (1..=9).contains(&mem_level));
    Deflate::new_with_config(ZConfig {
        level: i32::from(level.min(9)),
        method: Method::Deflated,
        window_bits: -i32::from(bits.clamp(9, 15)),
        mem_level: i32::from(mem_level.clamp(1, 9)),
        strategy: Strategy::Default,
    })
}

/// A raw-deflate inflater with a `bits` window (8 to 15; clamped).
pub(crate) fn new_inflate(bits: u8) -> Inflate {
    Inflate::new(false, bits.clamp(8, 15))
}

/// Compresses `message` as one sync-flushed block sequence appended to `out`, without the
/// trailing `00 00 FF FF` (RFC 7692 section 7.2.1). The compressor's context is kept: reset
/// it first for no context takeover.
pub(crate) fn deflate_message(
    z: &mut Deflate,
    message: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), DeflateError> {
    let start = out.len();
    let mut input = message;
    loop {
        // Room for all of a small message (plus block overhead); big ones go in steps.
        let room = input.len().min(STEP) + 64;
        let len = out.len();
        out.resize(len + room, 0);
        let (in0, out0) = (z.total_in(), z.total_out());
        let result = z.compress(input, &mut out[len..], DeflateFlush::SyncFlush);
        let consumed = usize::try_from(z.total_in() - in0).unwrap_or(input.len());
        let produced = usize::try_from(z.total_out() - out0).unwrap_or(room);
        out.truncate(len + produced.min(room));
        input = input.get(consumed..).unwrap_or_default();
        if let Err(e) = result {
            out.truncate(start);
            return Err(DeflateError::Corrupt {
                reason: z.error_message().unwrap_or(e.as_str()),
            });
        }
        // Space left over means the flush is complete (zlib: call again only while avail_out == 0).
        if input.is_empty() && produced < room {
            break;
        }
    }
    if out[start..].ends_with(&TAIL) {
        out.truncate(out.len() - TAIL.len());
        Ok(())
    } else {
        out.truncate(start);
        Err(DeflateError::Corrupt {
            reason: "sync flush did not end with 00 00 ff ff",
        })
    }
}

/// Inflates `input` (part of one message's stream) onto `out`, in steps of at most [`STEP`]
/// output bytes, adding to `inflated` (the message's inflated size so far). Stops with
/// [`DeflateError::TooBig`] as soon as `inflated` passes `limit`: at most `limit + 1` bytes are
/// ever inflated per message, whatever the input. `Ok(true)`: the stream ended (a final block);
/// input after it is ignored.
pub(crate) fn inflate_into(
    z: &mut Inflate,
    mut input: &[u8],
    out: &mut Vec<u8>,
    inflated: &mut usize,
    limit: usize,
) -> Result<bool, DeflateError> {
    loop {
        let room = limit.saturating_sub(*inflated).saturating_add(1).min(STEP);
        let len = out.len();
        out.resize(len + room, 0);
        let (in0, out0) = (z.total_in(), z.total_out());
        let result = z.decompress(input, &mut out[len..], InflateFlush::NoFlush);
        let consumed = usize::try_from(z.total_in() - in0).unwrap_or(input.len());
        let produced = usize::try_from(z.total_out() - out0)
            .unwrap_or(room)
            .min(room);
        out.truncate(len + produced);
        input = input.get(consumed..).unwrap_or_default();
        *inflated = inflated.saturating_add(produced);
        if *inflated > limit {
            return Err(DeflateError::TooBig { limit });
        }
        match result {
            Err(e) => {
                return Err(DeflateError::Corrupt {
                    reason: z.error_message().unwrap_or(e.as_str()),
                })
            }
            Ok(Status::StreamEnd) => return Ok(true),
            Ok(Status::Ok | Status::BufError) => {}
        }
        if input.is_empty() && produced < room {
            return Ok(false);
        }
        if consumed == 0 && produced == 0 {
            // With input and room, zlib always moves or fails; never spin.
            return Err(DeflateError::Corrupt {
                reason: "inflate made no progress",
            });
        }
    }
}
