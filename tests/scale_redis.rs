//! Chat across server instances through a real Redis (`redis-server`, installed by
//! scripts/install/redis, started by each test on a free loopback port).

mod common;
mod scale_support;

use std::time::{Duration, Instant};

use common::*;
use scale_support::*;
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
    let redis = Redis::start();
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
    let mut redis = Redis::start();
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
