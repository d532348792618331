//! A [`Broker`] over Redis pub/sub: two threads with one Redis connection each, off the loops.
//!
//! Redis is spoken through the `redis` crate's blocking client (its URL parsing, `AUTH`,
//! pub/sub and timeouts; `rediss://` when the `tls` feature is on too). What is ours: the
//! threads, the reconnection with its backoff, the byte-bounded publish queue, the size limit on
//! what comes from the channel, and the instance tag that keeps an instance from hearing itself.

mod link;
mod queue;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use log::{debug, warn};

use crate::error::{Error, Result};
use crate::message::Message;
use crate::scale::relay::{Broker, Relay};
use bytes::Bytes;
use link::{Link, Publisher, Subscriber};
use queue::QueueSender;

use crate::text::Text;

/// The channel the chat example publishes on.
pub const DEFAULT_CHANNEL: &str = "simple-ws-server:chat";

/// Bytes of a relayed message before its payload: the instance id (8) and its kind (1).
const HEADER: usize = 9;

/// The limits of a [`RedisBridge`], each with a safe default.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    max_message_size: usize,
    max_queue_bytes: usize,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            max_message_size: 1 << 20,
            max_queue_bytes: 16 << 20,
        }
    }
}

impl BridgeConfig {
    /// Largest message relayed, either way, in bytes of payload. A message from the channel that
    /// is larger is dropped (counted in [`RedisBridge::dropped_incoming`], logged once), so
    /// another instance cannot push to this one's clients what they could not send themselves;
    /// a larger one handed to the bridge is not published. Give it the server's
    /// [`Config::get_max_message_size`](crate::Config::get_max_message_size). Default: 1 MiB
    /// (the server's default).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Most bytes waiting to be published (each message counted with 64 bytes of overhead);
    /// past it new messages are dropped, counted in [`RedisBridge::dropped_outgoing`]. Default:
    /// 16 MiB.
    pub fn max_queue_bytes(mut self, bytes: usize) -> Self {
        self.max_queue_bytes = bytes;
        self
    }
}

/// Connects server instances through Redis pub/sub.
///
/// Every message handed to it (as a [`Broker`], through a [`Relay`]) is published on one Redis
/// channel, tagged with this instance's random id; every message received on that channel from
/// another instance is handed to a delivery function, by default [`Relay::deliver_local`] (to
/// every client of every loop). An instance skips its own messages, so none is delivered twice.
///
/// Redis is reached from two threads of the bridge's own, one publishing and one subscribed;
/// a loop only ever pushes onto a queue bounded in bytes ([`BridgeConfig::max_queue_bytes`]), so
/// it never waits for Redis. When Redis goes away the outage is logged once, messages published
/// meanwhile are dropped (Redis pub/sub keeps nothing either), both threads reconnect with a
/// backoff from 100 ms to 2 s, and relaying resumes by itself.
///
/// ```no_run
/// use std::sync::Arc;
/// use simple_ws_server::redis_bridge::{self, RedisBridge};
/// use simple_ws_server::{ClientContext, Cluster, Config, Handler, Message, Relay};
///
/// /// Everyone hears everyone, on every loop of every instance.
/// struct Shout(Relay);
///
/// impl Handler for Shout {
///     type State = ();
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
///         ctx.broadcast_others(message.clone());
///         self.0.publish(message);
///     }
/// }
///
/// let cluster = Cluster::bind("[::]:8000", Config::default(), 2)?;
/// let relay = Relay::new(cluster.handles());
/// let bridge = RedisBridge::start("redis://127.0.0.1:6379/", redis_bridge::DEFAULT_CHANNEL, relay.clone())?;
/// let relay = relay.with_broker(Arc::new(bridge));
/// cluster.run(|index| Shout(relay.for_loop(index)))?;
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
pub struct RedisBridge {
    outbox: QueueSender,
    instance: u64,
    max_message_size: usize,
    stop: Arc<AtomicBool>,
    dropped_outgoing: AtomicU64,
    dropped_incoming: Arc<AtomicU64>,
}

impl std::fmt::Debug for RedisBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBridge")
            .field("instance", &format_args!("{:016x}", self.instance))
            .field("max_message_size", &self.max_message_size)
            .field("dropped_outgoing", &self.dropped_outgoing())
            .field("dropped_incoming", &self.dropped_incoming())
            .finish_non_exhaustive()
    }
}

impl RedisBridge {
    /// Starts the bridge's threads for `url` and `channel` with the default limits, delivering
    /// what other instances publish with [`Relay::deliver_local`].
    ///
    /// The URL is read by the `redis` crate: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`
    /// (percent-encoded user and password are decoded; the database does not matter to pub/sub),
    /// `rediss://` for TLS when the `tls` feature is on (the server's certificate checked against
    /// the system's roots, or those of `SSL_CERT_FILE`; ring is installed as the process's rustls
    /// crypto provider if none is), `redis+unix:///path` on Unix. Fails
    /// only for a URL it cannot use: an unreachable Redis is retried in the background.
    pub fn start(url: &str, channel: &str, relay: Relay) -> Result<RedisBridge> {
        RedisBridge::start_with(url, channel, move |message| relay.deliver_local(message))
    }

    /// Like [`start`](RedisBridge::start), with a delivery function of your own, called on the
    /// bridge's subscriber thread for each message from another instance (for example to send it
    /// to some clients only, through [`Handle`](crate::Handle)s). It must not block for long:
    /// while it runs, nothing else is received.
    pub fn start_with(
        url: &str,
        channel: &str,
        deliver: impl Fn(Message) + Send + 'static,
    ) -> Result<RedisBridge> {
        RedisBridge::start_with_config(url, channel, BridgeConfig::default(), deliver)
    }

    /// Like [`start_with`](RedisBridge::start_with), with limits of your own.
    pub fn start_with_config(
        url: &str,
        channel: &str,
        config: BridgeConfig,
        deliver: impl Fn(Message) + Send + 'static,
    ) -> Result<RedisBridge> {
        let client = open(url)?;
        // rediss:// builds its rustls client from the process's default crypto provider, which
        // rustls cannot choose by itself when a program's graph enables two: make it ring (this
        // crate's) unless the program has installed one.
        #[cfg(feature = "tls")]
        if url.starts_with("rediss:") {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let instance = RandomState::new().build_hasher().finish() ^ u64::from(std::process::id());
        let (outbox, inbox) = queue::bounded(config.max_queue_bytes);
        let stop = Arc::new(AtomicBool::new(false));
        let dropped_incoming = Arc::new(AtomicU64::new(0));
        let link = Arc::new(Link::new(client, redacted(url)));
        let spawn = |name: &str, body: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(body)
                .map(drop)
                .map_err(|source| Error::EventLoop {
                    context: "starting a redis bridge thread",
                    source,
                })
        };
        let publisher = Publisher {
            link: link.clone(),
            channel: channel.to_owned(),
            inbox,
            stop: stop.clone(),
        };
        spawn("redis-publish", Box::new(move || publisher.run()))?;
        let max_message_size = config.max_message_size;
        let dropped = dropped_incoming.clone();
        let subscriber = Subscriber {
            link,
            channel: channel.to_owned(),
            stop: stop.clone(),
            receive: Box::new(move |payload: &[u8]| {
                receive(payload, instance, max_message_size, &dropped, &deliver)
            }),
        };
        spawn("redis-subscribe", Box::new(move || subscriber.run()))?;
        Ok(RedisBridge {
            outbox,
            instance,
            max_message_size,
            stop,
            dropped_outgoing: AtomicU64::new(0),
            dropped_incoming,
        })
    }

    /// This instance's id, which tags what it publishes.
    pub fn instance_id(&self) -> u64 {
        self.instance
    }

    /// Messages not published: the queue was full, or the message was over the size limit.
    pub fn dropped_outgoing(&self) -> u64 {
        self.dropped_outgoing.load(Ordering::Relaxed)
    }

    /// Messages from the channel not delivered because they were over the size limit.
    pub fn dropped_incoming(&self) -> u64 {
        self.dropped_incoming.load(Ordering::Relaxed)
    }

    /// Stops both threads (within a quarter of a second; the subscriber may finish a delivery
    /// first). Dropping the bridge stops them too.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    fn drop_outgoing(&self, why: &str) {
        if self.dropped_outgoing.fetch_add(1, Ordering::Relaxed) == 0 {
            warn!("redis: dropping messages for other instances ({why}); further drops are logged at debug level");
        } else {
            debug!("redis: dropped a message for other instances ({why})");
        }
    }
}

impl Drop for RedisBridge {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Broker for RedisBridge {
    fn publish(&self, message: &Message) {
        let len = message.as_bytes().len();
        if len > self.max_message_size {
            self.drop_outgoing("a message over the size limit");
        } else if !self.outbox.has_room(HEADER + len)
            || !self.outbox.push(encode(self.instance, message))
        {
            self.drop_outgoing("the publish queue is full");
        }
    }
}

/// Checks a Redis URL as [`RedisBridge::start`] reads it, without connecting.
pub fn check_url(url: &str) -> Result<()> {
    open(url).map(drop)
}

fn open(url: &str) -> Result<redis::Client> {
    redis::Client::open(url).map_err(|err| {
        Error::Config(format!(
            "redis URL {:?}: {}",
            redacted(url),
            link::brief(&err)
        ))
    })
}

/// The URL without its user and password, for log lines and errors.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".into();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// A message from the channel: delivered unless it is ours, not one of ours, or too large.
fn receive(
    payload: &[u8],
    instance: u64,
    max_message_size: usize,
    dropped: &AtomicU64,
    deliver: &dyn Fn(Message),
) {
    if payload.len().saturating_sub(HEADER) > max_message_size {
        let n = dropped.fetch_add(1, Ordering::Relaxed);
        let len = payload.len() - HEADER;
        if n == 0 {
            warn!("redis: dropped a message of {len} bytes from the channel, over max_message_size ({max_message_size}); further drops are logged at debug level");
        } else {
            debug!("redis: dropped a message of {len} bytes from the channel");
        }
        return;
    }
    match decode(payload) {
        Some((from, _)) if from == instance => {}
        Some((from, message)) => {
            debug!("redis: delivered a message from instance {from:016x}");
            deliver(message)
        }
        None => debug!("redis: ignored a message not from a simple-ws-server relay"),
    }
}

/// The wire form of a relayed message: the instance id (8 bytes), `T` or `B`, the payload.
fn encode(instance: u64, message: &Message) -> Vec<u8> {
    let payload = message.as_bytes();
    let mut bytes = Vec::with_capacity(HEADER + payload.len());
    bytes.extend_from_slice(&instance.to_be_bytes());
    bytes.push(if message.is_text() { b'T' } else { b'B' });
    bytes.extend_from_slice(payload);
    bytes
}

/// The sender's id and the message, or `None` for something that is not one of ours.
fn decode(bytes: &[u8]) -> Option<(u64, Message)> {
    let (id, rest) = bytes.split_first_chunk::<8>()?;
    let (&kind, payload) = rest.split_first()?;
    let payload = Bytes::copy_from_slice(payload);
    let message = match kind {
        b'T' => Message::Text(Text::try_from(payload).ok()?),
        b'B' => Message::Binary(payload),
        _ => return None,
    };
    Some((u64::from_be_bytes(*id), message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_by_the_redis_crate_and_redacted_in_messages() {
        assert!(check_url("redis://127.0.0.1:6380/").is_ok());
        assert!(check_url("redis://:secret@[::1]/2").is_ok());
        assert!(check_url("redis://ann:p%40ss@example.com:7000").is_ok());
        assert!(check_url("http://127.0.0.1/").is_err());
        assert!(check_url("redis://host:port/").is_err());
        let err = check_url("redis://ann:secret@host:port/").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert_eq!(
            redacted("redis://ann:pw@example.com:7000/0"),
            "redis://***@example.com:7000/0"
        );
    }

    #[test]
    fn payloads_round_trip_and_reject_strangers() {
        let text = Message::from("127.0.0.1 - hello");
        let (id, back) = decode(&encode(42, &text)).unwrap();
        assert_eq!((id, back), (42, text));
        let binary = Message::Binary(Bytes::from_static(&[0xde, 0xad]));
        assert_eq!(decode(&encode(7, &binary)).unwrap().1, binary);
        assert!(decode(b"short").is_none());
        let mut bad_utf8 = encode(1, &Message::Binary(Bytes::from_static(&[0xff])));
        bad_utf8[8] = b'T';
        assert!(decode(&bad_utf8).is_none());
    }

    #[test]
    fn a_message_from_the_channel_over_the_size_limit_is_dropped_and_counted() {
        let dropped = AtomicU64::new(0);
        let got = std::sync::Mutex::new(Vec::new());
        let deliver = |m: Message| got.lock().unwrap().push(m);
        receive(
            &encode(1, &Message::from("x".repeat(11))),
            2,
            10,
            &dropped,
            &deliver,
        );
        receive(
            &encode(1, &Message::from("x".repeat(10))),
            2,
            10,
            &dropped,
            &deliver,
        );
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
        assert_eq!(got.lock().unwrap().len(), 1);
    }
}
