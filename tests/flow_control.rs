//! Flow control (issue 11): a client that reads, however slowly, never loses a message; one that
//! never reads is closed after the stall timeout; the `drop` and `close` policies do what they
//! say; `on_drain` tells a streaming handler when to go on.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use simple_ws_server::{Backpressure, ClientContext, Config, Handler, Message as ServerMessage};
use tungstenite::Message;

const BIG: usize = 65_000;

/// A 65 KB chat line numbered `i`.
fn numbered(i: usize) -> String {
    let mut text = format!("{i:05} ");
    text.extend(std::iter::repeat_n('x', BIG - text.len()));
    text
}

/// Reads chat lines from `client`, sleeping `pause` after each, until `count` numbered lines have
/// come, checking their order; join and leave notices are skipped.
fn read_numbered(client: &mut Client, count: usize, pause: Duration) {
    let mut expected = 0;
    while expected < count {
        let text = recv_text(client);
        let body = text.strip_prefix("127.0.0.1 - ").expect("a chat line");
        if body == "connected" || body == "disconnected" {
            continue;
        }
        assert_eq!(body.len(), BIG, "message {expected}");
        assert_eq!(&body[..6], format!("{expected:05} "), "in order");
        expected += 1;
        std::thread::sleep(pause);
    }
}

/// Reads every frame a raw client was sent until the connection ends: the close frame's code and
/// reason, if one came.
fn close_frame_of(stream: &mut TcpStream) -> Option<(u16, String)> {
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut reader = std::io::BufReader::with_capacity(1 << 20, stream);
    loop {
        let mut head = [0u8; 2];
        reader.read_exact(&mut head).ok()?;
        let len = match head[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                reader.read_exact(&mut b).ok()?;
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                reader.read_exact(&mut b).ok()?;
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0; len as usize];
        reader.read_exact(&mut payload).ok()?;
        if head[0] & 0x0f == 8 && payload.len() >= 2 {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            return Some((code, String::from_utf8_lossy(&payload[2..]).into_owned()));
        }
    }
}

/// Regression (issue 11, scenario 1): in chat, a client reading slowly but steadily while
/// another sends 65 KB messages at full speed was closed with 1008 ("too slow: backlog limit
/// reached") after about 33 messages, losing the rest. Now the sender is paced and the reader
/// gets every message.
#[test]
fn a_slow_but_steady_reader_in_chat_gets_every_message() {
    const COUNT: usize = 300; // 19.5 MB, ten times the backlog limit
    let server = Binary::start(&["--example", "chat"]);
    let mut reader = connect(server.addr);
    let mut sender = connect(server.addr);
    let sending = std::thread::spawn(move || {
        for i in 0..COUNT {
            sender.send(Message::text(numbered(i))).expect("send");
        }
        sender
    });
    // About 30 MB/s at most: slower than the sender on loopback.
    read_numbered(&mut reader, COUNT, Duration::from_millis(2));
    let mut sender = sending
        .join()
        .expect("the sender was never blocked for 10 s");
    // Both are still connected: the reader can talk, and the sender hears it.
    reader.send(Message::text("thanks")).unwrap();
    assert_eq!(recv_text(&mut sender), "127.0.0.1 - thanks");
}

/// In chat under pace, a client that never reads holds the sender only for the stall timeout:
/// it is closed with 1008 ("no progress"), and a healthy reader gets everything.
#[test]
fn a_reader_that_never_reads_is_closed_after_the_stall_timeout() {
    const COUNT: usize = 200;
    let server = Binary::start(&["--example", "chat", "--stall-timeout", "0.5"]);
    let mut never = raw_upgrade(server.addr);
    let mut healthy = connect(server.addr);
    let mut sender = connect(server.addr);
    let start = Instant::now();
    let sending = std::thread::spawn(move || {
        for i in 0..COUNT {
            sender.send(Message::text(numbered(i))).expect("send");
        }
        sender
    });
    read_numbered(&mut healthy, COUNT, Duration::ZERO);
    let took = start.elapsed();
    sending.join().expect("the sender was blocked for 10 s");
    let (code, reason) = close_frame_of(&mut never).expect("a close frame for the never-reader");
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.contains("no progress"), "{reason}");
    // It held the room for about the stall timeout, not for ever.
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

/// Broadcasts each message to the others; answers "stats" with the flow counters.
struct Room;

impl Handler for Room {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: ServerMessage) {
        if message.as_text() == Some("stats") {
            let stats = ctx.flow_stats();
            ctx.send(format!(
                "{} {} {}",
                stats.pauses, stats.dropped, stats.stalled
            ));
        } else {
            ctx.broadcast_others(message);
        }
    }
}

fn stats(client: &mut Client) -> (u64, u64, u64) {
    client.send(Message::text("stats")).unwrap();
    let text = recv_text(client);
    let mut numbers = text.split(' ').map(|n| n.parse::<u64>().unwrap());
    let mut next = || numbers.next().unwrap();
    (next(), next(), next())
}

/// 400 binary messages of 64 KiB (25 MiB) from `sender`, at full speed.
fn flood(sender: &mut Client) {
    for _ in 0..400 {
        sender.send(Message::binary(vec![7u8; 64 << 10])).unwrap();
    }
}

/// Under drop, messages to a client above the mark are skipped and counted; the sender is never
/// paused and the reader is not closed.
#[test]
fn the_drop_policy_skips_and_counts() {
    let config = Config::default().backpressure(Backpressure::Drop);
    let server = TestServer::start(Room, config);
    let never = raw_upgrade(server.addr);
    let mut sender = connect(server.addr);
    flood(&mut sender);
    let (pauses, dropped, stalled) = stats(&mut sender);
    assert_eq!(pauses, 0);
    assert!(dropped > 0, "nothing was dropped");
    assert_eq!(stalled, 0);
    drop(never);
}

/// Under close (the behaviour before flow control), the reader is closed at the backlog limit
/// with 1008 and the sender is never paused.
#[test]
fn the_close_policy_closes_at_the_backlog_limit() {
    let config = Config::default().backpressure(Backpressure::Close);
    let server = TestServer::start(Room, config);
    let mut never = raw_upgrade(server.addr);
    let mut sender = connect(server.addr);
    flood(&mut sender);
    assert_eq!(stats(&mut sender), (0, 0, 0));
    let (code, reason) = close_frame_of(&mut never).expect("a close frame");
    assert_eq!(code, 1008);
    assert!(reason.contains("backlog limit"), "{reason}");
}

/// Streams 4 MiB to a client in 64 KiB messages, never more than 512 KiB ahead of it, going on
/// in `on_drain`; records what `buffered_amount` said and each drain.
struct Streamer {
    left: usize,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Streamer {
    fn send_some(&mut self, ctx: &mut ClientContext<'_>) {
        while self.left > 0 && ctx.buffered_amount(ctx.id()) < 512 << 10 {
            ctx.send(vec![1u8; 64 << 10]);
            self.left -= 1;
        }
        let line = format!("buffered {}", ctx.buffered_amount(ctx.id()));
        self.seen.lock().unwrap().push(line);
        if self.left == 0 {
            ctx.send("done");
        }
    }
}

impl Handler for Streamer {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), _message: ServerMessage) {
        self.left = 64;
        self.send_some(ctx);
    }

    fn on_drain(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        self.seen.lock().unwrap().push("drain".into());
        if self.left > 0 {
            self.send_some(ctx);
        }
    }
}

#[test]
fn on_drain_lets_a_handler_stream_within_the_mark() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler = Streamer {
        left: 0,
        seen: seen.clone(),
    };
    let server = TestServer::start(handler, Config::default());
    let mut client = connect(server.addr);
    client.send(Message::text("go")).unwrap();
    let mut got = 0;
    loop {
        match recv(&mut client) {
            Message::Binary(bytes) => {
                assert_eq!(bytes.len(), 64 << 10);
                got += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            Message::Text(text) => {
                assert_eq!(text.as_str(), "done");
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, 64);
    let seen = seen.lock().unwrap();
    let drains = seen.iter().filter(|line| *line == "drain").count();
    assert!(drains >= 1, "{seen:?}");
    // The first call queued 8 messages and saw them counted: 8 x (64 KiB + 10).
    assert_eq!(seen[0], format!("buffered {}", 8 * ((64 << 10) + 10)));
}

/// Under pace, sends with no sender to slow (here from a `Handle`) still meet the hard limit: a
/// client that never reads is closed with 1008 when its backlog passes `max_backlog`.
#[test]
fn with_no_sender_to_slow_the_hard_limit_still_closes() {
    let server = TestServer::start(Room, Config::default());
    let mut never = raw_upgrade(server.addr);
    let chunk = vec![3u8; 64 << 10];
    let mut sent = 0;
    let start = Instant::now();
    while sent < 400 {
        match server.handle.broadcast(chunk.clone()) {
            Ok(()) => sent += 1,
            Err(simple_ws_server::Error::QueueFull) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => panic!("{e}"),
        }
        assert!(start.elapsed() < IO_TIMEOUT);
    }
    let (code, reason) = close_frame_of(&mut never).expect("a close frame");
    assert_eq!(code, 1008);
    assert!(reason.contains("backlog limit"), "{reason}");
}
