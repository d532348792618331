//! The command line: flags, and the library [`Config`] they make.

use std::path::{Path, PathBuf};
use std::time::Duration;

use argh::FromArgs;
use simple_ws_server::{Backpressure, Config, Error};

/// A WebSocket server in the spirit of Python's SimpleWebSocketServer. Serves a test page at
/// http://HOST:PORT/ and WebSockets on the same port.
#[derive(FromArgs)]
pub struct Args {
    /// address to listen on (default: all interfaces, IPv4 and IPv6)
    #[argh(option)]
    pub host: Option<String>,

    /// port to listen on; 0 picks a free one (default: 8000)
    #[argh(option, default = "8000")]
    pub port: u16,

    /// which server to run: echo, chat, rooms (the chat in rooms named by the URL path) or
    /// stream (default: echo)
    #[argh(option, default = "String::from(\"echo\")")]
    pub example: String,

    /// serve wss:// (TLS 1.2 and 1.3) with --cert and --key
    #[argh(switch)]
    pub ssl: bool,

    /// certificate chain, PEM, leaf first (default: ./cert.pem)
    #[argh(option, default = "PathBuf::from(\"./cert.pem\")")]
    pub cert: PathBuf,

    /// private key, PEM: PKCS#8, PKCS#1 or SEC1 (default: ./key.pem)
    #[argh(option, default = "PathBuf::from(\"./key.pem\")")]
    pub key: PathBuf,

    /// accept handshakes only from this Origin, e.g. https://example.com; repeat to allow several
    /// (default: any origin)
    #[argh(option)]
    pub allow_origin: Vec<String>,

    /// largest message a client may send, in bytes (default: 1048576)
    #[argh(option)]
    pub max_message_size: Option<usize>,

    /// largest frame a client may send, in bytes (default: the max message size)
    #[argh(option)]
    pub max_frame_size: Option<usize>,

    /// largest handshake request head, in bytes; past it: 431 (default: 16384)
    #[argh(option)]
    pub max_handshake_size: Option<usize>,

    /// most connections at once; past it new ones get 503 (default: 10000)
    #[argh(option)]
    pub max_connections: Option<usize>,

    /// bytes queued for a client that does not read before it is closed with 1008, whatever the
    /// backpressure policy (default: twice the max message size plus 65536)
    #[argh(option)]
    pub max_backlog: Option<usize>,

    /// what to do when a client reads more slowly than others send to it: pace (stop reading the
    /// senders until it catches up), close (close it at the max backlog) or drop (skip messages
    /// to it) (default: pace)
    #[argh(option)]
    pub backpressure: Option<Backpressure>,

    /// backlog in bytes above which a client's senders are paused or its messages dropped
    /// (default: 262144, or half the max backlog when that is smaller)
    #[argh(option)]
    pub high_water_mark: Option<usize>,

    /// backlog in bytes below which a paced client's senders are read again (default: a quarter
    /// of the high-water mark)
    #[argh(option)]
    pub low_water_mark: Option<usize>,

    /// seconds a client above the high-water mark may take no byte before it is closed with
    /// 1008 (pace and drop; default: 5)
    #[argh(option, from_str_fn(seconds))]
    pub stall_timeout: Option<Duration>,

    /// read buffer each connection keeps between messages, in bytes (default: 256)
    #[argh(option)]
    pub read_buffer_size: Option<usize>,

    /// seconds a new connection has to finish its handshake (default: 10)
    #[argh(option, from_str_fn(seconds))]
    pub handshake_timeout: Option<Duration>,

    /// seconds of silence before the server pings a client; 0 never pings (default: 30)
    #[argh(option, from_str_fn(seconds))]
    pub idle_timeout: Option<Duration>,

    /// seconds a pinged client has to answer before it is closed (default: 30)
    #[argh(option, from_str_fn(seconds))]
    pub pong_timeout: Option<Duration>,

    /// seconds a client has to answer a close frame before it is dropped (default: 5)
    #[argh(option, from_str_fn(seconds))]
    pub close_timeout: Option<Duration>,

    /// event loops, one thread each, sharing the port through SO_REUSEPORT; chat lines reach the
    /// clients of every loop (default: 1)
    #[argh(option, default = "1")]
    pub threads: usize,

    /// relay chat lines (or rooms) between instances through Redis pub/sub, e.g.
    /// redis://127.0.0.1:6379/ (chat and rooms only; default: none)
    #[argh(option)]
    pub redis: Option<String>,

    /// negotiate permessage-deflate (RFC 7692) with clients that offer it (default: off)
    #[argh(switch)]
    pub deflate: bool,

    /// with --deflate: shared (no context takeover, no zlib state per idle connection) or
    /// dedicated (context takeover, a compressor and an inflater per connection) (default: shared)
    #[argh(option, default = "String::from(\"shared\")")]
    pub deflate_mode: String,

    /// with --deflate: the server's compression window, 9 to 15 bits (default: 15 shared, 12
    /// dedicated)
    #[argh(option)]
    pub deflate_window_bits: Option<u8>,

    /// with --deflate: messages shorter than this many bytes go uncompressed (default: 64)
    #[argh(option)]
    pub deflate_min_size: Option<usize>,

    /// the Redis channel chat lines are published on; room R travels on CHANNEL:topic:R
    /// (default: simple-ws-server:chat)
    #[argh(option, default = "String::from(DEFAULT_REDIS_CHANNEL)")]
    pub redis_channel: String,
}

/// A number of seconds, fractions allowed (`0.5`).
fn seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("{value:?} is not a number of seconds"))
}

impl Args {
    /// The library configuration these flags ask for. Loads the certificate and key when --ssl
    /// is given, so a bad one fails here, before anything listens.
    pub fn config(&self) -> Result<Config, Error> {
        let mut config = Config::default();
        if let Some(bytes) = self.max_message_size {
            config = config.max_message_size(bytes);
        }
        if let Some(bytes) = self.max_frame_size {
            config = config.max_frame_size(bytes);
        }
        if let Some(bytes) = self.max_handshake_size {
            config = config.max_handshake_size(bytes);
        }
        if let Some(connections) = self.max_connections {
            config = config.max_connections(connections);
        }
        if let Some(bytes) = self.max_backlog {
            config = config.max_backlog(bytes);
        }
        if let Some(policy) = self.backpressure {
            config = config.backpressure(policy);
        }
        if let Some(bytes) = self.high_water_mark {
            config = config.high_water_mark(bytes);
        }
        if let Some(bytes) = self.low_water_mark {
            config = config.low_water_mark(bytes);
        }
        if let Some(timeout) = self.stall_timeout {
            config = config.stall_timeout(timeout);
        }
        if let Some(bytes) = self.read_buffer_size {
            config = config.read_buffer_size(bytes);
        }
        if let Some(timeout) = self.handshake_timeout {
            config = config.handshake_timeout(timeout);
        }
        if let Some(timeout) = self.idle_timeout {
            config = config.idle_timeout(Some(timeout).filter(|t| !t.is_zero()));
        }
        if let Some(timeout) = self.pong_timeout {
            config = config.pong_timeout(timeout);
        }
        if let Some(timeout) = self.close_timeout {
            config = config.close_timeout(timeout);
        }
        for origin in &self.allow_origin {
            config = config.allow_origin(origin);
        }
        if self.ssl {
            config = with_tls(config, &self.cert, &self.key)?;
        }
        if self.deflate {
            config = with_deflate(config, self)?;
        } else if self.deflate_window_bits.is_some()
            || self.deflate_min_size.is_some()
            || self.deflate_mode != "shared"
        {
            return Err(Error::Config("--deflate-* flags need --deflate".into()));
        }
        Ok(config)
    }
}

/// The channel the chat publishes on with --redis (the library's
/// `redis_bridge::DEFAULT_CHANNEL`, kept here so the flag exists in every build).
const DEFAULT_REDIS_CHANNEL: &str = "simple-ws-server:chat";

/// The settings, serving wss:// with this certificate and key.
#[cfg(feature = "tls")]
fn with_tls(config: Config, cert: &Path, key: &Path) -> Result<Config, Error> {
    Ok(config.tls(simple_ws_server::tls::load_pem(cert, key)?))
}

/// The settings, with permessage-deflate as the --deflate-* flags ask.
#[cfg(feature = "deflate")]
fn with_deflate(config: Config, args: &Args) -> Result<Config, Error> {
    use simple_ws_server::deflate::DeflateConfig;
    let bad = |e: simple_ws_server::deflate::DeflateError| Error::Config(format!("--deflate: {e}"));
    let mut deflate = match args.deflate_mode.as_str() {
        "shared" => DeflateConfig::shared(),
        "dedicated" => {
            DeflateConfig::dedicated(args.deflate_window_bits.unwrap_or(12)).map_err(bad)?
        }
        other => {
            return Err(Error::Config(format!(
                "--deflate-mode {other:?}: choose shared or dedicated"
            )))
        }
    };
    if let Some(bits) = args.deflate_window_bits {
        deflate = deflate.server_max_window_bits(bits).map_err(bad)?;
    }
    if let Some(bytes) = args.deflate_min_size {
        deflate = deflate.min_message_size(bytes);
    }
    Ok(config.deflate(deflate))
}

/// Without the `deflate` feature, --deflate is refused at once.
#[cfg(not(feature = "deflate"))]
fn with_deflate(_config: Config, _args: &Args) -> Result<Config, Error> {
    Err(Error::Config(
        "--deflate needs a build with the `deflate` feature".into(),
    ))
}

/// Without the `tls` feature, --ssl is refused at once.
#[cfg(not(feature = "tls"))]
fn with_tls(_config: Config, _cert: &Path, _key: &Path) -> Result<Config, Error> {
    Err(Error::Config(
        "--ssl needs a build with the `tls` feature (on by default)".into(),
    ))
}
