//! Server frames: never masked (RFC 6455, 5.1), so one encoding serves every client.

use super::opcode;

/// Appends a frame header: FIN, RSV1 (set by an extension on a message's first frame), the
/// opcode, the payload length in its shortest form (RFC 6455, 5.2).
pub(crate) fn encode_head(out: &mut Vec<u8>, fin: bool, rsv1: bool, op: u8, len: usize) {
    out.push(u8::from(fin) << 7 | u8::from(rsv1) << 6 | op);
    match len {
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
}

/// Appends one frame: a fragment (`fin` false, or a continuation), a whole message, or a
/// control frame (whose payload the caller keeps within 125 bytes).
pub(crate) fn encode(out: &mut Vec<u8>, fin: bool, op: u8, payload: &[u8]) {
    out.reserve(payload.len() + 10);
    encode_head(out, fin, false, op, payload.len());
    out.extend_from_slice(payload);
}

/// Appends a whole data message in one frame.
pub(crate) fn encode_message(out: &mut Vec<u8>, op: u8, payload: &[u8]) {
    encode(out, true, op, payload);
}

/// Appends a close frame: no payload for `None`, otherwise the code and as much of the reason as
/// fits in 123 bytes, cut at a character boundary. The caller checks the code with
/// [`may_send`](super::may_send).
pub(crate) fn encode_close(out: &mut Vec<u8>, code: Option<u16>, reason: &str) {
    let Some(code) = code else {
        encode(out, true, opcode::CLOSE, &[]);
        return;
    };
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = [0u8; 125];
    payload[..2].copy_from_slice(&code.to_be_bytes());
    payload[2..2 + end].copy_from_slice(&reason.as_bytes()[..end]);
    encode(out, true, opcode::CLOSE, &payload[..2 + end]);
}
