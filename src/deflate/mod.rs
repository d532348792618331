//! permessage-deflate (RFC 7692), the pure parts: no sockets, no frames, no connection.
//!
//! What lives here (cargo feature `deflate`):
//! - [`DeflateConfig`] (`config.rs`): the server's preferences, including the memory trade
//!   (shared compressors and no context takeover, or a dedicated compressor per connection).
//! - [`negotiate`] (`negotiate.rs`, with the header parser in `header.rs`): reads every
//!   `Sec-WebSocket-Extensions` offer, accepts the first the server supports, and gives the
//!   agreed [`DeflateParams`] (for the handler, on the request) and the response header value.
//! - [`DeflatePool`] (`pool.rs`, one per event loop) and [`DeflateSession`] (`session.rs`, one
//!   per connection): compress a whole outgoing message; inflate an incoming compressed
//!   message frame by frame in bounded steps, stopping at `max_message_size`. The zlib loops
//!   themselves are in `stream.rs`.
//! - [`CompressOnce`] (`broadcast.rs`): a broadcast compressed once per window size for every
//!   client without server context takeover.
//!
//! The frame layer (RSV1 on the first frame of a message only, close codes) is the codec's:
//! it calls [`DeflateSession::inflate_frame`] for the frames of a message whose first frame had
//! RSV1, before UTF-8 validation, and [`DeflateSession::compress`] (or [`CompressOnce`]) before
//! framing an outgoing message.
//!
//! ## Engine: zlib-rs
//! [zlib-rs](https://docs.rs/zlib-rs) is used directly. It is the Rust port of zlib-ng behind
//! flate2's `zlib-rs` backend, as fast as zlib-ng and safe Rust above its own core.
//! Directly rather than through flate2, because flate2's `Decompress::new_with_window_bits`
//! panics below 9 bits and flate2 does not expose zlib's `mem_level`; zlib-rs inflates raw
//! deflate with 8 to 15 bits, compresses with 9 to 15, and takes `mem_level`, the lever for a
//! small dedicated compressor. Like zlib since 1.2.9, it refuses to compress raw deflate with
//! 8 bits, which [`negotiate`] accounts for.
//!
//! ## Memory (zlib-rs 0.6.8, x86_64, heap bytes counted by a counting allocator)
//! - A compressor: 380,032 bytes at 15 bits and `mem_level` 8; 265,344 at 12/8; 137,216 at
//!   9/1 (the dedicated preset's smallest). zlib-rs's hash table is a fixed 128 KiB whatever
//!   the window, so small windows save less than in C zlib.
//! - An inflater: 47,552 bytes whatever its window bits (zlib-rs always keeps a 32 KiB window).
//! - A [`DeflateSession`] is 32 bytes. With no context takeover either way (the default) an
//!   idle connection holds nothing else: compressors live in the [`DeflatePool`] (one per
//!   window size per loop) and an inflater is lent only while a message is inflated
//!   (`tests_session.rs`: `idle_session_without_context_takeover_holds_no_zlib_state`).
//!   With context takeover both ways an idle connection that has exchanged one compressed
//!   message holds `32 + 2 * 8` (boxes) `+ 2 * 128` (inline zlib streams) `+ 137,216 + 47,552`
//!   = about 180 KiB with [`DeflateConfig::dedicated`]`(9)`, about 420 KiB at 15 bits.

mod broadcast;
mod config;
mod error;
mod frames;
mod header;
mod negotiate;
mod pool;
mod session;
pub(crate) mod stats;
mod stream;

#[cfg(test)]
mod tests_distance;
#[cfg(test)]
mod tests_engine;
#[cfg(test)]
mod tests_negotiate;
#[cfg(test)]
mod tests_session;

pub use broadcast::{BroadcastPayload, CompressOnce};
pub use config::DeflateConfig;
pub use error::DeflateError;
pub(crate) use frames::Inflater;
pub use negotiate::{negotiate, Agreement, DeflateParams, EXTENSION_NAME};
pub use pool::DeflatePool;
pub use session::DeflateSession;
pub use stats::{stats, DeflateStats};
