//! Chat across server instances through a real Redis (`redis-server`, installed by
//! scripts/install/redis, started by each test on a free loopback port).

mod common;
mod scale_support;

use std::time::{Duration, Instant};

use common::*;
use scale_support::*;
use simple_ws_server::redis_bridge::{BridgeConfig, RedisBridge, DEFAULT_CHANNEL};
use simple_ws_server::{Broker, Bytes};
use tungstenite::Message;

const SUBSCRIBED: &str = "redis: subscribed to";
const OUTAGE: &str = "chat goes on locally";
const RESUMED: &str = "reachable again";
const DELIVERED: &str = "redis: delivered a message";

fn chat(redis: &Redis, threads: &str) -> Instance {
    let instance = Instance::start(&[
        "--example",
        "chat",
        "--threads",
        threads,
        "--redis",
        &redis.url(),
    ]);
    instance.wait_for(SUBSCRIBED, 1, Duration::from_secs(10));
    instance
}

/// Clients a1 and a2 on A, b1 and b2 on B, each arrival announced on both instances. Every step
/// waits until the notice of the one before has reached both instances, so that no notice still
/// in flight through Redis meets a later arrival. b2 leaves again at the end.
fn join(a: &Instance, b: &Instance) -> (Client, Client, Client) {
    const CONNECTED: &str = "127.0.0.1 - connected";
    let mut a1 = connect(a.addr);
    // B has no client to hear a1 arrive, but logs the delivery (at debug level).
    b.wait_for(DELIVERED, 1, Duration::from_secs(10));
    let mut b1 = connect(b.addr);
    // B's newcomer is announced on A, through Redis.
    assert_eq!(recv_text(&mut a1), CONNECTED);
    let mut a2 = connect(a.addr);
    assert_eq!(recv_text(&mut a1), CONNECTED);
    assert_eq!(recv_text(&mut b1), CONNECTED);
    let mut b2 = connect(b.addr);
    assert_eq!(recv_text(&mut b1), CONNECTED);
    assert_eq!(recv_text(&mut a1), CONNECTED);
    assert_eq!(recv_text(&mut a2), CONNECTED);
    b2.close(None).unwrap();
    for (name, client) in [("b1", &mut b1), ("a1", &mut a1), ("a2", &mut a2)] {
        assert_eq!(recv_text(client), "127.0.0.1 - disconnected", "{name}");
    }
    (a1, a2, b1)
}

fn say(client: &mut Client, text: &str) {
    client.send(Message::text(text)).unwrap();
}

#[test]
fn two_instances_chat_through_one_redis_each_line_once() {
    let Some(redis) = Redis::start() else {
        return;
    };
    // Instance A runs two loops, B one: a line crosses loops and instances alike.
    let a = chat(&redis, "2");
    let b = chat(&redis, "1");

    let (mut a1, mut a2, mut b1) = join(&a, &b);

    say(&mut a1, "hello");
    assert_eq!(recv_text(&mut a2), "127.0.0.1 - hello");
    assert_eq!(recv_text(&mut b1), "127.0.0.1 - hello");
    say(&mut b1, "hello back");
    assert_eq!(recv_text(&mut a1), "127.0.0.1 - hello back");
    assert_eq!(recv_text(&mut a2), "127.0.0.1 - hello back");
    // Binary crosses as binary.
    b1.send(Message::binary(vec![0xde, 0xad])).unwrap();
    for client in [&mut a1, &mut a2] {
        match recv(client) {
            Message::Binary(bytes) => assert_eq!(&bytes[..], b"127.0.0.1 - \xde\xad"),
            other => panic!("expected binary, got {other:?}"),
        }
    }

    // No instance delivers its own line a second time when Redis hands it back: A's clients
    // heard "hello" once (a2) or not at all (a1, the sender); B's sender got nothing back.
    for client in [&mut a1, &mut a2, &mut b1] {
        assert_silent(client, Duration::from_millis(300));
    }

    // Leaving is announced across too.
    b1.close(None).unwrap();
    assert_eq!(recv_text(&mut a1), "127.0.0.1 - disconnected");
    assert_eq!(recv_text(&mut a2), "127.0.0.1 - disconnected");
    assert_eq!(a.count(OUTAGE) + b.count(OUTAGE), 0);
}

#[test]
fn local_chat_survives_redis_and_cross_chat_resumes_when_it_returns() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let a = chat(&redis, "1");
    let b = chat(&redis, "1");
    let (mut a1, mut a2, mut b1) = join(&a, &b);
    say(&mut a1, "before");
    assert_eq!(recv_text(&mut a2), "127.0.0.1 - before");
    assert_eq!(recv_text(&mut b1), "127.0.0.1 - before");

    redis.kill();
    a.wait_for(OUTAGE, 1, Duration::from_secs(5));
    b.wait_for(OUTAGE, 1, Duration::from_secs(5));

    // Local chat goes on while Redis is away, at once and without loss.
    for i in 0..20 {
        say(&mut a1, &format!("during {i}"));
        say(&mut a2, &format!("reply {i}"));
        assert_eq!(recv_text(&mut a2), format!("127.0.0.1 - during {i}"));
        assert_eq!(recv_text(&mut a1), format!("127.0.0.1 - reply {i}"));
    }
    // Let the bridges retry a few times while Redis is down: still one warning each.
    std::thread::sleep(Duration::from_millis(1500));

    redis.restart();
    let restarted = Instant::now();
    a.wait_for(RESUMED, 1, Duration::from_secs(8));
    b.wait_for(RESUMED, 1, Duration::from_secs(8));
    let resumed = restarted.elapsed();
    assert!(
        resumed < Duration::from_secs(5),
        "resumed after {resumed:?}"
    );

    // Cross-instance chat works again, both ways, each line once.
    say(&mut a1, "after");
    assert_eq!(recv_text(&mut a2), "127.0.0.1 - after");
    assert_eq!(recv_text(&mut b1), "127.0.0.1 - after");
    say(&mut b1, "after back");
    assert_eq!(recv_text(&mut a1), "127.0.0.1 - after back");
    assert_eq!(recv_text(&mut a2), "127.0.0.1 - after back");
    for client in [&mut a1, &mut a2, &mut b1] {
        assert_silent(client, Duration::from_millis(300));
    }

    // The outage was logged once per instance, however many reconnection attempts failed.
    assert_eq!(a.count(OUTAGE), 1, "{:#?}", a.log());
    assert_eq!(b.count(OUTAGE), 1, "{:#?}", b.log());
    eprintln!("cross-instance chat resumed {resumed:?} after Redis restarted");
}

#[test]
fn an_unreachable_redis_at_start_does_not_stop_the_chat() {
    // Nothing listens on this port (it was free a moment ago).
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}/");
    let a = Instance::start(&["--example", "chat", "--redis", &url]);
    a.wait_for(OUTAGE, 1, Duration::from_secs(5));
    let mut a1 = connect(a.addr);
    let mut a2 = connect(a.addr);
    assert_eq!(recv_text(&mut a1), "127.0.0.1 - connected");
    say(&mut a2, "anyone?");
    assert_eq!(recv_text(&mut a1), "127.0.0.1 - anyone?");
}

#[test]
fn a_bad_redis_url_or_example_is_refused_before_listening() {
    for args in [
        &["--example", "chat", "--redis", "http://127.0.0.1/"][..],
        &["--example", "echo", "--redis", "redis://127.0.0.1/"][..],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_simple-ws-server"))
            .args(args)
            .args(["--port", "0"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("redis"));
    }
}

/// A message as another instance's bridge tags it: its id, `T` (text), the text.
fn from_another_instance(text: &str) -> Vec<u8> {
    let mut bytes = 0x5eed_u64.to_be_bytes().to_vec();
    bytes.push(b'T');
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// Issue 11: a message on the channel larger than `--max-message-size` was relayed to every
/// client (what no client could have sent), and replies were formatted whole into log lines.
#[test]
fn a_message_from_the_channel_over_max_message_size_is_dropped_not_relayed() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let a = Instance::start(&[
        "--example",
        "chat",
        "--redis",
        &redis.url(),
        "--max-message-size",
        "1000",
    ]);
    a.wait_for(SUBSCRIBED, 1, Duration::from_secs(10));
    let mut client = connect(a.addr);
    publish(
        redis.port,
        DEFAULT_CHANNEL,
        &from_another_instance(&"x".repeat(5000)),
    );
    publish(redis.port, DEFAULT_CHANNEL, &from_another_instance("after"));
    // The next thing the client hears is the small one: the large one was never relayed.
    assert_eq!(recv_text(&mut client), "after");
    a.wait_for("over max_message_size (1000)", 1, Duration::from_secs(10));
    let longest = a.log().iter().map(String::len).max().unwrap_or(0);
    assert!(longest < 1000, "a log line of {longest} bytes");
}

/// Issue 11: the publish queue was bounded by count (8192 messages of up to 1 MiB each, 8 GiB),
/// not by bytes.
#[test]
fn the_publish_queue_is_bounded_in_bytes() {
    // A "Redis" that accepts and never answers: the publisher waits on its first reply (at most
    // one batch taken off the queue), so what the test pushes stays queued.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/", silent.local_addr().unwrap());
    let config = BridgeConfig::default().max_queue_bytes(100_000);
    let bridge = RedisBridge::start_with_config(&url, "test", config, |_| {}).unwrap();
    let message = simple_ws_server::Message::Binary(Bytes::from(vec![0u8; 10_000]));
    for _ in 0..100 {
        bridge.publish(&message);
    }
    // 100 kB hold 9 such messages; a first batch may have been taken before the queue filled.
    let dropped = bridge.dropped_outgoing();
    assert!((80..100).contains(&dropped), "dropped {dropped} of 100");
    drop(bridge);
}
