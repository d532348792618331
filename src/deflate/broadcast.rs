//! Compress once, send to many: a broadcast to clients without server context takeover.

use super::session::compress_for_shared;
use super::{DeflateError, DeflateParams, DeflatePool};

/// What to send one client of a broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastPayload<'a> {
    /// This compressed payload, with RSV1 on the first frame; the same bytes for every client
    /// that agreed the same server window.
    Compressed(&'a [u8]),
    /// The message as it is, RSV1 clear (too short to compress, or deflate did not shrink it).
    Uncompressed,
    /// The client keeps a compression context: compress for it alone with
    /// [`DeflateSession::compress`](super::DeflateSession::compress).
    PerClient,
}

/// The compressed forms of one broadcast message, computed at most once per server window size
/// (9 to 15) however many clients receive it. Without server context takeover a compressed
/// message depends only on the message, the window and the server's level settings, so every
/// such client can be sent the same frame payload (as uWebSockets' shared compressor does).
///
/// ```
/// use simple_ws_server::deflate::{negotiate, BroadcastPayload, CompressOnce, DeflateConfig, DeflatePool};
///
/// let config = DeflateConfig::default();
/// let mut pool = DeflatePool::new(config);
/// let params = negotiate(&config, ["permessage-deflate"]).expect("accepted").params();
/// let message = br#"{"price": 101.5, "symbol": "ACME", "price": 101.5, "symbol": "ACME"}"#.repeat(4);
/// let mut once = CompressOnce::new(&message);
/// let first = match once.payload(&mut pool, &params)? {
///     BroadcastPayload::Compressed(bytes) => bytes.to_vec(),
///     other => panic!("{other:?}"),
/// };
/// assert!(first.len() < message.len());
/// assert_eq!(once.payload(&mut pool, &params)?, BroadcastPayload::Compressed(&first));
/// assert_eq!(once.compressions(), 1);
/// # Ok::<(), simple_ws_server::deflate::DeflateError>(())
/// ```
#[derive(Debug)]
pub struct CompressOnce<'m> {
    message: &'m [u8],
    /// Per window size 9..=15: not computed yet, or the outcome.
    slots: [Option<Option<Vec<u8>>>; 7],
}

impl<'m> CompressOnce<'m> {
    /// Prepares to send `message` to many clients; compresses nothing yet.
    pub fn new(message: &'m [u8]) -> Self {
        CompressOnce {
            message,
            slots: Default::default(),
        }
    }

    /// The payload for one client that agreed `params`; compresses only the first time a
    /// window size is asked for.
    ///
    /// # Errors
    /// Only if zlib fails on its own state.
    pub fn payload(
        &mut self,
        pool: &mut DeflatePool,
        params: &DeflateParams,
    ) -> Result<BroadcastPayload<'_>, DeflateError> {
        if !params.server_no_context_takeover() {
            return Ok(BroadcastPayload::PerClient);
        }
        let bits = params.server_max_window_bits();
        let slot = &mut self.slots[usize::from(bits.clamp(9, 15) - 9)];
        if slot.is_none() {
            *slot = Some(compress_for_shared(pool, bits, self.message)?);
        }
        Ok(match slot {
            Some(Some(bytes)) => BroadcastPayload::Compressed(bytes),
            _ => BroadcastPayload::Uncompressed,
        })
    }

    /// How many times the message was compressed so far (at most one per window size).
    pub fn compressions(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}
