//! Per-loop zlib state shared by every connection that negotiated no context takeover.

use std::fmt;

use zlib_rs::{Deflate, Inflate};

use super::stream::{new_deflate, new_inflate};
use super::DeflateConfig;

/// Idle inflaters kept for reuse; more are created when more messages are in flight at once
/// (fragmented messages of several clients) and dropped when they come back to a full pool.
const MAX_IDLE_INFLATERS: usize = 4;

/// The zlib state one event loop shares between its connections (one pool per loop, beside
/// the connection slab), made from the server's [`DeflateConfig`]:
/// - one compressor per window size (9 to 15), created on first use and reset before each
///   message of a connection without server context takeover: a message is compressed whole,
///   in one call, so one compressor serves every connection in turn;
/// - up to four idle 15-bit inflaters, lent to a connection without client context takeover
///   from the first frame of a compressed message to its last (frames of several clients'
///   messages interleave, so an inflater cannot be shared within a message).
pub struct DeflatePool {
    config: DeflateConfig,
    deflaters: [Option<Box<Deflate>>; 7],
    // The boxes move between the pool and sessions as they are: a session holds an 8-byte
    // `Option<Box<Inflate>>` rather than a 128-byte inline stream, and lending copies nothing.
    #[allow(clippy::vec_box)]
    inflaters: Vec<Box<Inflate>>,
    /// Where an outgoing message is compressed before it is framed (its length goes in the
    /// frame header first); kept between messages up to [`MAX_SCRATCH`] bytes.
    scratch: Vec<u8>,
}

/// The most scratch capacity kept between messages.
const MAX_SCRATCH: usize = 256 * 1024;

impl fmt::Debug for DeflatePool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let windows: Vec<usize> = (9..)
            .zip(&self.deflaters)
            .filter(|(_, d)| d.is_some())
            .map(|(b, _)| b)
            .collect();
        f.debug_struct("DeflatePool")
            .field("config", &self.config)
            .field("compressor_windows", &windows)
            .field("idle_inflaters", &self.inflaters.len())
            .finish()
    }
}

impl DeflatePool {
    /// An empty pool: no zlib state is allocated until a message needs it.
    pub fn new(config: DeflateConfig) -> Self {
        DeflatePool {
            config,
            deflaters: Default::default(),
            inflaters: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Takes the (empty) scratch buffer; give it back with [`DeflatePool::give_scratch`].
    pub(crate) fn take_scratch(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.scratch)
    }

    /// Takes the scratch buffer back, emptied, unless a big message grew it.
    pub(crate) fn give_scratch(&mut self, mut scratch: Vec<u8>) {
        if scratch.capacity() <= MAX_SCRATCH {
            scratch.clear();
            self.scratch = scratch;
        }
    }

    /// The server's settings the pool was made with.
    pub fn config(&self) -> &DeflateConfig {
        &self.config
    }

    /// A compressor for one connection's own use (server context takeover).
    pub(crate) fn dedicated_deflate(&self, bits: u8) -> Box<Deflate> {
        Box::new(new_deflate(bits, self.config.level, self.config.mem_level))
    }

    /// The shared compressor for a `bits` window, reset (no context from earlier messages).
    pub(crate) fn shared_deflate(&mut self, bits: u8) -> &mut Deflate {
        let (level, mem_level) = (self.config.level, self.config.mem_level);
        let slot = &mut self.deflaters[usize::from(bits.clamp(9, 15) - 9)];
        let z = slot.get_or_insert_with(|| Box::new(new_deflate(bits, level, mem_level)));
        z.reset();
        z
    }

    /// Lends a fresh 15-bit inflater (a 15-bit window inflates any window of 8 to 15 bits).
    pub(crate) fn take_inflate(&mut self) -> Box<Inflate> {
        self.inflaters
            .pop()
            .unwrap_or_else(|| Box::new(new_inflate(15)))
    }

    /// Takes an inflater back after its message; `reset(false)` restores a raw 15-bit stream.
    pub(crate) fn give_inflate(&mut self, mut z: Box<Inflate>) {
        if self.inflaters.len() < MAX_IDLE_INFLATERS {
            z.reset(false);
            self.inflaters.push(z);
        }
    }

    /// How many compressors and idle inflaters the pool holds now.
    pub fn held(&self) -> (usize, usize) {
        (
            self.deflaters.iter().flatten().count(),
            self.inflaters.len(),
        )
    }
}
