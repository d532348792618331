//! A connection's outgoing compressed messages: a whole message compressed for one client, and
//! a broadcast compressed once per window size and framed once per window size.

use crate::codec::encode_head;
use crate::connection::outgoing::{data_opcode, Broadcast, MAX_HEAD};
use crate::connection::{Conn, Phase, Progress};

use crate::deflate::stats::count;
use crate::deflate::{BroadcastPayload, DeflatePool};
use crate::message::Message;

impl Conn {
    /// Queues `message` compressed, if the connection agreed permessage-deflate and compression
    /// pays (see [`DeflateSession::compress`](crate::deflate::DeflateSession::compress)): the frame has
    /// RSV1 set (RFC 7692 section 6.1: "a message ... with the RSV1 bit set on the first frame").
    /// `None`: send it uncompressed.
    pub(crate) fn send_compressed(
        &mut self,
        message: &Message,
        pool: &mut DeflatePool,
        limit: usize,
    ) -> Option<Progress> {
        let Phase::Open(ws) = &mut self.phase else {
            return None;
        };
        let session = ws.deflate.as_deref_mut()?;
        let mut scratch = pool.take_scratch();
        let compressed = match session.compress(pool, message.as_bytes(), &mut scratch) {
            Ok(done) => done,
            Err(e) => {
                // Without context takeover nothing depends on this message; with it, the
                // client never sees the lost one, and RFC 7692 lets any message go
                // uncompressed.
                log::warn!("{}: {e}; message sent uncompressed", self.peer);
                false
            }
        };
        let progress = compressed.then(|| self.queue_compressed(message, &scratch, limit));
        pool.give_scratch(scratch);
        progress
    }

    /// Queues a compressed payload as one frame with RSV1.
    fn queue_compressed(&mut self, message: &Message, payload: &[u8], limit: usize) -> Progress {
        if self.backlog() + payload.len() + MAX_HEAD > limit {
            return self.overflow();
        }
        self.out.reserve(payload.len() + MAX_HEAD);
        encode_head(
            &mut self.out,
            true,
            true,
            data_opcode(message),
            payload.len(),
        );
        self.out.extend_from_slice(payload);
        count(message.len(), payload.len());
        Progress::Idle
    }

    /// Queues a broadcast to a client that agreed permessage-deflate: the frame compressed and
    /// encoded once for its window size (no server context takeover), or compressed for it
    /// alone (context takeover). `None`: send the uncompressed frame.
    pub(crate) fn send_broadcast_compressed(
        &mut self,
        broadcast: &mut Broadcast<'_>,
        pool: &mut DeflatePool,
        limit: usize,
    ) -> Option<Progress> {
        let Phase::Open(ws) = &self.phase else {
            return None;
        };
        let params = ws.deflate.as_deref()?.params();
        let payload = match broadcast.once.payload(pool, &params) {
            Ok(BroadcastPayload::Compressed(payload)) => payload,
            Ok(BroadcastPayload::PerClient) => {
                return self.send_compressed(broadcast.message, pool, limit)
            }
            Ok(BroadcastPayload::Uncompressed) => return None,
            Err(e) => {
                log::warn!("{}: {e}; broadcast sent uncompressed", self.peer);
                return None;
            }
        };
        let slot = usize::from(params.server_max_window_bits().clamp(9, 15) - 9);
        let frame = broadcast.frames[slot].get_or_insert_with(|| {
            let mut frame = Vec::with_capacity(payload.len() + MAX_HEAD);
            encode_head(
                &mut frame,
                true,
                true,
                data_opcode(broadcast.message),
                payload.len(),
            );
            frame.extend_from_slice(payload);
            frame
        });
        if self.backlog() + frame.len() > limit {
            return Some(self.overflow());
        }
        self.out.extend_from_slice(frame);
        count(broadcast.message.len(), payload.len());
        Some(Progress::Idle)
    }
}
