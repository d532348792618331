//! The bridge's two threads, one Redis connection each, and how they report an outage.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, info, warn};

use super::queue::QueueReceiver;
use super::topics::Hosted;

/// Commands written to Redis at once (one pipeline), their replies read after.
const PUBLISH_BATCH: usize = 256;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the threads look at the stop flag and at their connection while idle.
const TICK: Duration = Duration::from_millis(250);
/// How long the subscriber waits for a message before looking at the topics the instance
/// hosts: how late, at most, a topic's first subscriber is subscribed at Redis.
const TOPIC_TICK: Duration = Duration::from_millis(20);
/// Topic channels subscribed or unsubscribed by one command.
const SUBSCRIBE_BATCH: usize = 256;
/// A subscription silent this long is pinged; a ping not answered within `REPLY_TIMEOUT` ends
/// it. (The publisher pings at every idle tick.)
const KEEPALIVE: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Longest error text put in a log line: an error can quote what Redis answered.
const MAX_LOGGED: usize = 200;

/// An error as a short line: never a whole reply from Redis.
pub(super) fn brief(err: &redis::RedisError) -> String {
    let text = err.to_string();
    if text.len() <= MAX_LOGGED {
        return text;
    }
    let mut end = MAX_LOGGED;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

/// Whether the connection is unusable after `err` (else it was a refusal of one command).
fn is_fatal(err: &redis::RedisError) -> bool {
    err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_unrecoverable_error()
}

/// Where Redis is, and whether each connection is up; logs an outage once, and its end once.
pub(super) struct Link {
    client: redis::Client,
    /// The URL without credentials.
    shown: String,
    /// Publisher, subscriber.
    up: [AtomicBool; 2],
    outage: AtomicBool,
}

const PUBLISHER: usize = 0;
const SUBSCRIBER: usize = 1;

impl Link {
    pub(super) fn new(client: redis::Client, shown: String) -> Link {
        Link {
            client,
            shown,
            up: [AtomicBool::new(false), AtomicBool::new(false)],
            outage: AtomicBool::new(false),
        }
    }

    /// A connection (authenticated when the URL has a password) with our timeouts.
    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let conn = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        conn.set_read_timeout(Some(REPLY_TIMEOUT))?;
        conn.set_write_timeout(Some(REPLY_TIMEOUT))?;
        Ok(conn)
    }

    fn failed(&self, side: usize, err: &redis::RedisError) {
        self.up[side].store(false, Ordering::Release);
        if !self.outage.swap(true, Ordering::AcqRel) {
            warn!(
                "redis: {} unreachable ({}); chat goes on locally, reconnecting in the background",
                self.shown,
                brief(err)
            );
        } else {
            debug!("redis: {} still unreachable: {}", self.shown, brief(err));
        }
    }

    fn connected(&self, side: usize) {
        self.up[side].store(true, Ordering::Release);
        let both = self.up.iter().all(|up| up.load(Ordering::Acquire));
        if both && self.outage.swap(false, Ordering::AcqRel) {
            info!(
                "redis: {} reachable again; relaying between instances resumes",
                self.shown
            );
        }
    }
}

/// Sleeps `backoff` in ticks, returning early (with `false`) when stopped.
fn pause(backoff: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + backoff;
    while Instant::now() < until {
        if stop.load(Ordering::Acquire) {
            return false;
        }
        std::thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
    }
    !stop.load(Ordering::Acquire)
}

pub(super) struct Publisher {
    pub(super) link: Arc<Link>,
    pub(super) channel: String,
    pub(super) inbox: QueueReceiver,
    pub(super) stop: Arc<AtomicBool>,
}

impl Publisher {
    pub(super) fn run(self) {
        let mut backoff = BACKOFF_MIN;
        // A batch that failed on a connection Redis had already closed (a restart noticed first
        // by the subscriber): sent again once, on the next connection, rather than lost.
        let mut pending: Option<redis::Pipeline> = None;
        while !self.stop.load(Ordering::Acquire) {
            let err = match self.link.connect() {
                Ok(mut conn) => {
                    self.link.connected(PUBLISHER);
                    backoff = BACKOFF_MIN;
                    let retried = match pending.take() {
                        Some(pipe) => pipe.query::<()>(&mut conn),
                        None => Ok(()),
                    };
                    match retried.and_then(|()| self.serve(&mut conn, &mut pending)) {
                        Ok(()) => return,
                        Err(err) => err,
                    }
                }
                Err(err) => {
                    pending = None;
                    err
                }
            };
            self.link.failed(PUBLISHER, &err);
            // What is published during an outage is lost, as Redis pub/sub would lose it.
            loop {
                match self.inbox.try_recv() {
                    Ok(_) => continue,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            if !pause(backoff, &self.stop) {
                return;
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Publishes until the connection fails (`Err`, the batch it failed on left in `failed`) or
    /// the bridge is dropped or stopped (`Ok`).
    fn serve(
        &self,
        conn: &mut redis::Connection,
        failed: &mut Option<redis::Pipeline>,
    ) -> redis::RedisResult<()> {
        loop {
            let first = match self.inbox.recv_timeout(TICK) {
                Ok(payload) => payload,
                Err(RecvTimeoutError::Timeout) => {
                    if self.stop.load(Ordering::Acquire) {
                        return Ok(());
                    }
                    // Notice a dead Redis while idle (within a tick, as the subscriber does), not
                    // with the next message, which would be lost on the dead connection.
                    redis::cmd("PING").query::<redis::Value>(conn)?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            let mut pipe = redis::pipe();
            let mut add = |(channel, payload): (Option<String>, Vec<u8>)| {
                let channel = channel.as_deref().unwrap_or(&self.channel);
                pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
            };
            add(first);
            for _ in 1..PUBLISH_BATCH {
                match self.inbox.try_recv() {
                    Ok(item) => add(item),
                    Err(_) => break,
                }
            }
            match pipe.query::<()>(conn) {
                Ok(()) => {}
                Err(err) if is_fatal(&err) => {
                    // A timeout leaves it unknown whether Redis took the batch: not sent twice.
                    if !err.is_timeout() {
                        *failed = Some(pipe);
                    }
                    return Err(err);
                }
                Err(err) => warn!("redis: PUBLISH failed: {}", brief(&err)),
            }
        }
    }
}

/// What the subscriber does with each message: its channel and its payload.
pub(super) type Receive = Box<dyn Fn(&str, &[u8]) + Send>;

pub(super) struct Subscriber {
    pub(super) link: Arc<Link>,
    pub(super) channel: String,
    pub(super) stop: Arc<AtomicBool>,
    /// Called with each message's channel and payload.
    pub(super) receive: Receive,
    /// The topics to follow, one channel each (`None`: no topics).
    pub(super) hosted: Option<Arc<Hosted>>,
}

impl Subscriber {
    pub(super) fn run(self) {
        let mut backoff = BACKOFF_MIN;
        while !self.stop.load(Ordering::Acquire) {
            let result = self
                .link
                .connect()
                .and_then(|mut conn| self.serve(&mut conn, &mut backoff));
            match result {
                Ok(()) => return,
                Err(err) => self.link.failed(SUBSCRIBER, &err),
            }
            if !pause(backoff, &self.stop) {
                return;
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Subscribes and delivers until the connection fails (`Err`) or the bridge stops (`Ok`).
    fn serve(
        &self,
        conn: &mut redis::Connection,
        backoff: &mut Duration,
    ) -> redis::RedisResult<()> {
        let mut pubsub = conn.as_pubsub();
        pubsub.subscribe(&self.channel)?;
        // After a reconnect, every topic hosted now.
        let mut subscribed = HashSet::new();
        if let Some(hosted) = &self.hosted {
            let all = hosted.all();
            for chunk in all.chunks(SUBSCRIBE_BATCH) {
                let channels: Vec<String> = chunk.iter().map(|t| hosted.channel(t)).collect();
                pubsub.subscribe(channels)?;
            }
            subscribed.extend(all);
        }
        info!(
            "redis: subscribed to {:?} and {} topic channels on {}",
            self.channel,
            subscribed.len(),
            self.link.shown
        );
        self.link.connected(SUBSCRIBER);
        *backoff = BACKOFF_MIN;
        let tick = if self.hosted.is_some() {
            TOPIC_TICK
        } else {
            TICK
        };
        pubsub.set_read_timeout(Some(tick))?;
        let mut heard = Instant::now();
        loop {
            match pubsub.get_message() {
                Ok(message) => {
                    heard = Instant::now();
                    (self.receive)(message.get_channel_name(), message.get_payload_bytes());
                }
                Err(err) if err.is_timeout() => {
                    if self.stop.load(Ordering::Acquire) {
                        return Ok(());
                    }
                    if heard.elapsed() >= KEEPALIVE {
                        pubsub.set_read_timeout(Some(REPLY_TIMEOUT))?;
                        pubsub.ping::<redis::Value>()?;
                        pubsub.set_read_timeout(Some(tick))?;
                        heard = Instant::now();
                    }
                }
                Err(err) => return Err(err),
            }
            if let Some(hosted) = &self.hosted {
                follow(&mut pubsub, hosted, &mut subscribed, tick)?;
            }
        }
    }
}

/// Subscribes to the topics the instance has started hosting, unsubscribes from those it has
/// stopped hosting.
fn follow(
    pubsub: &mut redis::PubSub<'_>,
    hosted: &Hosted,
    subscribed: &mut HashSet<String>,
    tick: Duration,
) -> redis::RedisResult<()> {
    let changes = hosted.changes();
    if changes.is_empty() {
        return Ok(());
    }
    let (mut add, mut drop) = (Vec::new(), Vec::new());
    for (topic, wanted) in changes {
        if wanted && !subscribed.contains(&topic) {
            add.push(hosted.channel(&topic));
            subscribed.insert(topic);
        } else if !wanted && subscribed.remove(&topic) {
            drop.push(hosted.channel(&topic));
        }
    }
    pubsub.set_read_timeout(Some(REPLY_TIMEOUT))?;
    for chunk in add.chunks(SUBSCRIBE_BATCH) {
        pubsub.subscribe(chunk)?;
        debug!("redis: subscribed to {} topic channels", chunk.len());
    }
    for chunk in drop.chunks(SUBSCRIBE_BATCH) {
        pubsub.unsubscribe(chunk)?;
        debug!("redis: unsubscribed from {} topic channels", chunk.len());
    }
    pubsub.set_read_timeout(Some(tick))
}
