//! The server's own permessage-deflate preferences.

use super::DeflateError;

/// The server's permessage-deflate preferences, built in the style of tungstenite's
/// `WebSocketConfig`: start from [`DeflateConfig::default`] (= [`DeflateConfig::shared`]) or
/// [`DeflateConfig::dedicated`] and change single settings. Every default is stated on its
/// setter.
///
/// The memory trade (as in uWebSockets) is a choice between two presets:
/// - **shared** ([`DeflateConfig::shared`], the default): no context takeover in either
///   direction. Each message is compressed and inflated on its own, so one compressor per window
///   size and a few inflaters are kept per loop ([`DeflatePool`](super::DeflatePool)) and an
///   idle connection holds no zlib state at all. Costs compression ratio on streams of similar
///   messages.
/// - **dedicated** ([`DeflateConfig::dedicated`]): context takeover, so each connection keeps
///   its own compressor and inflater for its whole life (better ratio, memory per connection).
///
/// ```
/// use simple_ws_server::deflate::DeflateConfig;
///
/// let config = DeflateConfig::default().min_message_size(128).compression_level(1)?;
/// assert!(!config.get_server_context_takeover());
/// assert_eq!(config.get_min_message_size(), 128);
/// let dedicated = DeflateConfig::dedicated(10)?;
/// assert_eq!(dedicated.get_server_max_window_bits(), 10);
/// # Ok::<(), simple_ws_server::deflate::DeflateError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    pub(crate) server_context_takeover: bool,
    pub(crate) client_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: Option<u8>,
    pub(crate) min_message_size: usize,
    pub(crate) level: u8,
    pub(crate) mem_level: u8,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self::shared()
    }
}

/// Checks a window size setting against `low..=15`.
fn check_bits(name: &'static str, bits: u8, low: u8) -> Result<u8, DeflateError> {
    if (low..=15).contains(&bits) {
        Ok(bits)
    } else {
        Err(DeflateError::InvalidSetting {
            name,
            value: usize::from(bits),
            allowed: if low == 8 { "8 to 15" } else { "9 to 15" },
        })
    }
}

impl DeflateConfig {
    /// The shared preset (also the default): no context takeover either way, 15-bit windows,
    /// messages under 64 bytes sent uncompressed, zlib level 6, zlib `mem_level` 8.
    pub fn shared() -> Self {
        DeflateConfig {
            server_context_takeover: false,
            client_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: None,
            min_message_size: 64,
            level: 6,
            mem_level: 8,
        }
    }

    /// The dedicated preset: context takeover both ways, the server compressing with a
    /// `window_bits` window (9 to 15) and `mem_level` 1 to keep each connection's compressor
    /// small, and the client asked for the same window (so each connection's inflater only
    /// needs that much history).
    ///
    /// # Errors
    /// [`DeflateError::InvalidSetting`] if `window_bits` is not 9 to 15 (zlib cannot compress
    /// raw deflate with an 8-bit window).
    pub fn dedicated(window_bits: u8) -> Result<Self, DeflateError> {
        let bits = check_bits("server_max_window_bits", window_bits, 9)?;
        Ok(DeflateConfig {
            server_context_takeover: true,
            client_context_takeover: true,
            server_max_window_bits: bits,
            client_max_window_bits: Some(bits),
            mem_level: 1,
            ..Self::shared()
        })
    }

    /// Whether the server keeps its compression context from one message to the next (default
    /// `false`). When `false` the response always carries `server_no_context_takeover`. When
    /// `true` the server still honours a client that asks for `server_no_context_takeover`.
    pub fn server_context_takeover(mut self, on: bool) -> Self {
        self.server_context_takeover = on;
        self
    }

    /// Whether the client may keep its compression context (default `false`: the response
    /// carries `client_no_context_takeover`, so no inflater is kept between messages).
    pub fn client_context_takeover(mut self, on: bool) -> Self {
        self.client_context_takeover = on;
        self
    }

    /// The largest window the server compresses with, 9 to 15 (default 15). A client may ask
    /// for a smaller one with `server_max_window_bits`; the smaller wins.
    ///
    /// # Errors
    /// [`DeflateError::InvalidSetting`] outside 9 to 15: zlib cannot compress raw deflate with
    /// an 8-bit window (`deflateInit2` rejects it since zlib 1.2.9, and so does zlib-rs).
    pub fn server_max_window_bits(mut self, bits: u8) -> Result<Self, DeflateError> {
        self.server_max_window_bits = check_bits("server_max_window_bits", bits, 9)?;
        Ok(self)
    }

    /// The window the server asks the client to compress with, 8 to 15, or `None` to leave it
    /// to the client (default `None`). Only a client that offers `client_max_window_bits` can
    /// be asked (RFC 7692 section 7.1.2.2); others are accepted and inflated with 15 bits.
    ///
    /// # Errors
    /// [`DeflateError::InvalidSetting`] outside 8 to 15.
    pub fn client_max_window_bits(mut self, bits: Option<u8>) -> Result<Self, DeflateError> {
        self.client_max_window_bits = match bits {
            Some(b) => Some(check_bits("client_max_window_bits", b, 8)?),
            None => None,
        };
        Ok(self)
    }

    /// Messages shorter than this many bytes are sent uncompressed (default 64: below that the
    /// deflate block overhead usually outweighs the saving). 0 compresses every message.
    pub fn min_message_size(mut self, bytes: usize) -> Self {
        self.min_message_size = bytes;
        self
    }

    /// The zlib compression level, 0 (store) to 9 (default 6, zlib's own default and Node
    /// `ws`'s and Python `websockets`').
    ///
    /// # Errors
    /// [`DeflateError::InvalidSetting`] above 9.
    pub fn compression_level(mut self, level: u8) -> Result<Self, DeflateError> {
        if level > 9 {
            return Err(DeflateError::InvalidSetting {
                name: "compression_level",
                value: usize::from(level),
                allowed: "0 to 9",
            });
        }
        self.level = level;
        Ok(self)
    }

    /// zlib's `mem_level`, 1 to 9 (default 8; the dedicated preset uses 1): the size of the
    /// compressor's literal buffers, `4 << (mem_level + 6)` bytes plus `3 << (mem_level + 6)`.
    /// Lower saves memory per compressor at some cost in ratio.
    ///
    /// # Errors
    /// [`DeflateError::InvalidSetting`] outside 1 to 9.
    pub fn mem_level(mut self, mem_level: u8) -> Result<Self, DeflateError> {
        if !(1..=9).contains(&mem_level) {
            return Err(DeflateError::InvalidSetting {
                name: "mem_level",
                value: usize::from(mem_level),
                allowed: "1 to 9",
            });
        }
        self.mem_level = mem_level;
        Ok(self)
    }

    /// See [`DeflateConfig::server_context_takeover`].
    pub fn get_server_context_takeover(&self) -> bool {
        self.server_context_takeover
    }

    /// See [`DeflateConfig::client_context_takeover`].
    pub fn get_client_context_takeover(&self) -> bool {
        self.client_context_takeover
    }

    /// See [`DeflateConfig::server_max_window_bits`].
    pub fn get_server_max_window_bits(&self) -> u8 {
        self.server_max_window_bits
    }

    /// See [`DeflateConfig::client_max_window_bits`].
    pub fn get_client_max_window_bits(&self) -> Option<u8> {
        self.client_max_window_bits
    }

    /// See [`DeflateConfig::min_message_size`].
    pub fn get_min_message_size(&self) -> usize {
        self.min_message_size
    }

    /// See [`DeflateConfig::compression_level`].
    pub fn get_compression_level(&self) -> u8 {
        self.level
    }

    /// See [`DeflateConfig::mem_level`].
    pub fn get_mem_level(&self) -> u8 {
        self.mem_level
    }
}
