//! Frame headers (RFC 6455, 5.2) and masking (5.3).

use super::{opcode, Failure, Limits};

/// Longest header: 2 bytes, an 8-byte extended length, a 4-byte masking key.
pub(crate) const MAX_HEAD: usize = 14;

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub(crate) fin: bool,
    pub(crate) rsv1: bool,
    /// RSV2 or RSV3: no extension here defines them.
    pub(crate) rsv23: bool,
    pub(crate) opcode: u8,
    pub(crate) mask: Option<[u8; 4]>,
    pub(crate) len: u64,
}

/// The header's length, known from its second byte.
pub(crate) fn head_len(second: u8) -> usize {
    let ext = match second & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if second & 0x80 != 0 { 4 } else { 0 }
}

/// Parses a header from `buf`, which holds at least `head_len(buf[1])` bytes.
pub(crate) fn parse(buf: &[u8]) -> Option<Head> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    let (len, mut pos) = match b1 & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            (u64::from_be_bytes(bytes), 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = if b1 & 0x80 != 0 {
        let key: [u8; 4] = buf.get(pos..pos + 4)?.try_into().ok()?;
        pos += 4;
        Some(key)
    } else {
        None
    };
    debug_assert_eq!(pos, head_len(b1));
    Some(Head {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv23: b0 & 0x30 != 0,
        opcode: b0 & 0x0f,
        mask,
        len,
    })
}

impl Head {
    pub(crate) fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }

    /// The checks a header allows on its own, in the order that gives the same close code as
    /// tungstenite wherever the RFC leaves the choice open (see `fuzz/mod.rs`).
    pub(crate) fn check(&self, limits: &Limits) -> Result<(), Failure> {
        // "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket
        // Connection_." (RFC 6455, 5.2)
        if matches!(self.opcode, 0x3..=0x7 | 0xB..=0xF) {
            return Err(Failure::protocol("reserved opcode"));
        }
        // "the most significant bit MUST be 0" (RFC 6455, 5.2, Payload length)
        if self.len >> 63 != 0 {
            return Err(Failure::protocol("frame length with the top bit set"));
        }
        if self.is_control() {
            // "All control frames MUST have a payload length of 125 bytes or less and MUST NOT
            // be fragmented." (RFC 6455, 5.5)
            if !self.fin {
                return Err(Failure::protocol("fragmented control frame"));
            }
            if self.len > 125 {
                return Err(Failure::protocol("control frame over 125 bytes"));
            }
        }
        if self.len > limits.max_frame as u64 {
            return Err(Failure::too_big("frame too big"));
        }
        // "The server MUST close the connection upon receiving a frame that is not masked."
        // (RFC 6455, 5.1)
        if self.mask.is_none() {
            return Err(Failure::protocol("unmasked client frame"));
        }
        // "MUST be 0 unless an extension is negotiated that defines meanings for non-zero
        // values." (RFC 6455, 5.2) RSV1 is left to the decoder, which knows the extension.
        if self.rsv23 {
            return Err(Failure::protocol("reserved bits set"));
        }
        if self.rsv1 && (self.is_control() || self.opcode == opcode::CONTINUATION) {
            // "the RSV1 bit is set only on the first frame" (RFC 7692, 6.1); never on control
            // frames (6).
            return Err(Failure::protocol("RSV1 on a control or continuation frame"));
        }
        Ok(())
    }
}

/// Appends `src` to `out`, unmasked with `key` starting `phase` bytes into the key (RFC 6455,
/// 5.3): copied, then unmasked in place (see [`xor_key`]).
pub(crate) fn unmask_into(out: &mut Vec<u8>, src: &[u8], key: [u8; 4], phase: usize) {
    // The key as it stands `phase` bytes in: byte i of the turned key is key[(phase + i) % 4].
    // Little-endian order puts key[0] in the low byte, so turning right by whole bytes does it
    // (in two instructions, where rotating the array took ~17).
    let key = (u32::from_le_bytes(key).rotate_right(8 * (phase & 3) as u32)).to_le_bytes();
    let start = out.len();
    out.extend_from_slice(src);
    xor_key(&mut out[start..], key);
}

/// Unmasks a whole payload where it lies (its mask starts at its first byte).
pub(crate) fn unmask_in_place(payload: &mut [u8], key: [u8; 4]) {
    xor_key(payload, key);
}

/// XORs `data` with `key` repeated from its first byte. Thirty-two bytes at a time against the
/// key laid out 32 bytes long: a fixed-size inner loop the compiler turns into vector
/// instructions (callgrind: ~0.3 instructions per byte, where eight bytes at a time as a `u64`
/// took ~2.4). 32 is a multiple of 4, so the remainder starts at `key[0]` again.
fn xor_key(data: &mut [u8], key: [u8; 4]) {
    let mut wide = [0u8; 32];
    for (i, byte) in wide.iter_mut().enumerate() {
        *byte = key[i & 3];
    }
    let (chunks, rest) = data.as_chunks_mut::<32>();
    for chunk in chunks {
        for (byte, k) in chunk.iter_mut().zip(wide) {
            *byte ^= k;
        }
    }
    for (i, byte) in rest.iter_mut().enumerate() {
        *byte ^= key[i & 3];
    }
}

/// Unmasks a whole payload into a new vector.
#[cfg(test)]
pub(crate) fn unmask(payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    unmask_into(&mut out, payload, key, 0);
    out
}
