//! The deflate side of a connection: the codec's [`Inflate`] seam, and the loop's pool with
//! the scratch buffer messages are compressed into before they are framed.

use crate::codec::{Failure, Inflate};

use super::{DeflatePool, DeflateSession};

/// A connection's session and the loop's pool, lent to the decoder for one call: the decoder
/// hands it the whole (reassembled) payload of a message whose first frame had RSV1, and it
/// inflates that as one stream (RFC 7692 section 7.2.2), stopping at the message limit.
pub(crate) struct Inflater<'a> {
    pub(crate) session: &'a mut DeflateSession,
    pub(crate) pool: &'a mut DeflatePool,
}

impl Inflate for Inflater<'_> {
    fn inflate(&mut self, payload: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), Failure> {
        self.session
            .inflate_frame(self.pool, payload, true, limit, out)
            .map_err(|e| match e.close_code() {
                Some(1009) => Failure::too_big("inflated message too big"),
                _ => Failure {
                    code: 1007,
                    reason: "compressed message does not inflate",
                },
            })
    }
}
