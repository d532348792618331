//! A [`Broker`] over Redis pub/sub: two threads with one Redis connection each, off the loops.
//!
//! The client is a minimal RESP2 client over `std::net::TcpStream` (`AUTH`, `PUBLISH`,
//! `SUBSCRIBE`, `PING`): all the bridge needs, with its timeouts and reconnection in plain sight.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, info, warn};

use crate::error::{Error, Result};
use crate::message::Message;
use crate::relay::{Broker, Relay};
use bytes::Bytes;

use crate::text::Text;

/// The channel the chat example publishes on.
pub const DEFAULT_CHANNEL: &str = "simple-ws-server:chat";

/// Messages queued for publishing before new ones are dropped.
const PUBLISH_QUEUE: usize = 8192;
/// Commands written to Redis at once, their replies read after.
const PUBLISH_BATCH: usize = 256;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a reply may take once Redis has started sending it.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the threads look at the stop flag and at their connection while idle.
const TICK: Duration = Duration::from_millis(250);
/// A subscription silent this long is pinged; one silent twice as long is reconnected.
const KEEPALIVE: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Largest bulk string accepted from Redis.
const MAX_BULK: usize = 256 << 20;

/// Connects server instances through Redis pub/sub.
///
/// Every message handed to it (as a [`Broker`], through a [`Relay`]) is published on one Redis
/// channel, tagged with this instance's random id; every message received on that channel from
/// another instance is handed to a delivery function, by default [`Relay::deliver_local`] (to
/// every client of every loop). An instance skips its own messages, so none is delivered twice.
///
/// Redis is reached from two threads of the bridge's own, one publishing and one subscribed;
/// a loop only ever pushes onto a bounded queue, so it never waits for Redis. When Redis goes
/// away the outage is logged once, messages published meanwhile are dropped (Redis pub/sub keeps
/// nothing either), both threads reconnect with a backoff from 100 ms to 2 s, and relaying
/// resumes by itself.
///
/// ```no_run
/// use std::sync::Arc;
/// use simple_ws_server::{examples::RelayChat, redis_bridge, Cluster, Config, RedisBridge, Relay};
///
/// let cluster = Cluster::bind("[::]:8000", Config::default(), 2)?;
/// let relay = Relay::new(cluster.handles());
/// let bridge = RedisBridge::start("redis://127.0.0.1:6379/", redis_bridge::DEFAULT_CHANNEL, relay.clone())?;
/// let relay = relay.with_broker(Arc::new(bridge));
/// cluster.run(|index| RelayChat::new(relay.for_loop(index)))?;
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
#[derive(Debug)]
pub struct RedisBridge {
    outbox: SyncSender<Vec<u8>>,
    instance: u64,
    stop: Arc<AtomicBool>,
    dropped: AtomicU64,
}

impl RedisBridge {
    /// Starts the bridge's threads for `url` (`redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`; the
    /// database number does not matter to pub/sub) and `channel`, delivering what other instances
    /// publish with [`Relay::deliver_local`]. Fails only for a malformed URL: an unreachable Redis
    /// is retried in the background.
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
        let target = Target::parse(url)?;
        let instance = RandomState::new().build_hasher().finish() ^ u64::from(std::process::id());
        let (outbox, inbox) = std::sync::mpsc::sync_channel(PUBLISH_QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let link = Arc::new(Link {
            up: [AtomicBool::new(false), AtomicBool::new(false)],
            outage: AtomicBool::new(false),
            target: target.clone(),
        });
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
            channel: channel.as_bytes().to_vec(),
            inbox,
            stop: stop.clone(),
        };
        spawn("redis-publish", Box::new(move || publisher.run()))?;
        let subscriber = Subscriber {
            link,
            channel: channel.to_owned(),
            instance,
            stop: stop.clone(),
            deliver: Box::new(deliver),
        };
        spawn("redis-subscribe", Box::new(move || subscriber.run()))?;
        Ok(RedisBridge {
            outbox,
            instance,
            stop,
            dropped: AtomicU64::new(0),
        })
    }

    /// This instance's id, which tags what it publishes.
    pub fn instance_id(&self) -> u64 {
        self.instance
    }

    /// Stops both threads (within a quarter of a second; the subscriber may finish a delivery
    /// first). Dropping the bridge stops them too.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl Drop for RedisBridge {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Broker for RedisBridge {
    fn publish(&self, message: &Message) {
        match self.outbox.try_send(encode(self.instance, message)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    warn!("redis: the publish queue is full, dropping messages for other instances; further drops are logged at debug level");
                } else {
                    debug!("redis: dropped a message for other instances");
                }
            }
        }
    }
}

/// Checks a Redis URL as [`RedisBridge::start`] reads it, without connecting.
pub fn check_url(url: &str) -> Result<()> {
    Target::parse(url).map(drop)
}

/// The wire form of a relayed message: the instance id (8 bytes), `T` or `B`, the payload.
fn encode(instance: u64, message: &Message) -> Vec<u8> {
    let payload = message.as_bytes();
    let mut bytes = Vec::with_capacity(9 + payload.len());
    bytes.extend_from_slice(&instance.to_be_bytes());
    bytes.push(if message.is_text() { b'T' } else { b'B' });
    bytes.extend_from_slice(payload);
    bytes
}

/// The sender's id and the message, or `None` for something that is not one of ours.
fn decode(bytes: Vec<u8>) -> Option<(u64, Message)> {
    if bytes.len() < 9 {
        return None;
    }
    let instance = u64::from_be_bytes(bytes[..8].try_into().ok()?);
    let kind = bytes[8];
    let payload = Bytes::from(bytes).slice(9..);
    let message = match kind {
        b'T' => Message::Text(Text::try_from(payload).ok()?),
        b'B' => Message::Binary(payload),
        _ => return None,
    };
    Some((instance, message))
}

/// Where Redis is.
#[derive(Clone, Debug)]
struct Target {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
}

impl Target {
    fn parse(url: &str) -> Result<Target> {
        let bad = |why: &str| Error::Config(format!("redis URL {url:?}: {why}"));
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| bad("must start with redis://"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(info) => match info.split_once(':') {
                Some((user, pass)) => (
                    Some(user.to_owned()).filter(|u| !u.is_empty()),
                    Some(pass.to_owned()),
                ),
                None => (Some(info.to_owned()), None),
            },
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None | Some("") => 6379,
            Some(port) => port.parse().map_err(|_| bad("bad port"))?,
        };
        Ok(Target {
            host: host.to_owned(),
            port,
            username,
            password,
        })
    }

    /// A connection, authenticated when the URL has a password.
    fn connect(&self) -> io::Result<Resp> {
        let mut last = io::Error::new(ErrorKind::NotFound, "no address");
        for addr in (self.host.as_str(), self.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_write_timeout(Some(REPLY_TIMEOUT))?;
                    stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
                    let mut conn = Resp::new(stream);
                    if let Some(password) = &self.password {
                        let mut args: Vec<&[u8]> = vec![b"AUTH"];
                        if let Some(user) = &self.username {
                            args.push(user.as_bytes());
                        }
                        args.push(password.as_bytes());
                        conn.send(&[command(&args)])?;
                        conn.expect_ok()?;
                    }
                    return Ok(conn);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redis://{}:{}/", self.host, self.port)
    }
}

/// Whether each connection is up; logs an outage once, and its end once.
struct Link {
    /// Publisher, subscriber.
    up: [AtomicBool; 2],
    outage: AtomicBool,
    target: Target,
}

const PUBLISHER: usize = 0;
const SUBSCRIBER: usize = 1;

impl Link {
    fn failed(&self, side: usize, err: &io::Error) {
        self.up[side].store(false, Ordering::Release);
        if !self.outage.swap(true, Ordering::AcqRel) {
            warn!(
                "redis: {} unreachable ({err}); chat goes on locally, reconnecting in the background",
                self.target
            );
        } else {
            debug!("redis: {} still unreachable: {err}", self.target);
        }
    }

    fn connected(&self, side: usize) {
        self.up[side].store(true, Ordering::Release);
        let both = self.up.iter().all(|up| up.load(Ordering::Acquire));
        if both && self.outage.swap(false, Ordering::AcqRel) {
            info!(
                "redis: {} reachable again; relaying between instances resumes",
                self.target
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

struct Publisher {
    link: Arc<Link>,
    channel: Vec<u8>,
    inbox: Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
}

impl Publisher {
    fn run(self) {
        let mut backoff = BACKOFF_MIN;
        while !self.stop.load(Ordering::Acquire) {
            let err = match self.link.target.connect() {
                Ok(mut conn) => {
                    self.link.connected(PUBLISHER);
                    backoff = BACKOFF_MIN;
                    match self.serve(&mut conn) {
                        Ok(()) => return,
                        Err(err) => err,
                    }
                }
                Err(err) => err,
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

    /// Publishes until the connection fails (`Err`) or the bridge is dropped or stopped (`Ok`).
    fn serve(&self, conn: &mut Resp) -> io::Result<()> {
        let mut batch = Vec::with_capacity(PUBLISH_BATCH);
        loop {
            match self.inbox.recv_timeout(TICK) {
                Ok(payload) => batch.push(payload),
                Err(RecvTimeoutError::Timeout) => {
                    if self.stop.load(Ordering::Acquire) {
                        return Ok(());
                    }
                    // Notice a dead Redis now, not with the next message.
                    conn.check_alive()?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            while batch.len() < PUBLISH_BATCH {
                match self.inbox.try_recv() {
                    Ok(payload) => batch.push(payload),
                    Err(_) => break,
                }
            }
            let commands: Vec<Vec<u8>> = batch
                .drain(..)
                .map(|payload| command(&[b"PUBLISH", &self.channel, &payload]))
                .collect();
            conn.send(&commands)?;
            for _ in 0..commands.len() {
                match conn.read()? {
                    Value::Int(_) => {}
                    Value::Error(err) => warn!("redis: PUBLISH failed: {err}"),
                    other => return Err(unexpected(&other)),
                }
            }
        }
    }
}

struct Subscriber {
    link: Arc<Link>,
    channel: String,
    instance: u64,
    stop: Arc<AtomicBool>,
    deliver: Box<dyn Fn(Message) + Send>,
}

impl Subscriber {
    fn run(self) {
        let mut backoff = BACKOFF_MIN;
        while !self.stop.load(Ordering::Acquire) {
            let result = self
                .link
                .target
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
    fn serve(&self, conn: &mut Resp, backoff: &mut Duration) -> io::Result<()> {
        conn.send(&[command(&[b"SUBSCRIBE", self.channel.as_bytes()])])?;
        match conn.read()? {
            Value::Array(items) if matches!(items.first(), Some(Value::Bulk(kind)) if kind == b"subscribe") =>
                {}
            other => return Err(unexpected(&other)),
        }
        info!(
            "redis: subscribed to {:?} on {}",
            self.channel, self.link.target
        );
        self.link.connected(SUBSCRIBER);
        *backoff = BACKOFF_MIN;
        let mut heard = Instant::now();
        let mut pinged = false;
        loop {
            if !conn.wait_readable(TICK)? {
                if self.stop.load(Ordering::Acquire) {
                    return Ok(());
                }
                let silent = heard.elapsed();
                if silent >= KEEPALIVE * 2 {
                    return Err(io::Error::new(ErrorKind::TimedOut, "no answer to a PING"));
                }
                if silent >= KEEPALIVE && !pinged {
                    conn.send(&[command(&[b"PING"])])?;
                    pinged = true;
                }
                continue;
            }
            let value = conn.read()?;
            heard = Instant::now();
            pinged = false;
            let Value::Array(mut items) = value else {
                return Err(unexpected(&value));
            };
            let is_message = matches!(items.first(), Some(Value::Bulk(kind)) if kind == b"message");
            if !is_message || items.len() != 3 {
                continue; // a pong, or a (un)subscribe confirmation
            }
            let Some(Value::Bulk(payload)) = items.pop() else {
                continue;
            };
            match decode(payload) {
                Some((instance, _)) if instance == self.instance => {}
                Some((instance, message)) => {
                    debug!("redis: delivered a message from instance {instance:016x}");
                    (self.deliver)(message)
                }
                None => debug!("redis: ignored a message not from a simple-ws-server relay"),
            }
        }
    }
}

fn unexpected(value: &Value) -> io::Error {
    io::Error::new(
        ErrorKind::InvalidData,
        format!("unexpected answer from redis: {value:?}"),
    )
}

/// A RESP2 command: an array of bulk strings.
fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A RESP2 value.
#[derive(Debug, PartialEq)]
enum Value {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Value>),
}

/// One connection: commands out, values in.
struct Resp {
    reader: BufReader<TcpStream>,
    /// The read timeout set now: `TICK` while waiting for a value, `REPLY_TIMEOUT` inside one.
    waiting: bool,
}

impl Resp {
    fn new(stream: TcpStream) -> Resp {
        Resp {
            reader: BufReader::with_capacity(64 << 10, stream),
            waiting: false,
        }
    }

    fn send(&mut self, commands: &[Vec<u8>]) -> io::Result<()> {
        let stream = self.reader.get_mut();
        if let [one] = commands {
            return stream.write_all(one);
        }
        stream.write_all(&commands.concat())
    }

    fn expect_ok(&mut self) -> io::Result<()> {
        match self.read()? {
            Value::Simple(_) => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Waits up to `tick` for the start of a value; `false` when none came.
    fn wait_readable(&mut self, tick: Duration) -> io::Result<bool> {
        if !self.reader.buffer().is_empty() {
            return Ok(true);
        }
        if !self.waiting {
            self.reader.get_ref().set_read_timeout(Some(tick))?;
            self.waiting = true;
        }
        let ready = match self.reader.fill_buf() {
            Ok([]) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(_) => true,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
            Err(e) if e.kind() == ErrorKind::Interrupted => false,
            Err(e) => return Err(e),
        };
        if ready {
            self.reader
                .get_ref()
                .set_read_timeout(Some(REPLY_TIMEOUT))?;
            self.waiting = false;
        }
        Ok(ready)
    }

    /// Fails when Redis has closed the connection (checked without blocking).
    fn check_alive(&mut self) -> io::Result<()> {
        if !self.reader.buffer().is_empty() {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "unexpected data from redis",
            ));
        }
        let stream = self.reader.get_ref();
        stream.set_nonblocking(true)?;
        let peeked = stream.peek(&mut [0u8; 1]);
        stream.set_nonblocking(false)?;
        match peeked {
            Ok(0) => Err(ErrorKind::UnexpectedEof.into()),
            Ok(_) => Err(io::Error::new(
                ErrorKind::InvalidData,
                "unexpected data from redis",
            )),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        (&mut self.reader)
            .take(64 << 10)
            .read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\r\n") {
            return Err(match line.is_empty() {
                true => ErrorKind::UnexpectedEof.into(),
                false => io::Error::new(ErrorKind::InvalidData, "a RESP line without CRLF"),
            });
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }

    fn number(line: &[u8]) -> io::Result<i64> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "a bad RESP number"))
    }

    fn read(&mut self) -> io::Result<Value> {
        self.read_depth(0)
    }

    fn read_depth(&mut self, depth: usize) -> io::Result<Value> {
        if depth > 8 {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "RESP nested too deep",
            ));
        }
        let line = self.line()?;
        let (&kind, rest) = line
            .split_first()
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "an empty RESP line"))?;
        let text = || String::from_utf8_lossy(rest).into_owned();
        Ok(match kind {
            b'+' => Value::Simple(text()),
            b'-' => Value::Error(text()),
            b':' => Value::Int(Resp::number(rest)?),
            b'$' => {
                let len = Resp::number(rest)?;
                if len < 0 {
                    return Ok(Value::Nil);
                }
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                if len > MAX_BULK {
                    return Err(io::Error::new(
                        ErrorKind::InvalidData,
                        "a RESP string too large",
                    ));
                }
                let mut bytes = vec![0; len + 2];
                self.reader.read_exact(&mut bytes)?;
                if !bytes.ends_with(b"\r\n") {
                    return Err(io::Error::new(
                        ErrorKind::InvalidData,
                        "a RESP string without CRLF",
                    ));
                }
                bytes.truncate(len);
                Value::Bulk(bytes)
            }
            b'*' => {
                let len = Resp::number(rest)?;
                if len < 0 {
                    return Ok(Value::Nil);
                }
                let len = usize::try_from(len).unwrap_or(usize::MAX).min(1 << 20);
                let mut items = Vec::with_capacity(len.min(16));
                for _ in 0..len {
                    items.push(self.read_depth(depth + 1)?);
                }
                Value::Array(items)
            }
            _ => {
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    "an unknown RESP type",
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("redis://127.0.0.1:6380/").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.password),
            ("127.0.0.1", 6380, None)
        );
        let t = Target::parse("redis://:secret@[::1]/2").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 6379));
        assert_eq!((t.username, t.password.as_deref()), (None, Some("secret")));
        let t = Target::parse("redis://ann:pw@example.com:7000").unwrap();
        assert_eq!(t.username.as_deref(), Some("ann"));
        assert!(Target::parse("http://127.0.0.1/").is_err());
        assert!(Target::parse("redis://:6379/").is_err());
        assert!(Target::parse("redis://host:port/").is_err());
    }

    #[test]
    fn payloads_round_trip_and_reject_strangers() {
        let text = Message::from("127.0.0.1 - hello");
        let (id, back) = decode(encode(42, &text)).unwrap();
        assert_eq!((id, back), (42, text));
        let binary = Message::Binary(Bytes::from_static(&[0xde, 0xad]));
        assert_eq!(decode(encode(7, &binary)).unwrap().1, binary);
        assert!(decode(b"short".to_vec()).is_none());
        let mut bad_utf8 = encode(1, &Message::Binary(Bytes::from_static(&[0xff])));
        bad_utf8[8] = b'T';
        assert!(decode(bad_utf8).is_none());
    }

    #[test]
    fn resp_values_parse() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(
                b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\na\r\nbc\r\n:12\r\n-ERR no\r\n$-1\r\n",
            )
            .unwrap();
        });
        let mut conn = Resp::new(TcpStream::connect(addr).unwrap());
        assert_eq!(
            conn.read().unwrap(),
            Value::Array(vec![
                Value::Bulk(b"message".to_vec()),
                Value::Bulk(b"ch".to_vec()),
                Value::Bulk(b"a\r\nbc".to_vec()),
            ])
        );
        assert_eq!(conn.read().unwrap(), Value::Int(12));
        assert_eq!(conn.read().unwrap(), Value::Error("ERR no".into()));
        assert_eq!(conn.read().unwrap(), Value::Nil);
        writer.join().unwrap();
        assert_eq!(
            command(&[b"PUBLISH", b"c", b"x y"]),
            b"*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$3\r\nx y\r\n"
        );
    }
}
