//! Close codes (RFC 6455, 7.4) and close frame payloads (5.5.1).

use super::Failure;

/// Whether a close code may appear in a close frame, sent or received.
///
/// RFC 6455, 7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close control
/// frame by an endpoint"; 7.4.2: 0-999 are not used, 1000-2999 are for the protocol (only the
/// defined codes: 1000-1003, 1007-1011, and 1012-1014 registered with IANA since), 3000-4999
/// are for libraries and applications. 1004 is reserved, 1016-2999 and 5000+ unassigned.
pub(crate) fn may_send(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Whether a received close code is valid: the same rule as [`may_send`]. An invalid one
/// fails the connection with 1002.
pub(crate) fn may_receive(code: u16) -> bool {
    may_send(code)
}

/// A received close frame's payload: nothing (no status code, reported as `None`), or a code and
/// a UTF-8 reason.
pub(crate) fn parse(payload: &[u8]) -> Result<Option<(u16, String)>, Failure> {
    match payload {
        [] => Ok(None),
        // "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned
        // integer" (RFC 6455, 5.5.1)
        [_] => Err(Failure::protocol("close frame with a 1-byte payload")),
        [hi, lo, reason @ ..] => {
            // The reason is checked before the code, as tungstenite does: a frame breaking
            // both gets 1007 from either.
            let reason = std::str::from_utf8(reason).map_err(|_| Failure::utf8())?;
            let code = u16::from_be_bytes([*hi, *lo]);
            if !may_receive(code) {
                return Err(Failure::protocol("invalid close code"));
            }
            Ok(Some((code, reason.to_owned())))
        }
    }
}
