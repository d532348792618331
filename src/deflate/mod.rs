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
//! ## Memory (zlib-rs 0.6, 64-bit)
//! A compressor allocates `2 * 2^bits` (window) `+ 2 * 2^bits` (prev) `+ 128 KiB` (hash head,
//! fixed in zlib-rs) `+ 7 << (mem_level + 6)` bytes plus its state: about 368 KiB at 15 bits and
//! `mem_level` 8, about 132 KiB at 9 bits and `mem_level` 1. An inflater allocates a 32 KiB
//! window whatever its window bits, plus its state (about 40 KiB in all). A [`DeflateSession`]
//! itself is a few dozen bytes; with no context takeover both ways it holds nothing else while
//! idle (see the `idle_session_*` tests).

mod broadcast;
mod config;
mod error;
mod header;
mod negotiate;
mod pool;
mod session;
mod stream;

#[cfg(test)]
mod tests_distance;
#[cfg(test)]
mod tests_engine;
#[cfg(test)]
mod tests_negotiate;

pub use broadcast::{BroadcastPayload, CompressOnce};
pub use config::DeflateConfig;
pub use error::DeflateError;
pub use negotiate::{negotiate, Agreement, DeflateParams, EXTENSION_NAME};
pub use pool::DeflatePool;
pub use session::DeflateSession;
