//! A [`Broker`] over Redis pub/sub: two threads with one Redis connection each, off the loops.
//!
//! Redis is spoken through the `redis` crate's blocking client (its URL parsing, `AUTH`,
//! pub/sub and timeouts; `rediss://` when the `tls` feature is on too). What is ours: the
//! threads, the reconnection with its backoff, the byte-bounded publish queue, the size limit on
//! what comes from the channel, and the instance tag that keeps an instance from hearing itself.

mod link;
mod queue;
mod topics;
mod wire;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use log::{debug, warn};

use crate::error::{Error, Result};
use crate::message::Message;
use crate::relay::{Broker, Relay};
use link::{Link, Publisher, Subscriber};
use queue::QueueSender;
use topics::Hosted;
use wire::{encode, receive, HEADER};

/// The channel the chat example publishes on.
pub const DEFAULT_CHANNEL: &str = "simple-ws-server:chat";

/// The default start of topic channels: topic `lobby` is carried on
/// `simple-ws-server:topic:lobby`.
pub const DEFAULT_TOPIC_PREFIX: &str = "simple-ws-server";

/// Delivers a topic message from another instance.
type DeliverTopic = Box<dyn Fn(&str, Message) + Send>;

/// The limits of a [`RedisBridge`], each with a safe default.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    max_message_size: usize,
    max_queue_bytes: usize,
    topic_prefix: String,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            max_message_size: 1 << 20,
            max_queue_bytes: 16 << 20,
            topic_prefix: DEFAULT_TOPIC_PREFIX.into(),
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

    /// The start of topic channels: topic `T` is carried on `<prefix>:topic:T`. Instances that
    /// should share topics use the same prefix. Default: `simple-ws-server`.
    pub fn topic_prefix(mut self, prefix: &str) -> Self {
        self.topic_prefix = prefix.to_owned();
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
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message) {
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
    /// The topics this instance hosts (`None`: a bridge without topics).
    hosted: Option<Arc<Hosted>>,
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
    ///
    /// Topics ([`Broker::publish_topic`]) travel too, each on a channel of its own that this
    /// instance subscribes to only while it hosts the topic (see [`start_with_relay`](Self::start_with_relay)).
    pub fn start(url: &str, channel: &str, relay: Relay) -> Result<RedisBridge> {
        RedisBridge::start_with_relay(url, channel, BridgeConfig::default(), relay)
    }

    /// Like [`start`](RedisBridge::start), with limits of your own: what other instances
    /// publish is delivered to every loop of `relay`, plain messages with
    /// [`Relay::deliver_local`] and topic messages with [`Relay::deliver_topic_local`].
    ///
    /// Topics: topic `T` is carried on the channel `<prefix>:topic:T` (see
    /// [`BridgeConfig::topic_prefix`]). The relay tells the bridge when this instance gets its
    /// first subscriber of a topic (over all its loops) and when its last one leaves; the
    /// bridge's subscriber thread then sends `SUBSCRIBE` or `UNSUBSCRIBE` (within 20 ms), so an
    /// instance receives no traffic for topics it does not host. After an outage every hosted
    /// topic is subscribed again. Give the bridge to the relay with [`Relay::with_broker`].
    pub fn start_with_relay(
        url: &str,
        channel: &str,
        config: BridgeConfig,
        relay: Relay,
    ) -> Result<RedisBridge> {
        let local = relay.clone();
        let deliver_topic: DeliverTopic =
            Box::new(move |topic, message| local.deliver_topic_local(topic, message));
        RedisBridge::launch(
            url,
            channel,
            config,
            Box::new(move |message| relay.deliver_local(message)),
            Some(deliver_topic),
        )
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

    /// Like [`start_with`](RedisBridge::start_with), with limits of your own. A bridge started
    /// this way carries no topics (use [`start_with_relay`](Self::start_with_relay)).
    pub fn start_with_config(
        url: &str,
        channel: &str,
        config: BridgeConfig,
        deliver: impl Fn(Message) + Send + 'static,
    ) -> Result<RedisBridge> {
        RedisBridge::launch(url, channel, config, Box::new(deliver), None)
    }

    fn launch(
        url: &str,
        channel: &str,
        config: BridgeConfig,
        deliver: Box<dyn Fn(Message) + Send>,
        deliver_topic: Option<DeliverTopic>,
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
        let hosted = deliver_topic
            .as_ref()
            .map(|_| Arc::new(Hosted::new(&config.topic_prefix)));
        let topics = hosted.clone();
        let subscriber = Subscriber {
            link,
            channel: channel.to_owned(),
            stop: stop.clone(),
            receive: Box::new(move |from: &str, payload: &[u8]| {
                let topic = topics.as_ref().and_then(|hosted| hosted.topic_of(from));
                match (topic, &deliver_topic) {
                    (Some(topic), Some(deliver_topic)) => {
                        receive(payload, instance, max_message_size, &dropped, &|message| {
                            deliver_topic(topic, message)
                        })
                    }
                    _ => receive(payload, instance, max_message_size, &dropped, &deliver),
                }
            }),
            hosted: hosted.clone(),
        };
        spawn("redis-subscribe", Box::new(move || subscriber.run()))?;
        Ok(RedisBridge {
            outbox,
            instance,
            max_message_size,
            stop,
            dropped_outgoing: AtomicU64::new(0),
            dropped_incoming,
            hosted,
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

    /// How many topics this instance hosts now, i.e. how many topic channels the bridge
    /// subscribes to (or will, within 20 ms, or after an outage).
    pub fn hosted_topics(&self) -> usize {
        self.hosted.as_ref().map_or(0, |hosted| hosted.len())
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

impl RedisBridge {
    fn queue(&self, channel: Option<String>, message: &Message) {
        let len = message.as_bytes().len();
        let channel_len = channel.as_ref().map_or(0, String::len);
        if len > self.max_message_size {
            self.drop_outgoing("a message over the size limit");
        } else if !self.outbox.has_room(HEADER + len + channel_len)
            || !self.outbox.push((channel, encode(self.instance, message)))
        {
            self.drop_outgoing("the publish queue is full");
        }
    }
}

impl Broker for RedisBridge {
    fn publish(&self, message: &Message) {
        self.queue(None, message);
    }

    /// Published on the topic's channel (every instance hosting the topic receives it).
    fn publish_topic(&self, topic: &str, message: &Message) {
        if let Some(hosted) = &self.hosted {
            self.queue(Some(hosted.channel(topic)), message);
        }
    }

    fn subscribe_topic(&self, topic: &str) {
        if let Some(hosted) = &self.hosted {
            hosted.set(topic, true);
        }
    }

    fn unsubscribe_topic(&self, topic: &str) {
        if let Some(hosted) = &self.hosted {
            hosted.set(topic, false);
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
}
