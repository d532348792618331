//! Process-wide counters of what permessage-deflate saved on the way out.

use std::sync::atomic::{AtomicU64, Ordering};

static MESSAGES: AtomicU64 = AtomicU64::new(0);
static PAYLOAD: AtomicU64 = AtomicU64::new(0);
static WIRE: AtomicU64 = AtomicU64::new(0);

/// What the server's compressed messages came to, counted over every event loop of the
/// process since it started: one count per message queued for one client (a broadcast to 100
/// clients counts 100 times, though it was compressed once). Messages sent uncompressed (too
/// short, not shrunk, or to clients without the extension) are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeflateStats {
    /// Messages sent compressed.
    pub messages: u64,
    /// Their payload bytes before compression.
    pub payload_bytes: u64,
    /// Their frame payload bytes on the wire (compressed, without frame headers).
    pub wire_bytes: u64,
}

/// The counters now. Relaxed reads: the three fields may be a message apart.
///
/// ```
/// let stats = simple_ws_server::deflate::stats();
/// assert!(stats.wire_bytes <= stats.payload_bytes || stats.messages > 0);
/// ```
pub fn stats() -> DeflateStats {
    DeflateStats {
        messages: MESSAGES.load(Ordering::Relaxed),
        payload_bytes: PAYLOAD.load(Ordering::Relaxed),
        wire_bytes: WIRE.load(Ordering::Relaxed),
    }
}

/// Counts one compressed message queued for a client.
pub(crate) fn count(payload: usize, wire: usize) {
    MESSAGES.fetch_add(1, Ordering::Relaxed);
    PAYLOAD.fetch_add(payload as u64, Ordering::Relaxed);
    WIRE.fetch_add(wire as u64, Ordering::Relaxed);
}
