//! Server settings: limits, timeouts and policies, each with a safe default.

use std::str::FromStr;
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// The server's settings, built with chained methods from [`Config::default`].
///
/// Every limit is on by default and sized so that a server with 1,000 clients at their limits
/// still fits in memory. Each method's documentation states its default.
///
/// ```
/// use std::time::Duration;
/// use simple_ws_server::Config;
///
/// let config = Config::default()
///     .max_message_size(16 << 20)
///     .handshake_timeout(Duration::from_secs(5))
///     .allow_origin("https://example.com");
/// assert_eq!(config.get_max_message_size(), 16 << 20);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) max_message_size: usize,
    pub(crate) max_frame_size: Option<usize>,
    pub(crate) max_handshake_size: usize,
    pub(crate) max_connections: usize,
    pub(crate) read_buffer_size: usize,
    pub(crate) max_backlog: Option<usize>,
    pub(crate) backpressure: Backpressure,
    pub(crate) high_water_mark: Option<usize>,
    pub(crate) low_water_mark: Option<usize>,
    pub(crate) stall_timeout: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) pong_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) listen_backlog: i32,
    pub(crate) command_queue: usize,
    pub(crate) serve_page: bool,
    pub(crate) reuse_port: bool,
    pub(crate) tls: Option<TlsConfig>,
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<crate::deflate::DeflateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_size: MIB,
            max_frame_size: None,
            max_handshake_size: 16 * KIB,
            max_connections: 10_000,
            read_buffer_size: 256,
            max_backlog: None,
            backpressure: Backpressure::Pace,
            high_water_mark: None,
            low_water_mark: None,
            stall_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(30)),
            pong_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(5),
            allowed_origins: Vec::new(),
            listen_backlog: 4096,
            command_queue: 4096,
            serve_page: true,
            reuse_port: false,
            tls: None,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }
}

impl Config {
    /// Largest message a client may send, reassembled from its fragments, in bytes. A client that
    /// sends more is closed with 1009 (message too big). Default: 1 MiB.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Largest single frame a client may send, in bytes; checked from the frame header, before
    /// the payload is buffered. A larger frame closes the client with 1009. Default: the same as
    /// [`max_message_size`](Self::max_message_size).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = Some(bytes);
        self
    }

    /// Largest HTTP request (request line and headers) accepted for a handshake, in bytes. A larger
    /// one is answered `431 Request Header Fields Too Large` and the connection ends. At most
    /// 64 KiB (the original's limit). Default: 16 KiB.
    pub fn max_handshake_size(mut self, bytes: usize) -> Self {
        self.max_handshake_size = bytes;
        self
    }

    /// Most connections held at once (open WebSockets plus handshakes in progress). Past it, a new
    /// connection is answered `503 Service Unavailable` and closed. Default: 10,000.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// The read buffer each connection keeps between messages; it grows while a larger message
    /// arrives. Sockets are read in 64 KiB chunks into one buffer the whole loop shares, so a
    /// small value costs no extra system calls and keeps idle clients cheap. Default: 256 bytes
    /// (tungstenite's own default of 128 KiB would cost 13 GB for 100,000 idle clients).
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Most bytes queued for one client that is not reading them: the hard limit, under every
    /// [`backpressure`](Self::backpressure) policy. A client whose backlog would pass it is
    /// closed with 1008 (policy violation), or dropped when even that cannot be queued, so one
    /// slow reader never grows the server's memory. Under [`Backpressure::Pace`] it is met only
    /// by sends with no sender to slow (from a [`Handle`](crate::Handle), a timer) or by many
    /// senders at once. Default: twice [`max_message_size`](Self::max_message_size) plus
    /// 64 KiB.
    pub fn max_backlog(mut self, bytes: usize) -> Self {
        self.max_backlog = Some(bytes);
        self
    }

    /// What happens when a client reads more slowly than others send to it: slow the senders
    /// ([`Backpressure::Pace`]), close the reader at the backlog limit
    /// ([`Backpressure::Close`]), or skip messages to it ([`Backpressure::Drop`]). See
    /// [`Backpressure`] for the trade-offs. Default: [`Backpressure::Pace`].
    pub fn backpressure(mut self, policy: Backpressure) -> Self {
        self.backpressure = policy;
        self
    }

    /// The backlog (bytes queued for a client, not yet written) above which flow control acts:
    /// the sender is paused ([`Backpressure::Pace`]) or messages are skipped
    /// ([`Backpressure::Drop`]). Must be below [`max_backlog`](Self::max_backlog); keep it at
    /// least one message below, so that pacing acts before the hard limit closes a client.
    /// Default: 256 KiB, or half of `max_backlog` when that is smaller.
    pub fn high_water_mark(mut self, bytes: usize) -> Self {
        self.high_water_mark = Some(bytes);
        self
    }

    /// The backlog below which a client that was above the high-water mark counts as drained:
    /// its paused senders are read again and [`Handler::on_drain`](crate::Handler::on_drain) is
    /// called. At most the high-water mark. Default: a quarter of the high-water mark.
    pub fn low_water_mark(mut self, bytes: usize) -> Self {
        self.low_water_mark = Some(bytes);
        self
    }

    /// How long a client above the high-water mark may take no byte at all before it is closed
    /// with 1008, under [`Backpressure::Pace`] and [`Backpressure::Drop`]: how long one dead
    /// reader can hold the senders it receives from. Any byte written to it restarts the clock.
    /// Default: 5 seconds.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// Time a new connection has to complete its handshake (TLS and HTTP upgrade) before it is
    /// closed; this ends slowloris clients. Default: 10 seconds.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// After this long without hearing from a client the server pings it; `None` never pings.
    /// Default: 30 seconds.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Time a pinged client has to answer (with anything) before it is closed as dead.
    /// Default: 30 seconds.
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// Time a client has to answer the server's close frame before its TCP connection is
    /// dropped. Default: 5 seconds.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Accept handshakes whose `Origin` header is exactly this origin (e.g.
    /// `https://example.com`); call again to allow several. Once any origin is allowed, a
    /// handshake from another origin, or with no `Origin` header, gets `403 Forbidden`.
    /// Default: any origin, since WebSockets are cross-origin by design.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins
            .push(origin.into().trim_end_matches('/').to_owned());
        self
    }

    /// The listen backlog: connections the kernel queues before they are accepted. Default: 4096
    /// (the original's 5 left bursts of connects stuck for seconds).
    pub fn listen_backlog(mut self, connections: i32) -> Self {
        self.listen_backlog = connections;
        self
    }

    /// Commands a [`Handle`](crate::Handle) may queue for the loop before its calls return
    /// [`Error::QueueFull`]. Default: 4096.
    pub fn command_queue(mut self, commands: usize) -> Self {
        self.command_queue = commands;
        self
    }

    /// Whether the listener sets `SO_REUSEPORT`, so that several servers (one loop per core, see
    /// [`Cluster`](crate::Cluster)) can listen on the same address and port, the kernel spreading
    /// new connections among them. Default: `false`.
    pub fn reuse_port(mut self, reuse: bool) -> Self {
        self.reuse_port = reuse;
        self
    }

    /// Whether a plain HTTP `GET /` is answered with the built-in `websocket.html` page (`true`),
    /// or with 404 like every other plain HTTP request. Default: `true`.
    pub fn serve_page(mut self, serve: bool) -> Self {
        self.serve_page = serve;
        self
    }

    /// Serve wss:// with this TLS configuration: every connection starts with a TLS handshake,
    /// done without blocking inside the loop (it counts against
    /// [`handshake_timeout`](Self::handshake_timeout)). [`tls::load_pem`](crate::tls::load_pem)
    /// builds one from PEM files. Default: none (plain ws://).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Negotiate permessage-deflate (RFC 7692) with clients that offer it, with these
    /// preferences ([`DeflateConfig::shared`](crate::deflate::DeflateConfig::shared), the
    /// default preset, keeps no zlib state per idle connection). Inflated messages count
    /// against [`max_message_size`](Self::max_message_size): inflating stops, and the client is
    /// closed with 1009, as soon as it is passed. Default: off (no extension is negotiated, as
    /// in uWebSockets and Node `ws`).
    #[cfg(feature = "deflate")]
    pub fn deflate(mut self, config: crate::deflate::DeflateConfig) -> Self {
        self.deflate = Some(config);
        self
    }

    /// The permessage-deflate preferences, if it is on.
    #[cfg(feature = "deflate")]
    pub fn get_deflate(&self) -> Option<&crate::deflate::DeflateConfig> {
        self.deflate.as_ref()
    }

    /// Whether the server speaks TLS (wss://).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The largest message a client may send, in bytes.
    pub fn get_max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The high- and low-water marks in force.
    pub(crate) fn water_marks(&self) -> (usize, usize) {
        let high = self
            .high_water_mark
            .unwrap_or_else(|| (256 * KIB).min(self.backlog_limit() / 2));
        let low = self.low_water_mark.unwrap_or(high / 4);
        (high, low)
    }

    pub(crate) fn frame_limit(&self) -> usize {
        self.max_frame_size.unwrap_or(self.max_message_size)
    }

    pub(crate) fn backlog_limit(&self) -> usize {
        self.max_backlog.unwrap_or_else(|| {
            self.max_message_size
                .saturating_mul(2)
                .saturating_add(64 * KIB)
        })
    }

    /// tungstenite writes every frame it makes at once, into the connection's own outgoing
    /// buffer (see `read_ahead::Appender`); the socket is written at the end of the batch.
    pub(crate) fn write_buffer_size(&self) -> usize {
        0
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let check = |ok: bool, msg: &str| {
            if ok {
                Ok(())
            } else {
                Err(Error::Config(msg.into()))
            }
        };
        check(
            self.max_message_size > 0,
            "max_message_size must be above 0",
        )?;
        check(self.frame_limit() > 0, "max_frame_size must be above 0")?;
        check(
            (256..=64 * KIB).contains(&self.max_handshake_size),
            "max_handshake_size must be between 256 bytes and 64 KiB",
        )?;
        check(self.max_connections > 0, "max_connections must be above 0")?;
        check(
            self.max_connections < u32::MAX as usize,
            "max_connections must be below 2^32",
        )?;
        check(
            self.read_buffer_size >= 64,
            "read_buffer_size must be at least 64 bytes",
        )?;
        check(
            self.backlog_limit() >= 64 * KIB,
            "max_backlog must be at least 64 KiB",
        )?;
        let (high, low) = self.water_marks();
        check(
            high < self.backlog_limit(),
            "high_water_mark must be below max_backlog",
        )?;
        check(
            low <= high,
            "low_water_mark must be at most high_water_mark",
        )?;
        check(
            !self.stall_timeout.is_zero(),
            "stall_timeout must be above 0",
        )?;
        check(self.command_queue > 0, "command_queue must be above 0")?;
        check(
            !self.handshake_timeout.is_zero(),
            "handshake_timeout must be above 0",
        )?;
        Ok(())
    }

    pub(crate) fn websocket_config(&self) -> tungstenite::protocol::WebSocketConfig {
        tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(self.write_buffer_size())
            .max_write_buffer_size(self.backlog_limit())
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.frame_limit()))
    }
}

/// What the server does when a client's backlog (bytes queued for it, not yet written) passes
/// the high-water mark ([`Config::high_water_mark`](crate::Config::high_water_mark)).
///
/// ```
/// use simple_ws_server::{Backpressure, Config};
///
/// let config = Config::default().backpressure(Backpressure::Drop);
/// assert_eq!("drop".parse::<Backpressure>(), Ok(Backpressure::Drop));
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backpressure {
    /// Slow the sender: stop reading the client whose message caused the send until its
    /// recipients drain below the low-water mark, so TCP pushes back on it. No reader loses a
    /// message; one slow reader slows every client whose messages reach it (in a chat room,
    /// everyone who talks). A reader that takes no byte at all for the stall timeout is closed
    /// with 1008. The default.
    #[default]
    Pace,
    /// Close a client whose backlog passes [`max_backlog`](crate::Config::max_backlog) with 1008
    /// (policy violation); senders are never slowed. A reader slower than its senders loses the
    /// connection.
    Close,
    /// Skip messages to a client above the mark (counted in [`FlowStats::dropped`](crate::FlowStats::dropped)), as
    /// uWebSockets' publish does; senders are never slowed. A slow reader silently misses
    /// messages. A reader that takes no byte at all for the stall timeout is closed with 1008.
    Drop,
}

impl FromStr for Backpressure {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "pace" => Ok(Backpressure::Pace),
            "close" => Ok(Backpressure::Close),
            "drop" => Ok(Backpressure::Drop),
            other => Err(format!("{other:?} is not pace, close or drop")),
        }
    }
}

/// What [`Config::tls`](crate::Config::tls) holds: a rustls server configuration.
#[cfg(feature = "tls")]
pub(crate) type TlsConfig = Arc<rustls::ServerConfig>;

/// Without the `tls` feature there is no TLS configuration to hold: the setting is always `None`.
#[cfg(not(feature = "tls"))]
#[derive(Debug, Clone)]
pub(crate) enum TlsConfig {}
