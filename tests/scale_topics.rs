//! Rooms (topics) across loops and instances: two `--example rooms --threads 2` instances
//! sharing a real `redis-server` (started by each test on a free loopback port).

mod common;
mod scale_support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;
use scale_support::*;
use tungstenite::Message;

const SUBSCRIBED: &str = "redis: subscribed to";
const RESUMED: &str = "reachable again";
const DELIVERED: &str = "redis: delivered a message";
const QUIET: Duration = Duration::from_millis(300);
const LIMIT: Duration = Duration::from_secs(10);

fn rooms(redis: &Redis) -> Instance {
    let instance = Instance::start(&[
        "--example",
        "rooms",
        "--threads",
        "2",
        "--redis",
        &redis.url(),
    ]);
    instance.wait_for(SUBSCRIBED, 1, LIMIT);
    instance
}

/// The Redis channel of a room with the command's default --redis-channel.
fn channel(room: &str) -> String {
    format!("simple-ws-server:chat:topic:{room}")
}

/// `PUBSUB NUMSUB channel`: how many connections (here, instances) subscribe to it.
fn numsub(redis: &Redis, channel: &str) -> u64 {
    let mut stream = TcpStream::connect(("127.0.0.1", redis.port)).expect("connect to redis");
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let command = format!(
        "*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n${}\r\n{channel}\r\n",
        channel.len()
    );
    stream.write_all(command.as_bytes()).expect("send PUBSUB");
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    for _ in 0..4 {
        let mut line = String::new();
        reader.read_line(&mut line).expect("PUBSUB answered");
        lines.push(line.trim_end().to_owned());
    }
    assert_eq!(lines[2], channel, "{lines:?}");
    lines[3]
        .strip_prefix(':')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count, got {lines:?}"))
}

fn wait_numsub(redis: &Redis, room: &str, expected: u64) {
    assert!(
        wait_until(LIMIT, || numsub(redis, &channel(room)) == expected),
        "{room}: {} subscribers at Redis, expected {expected}",
        numsub(redis, &channel(room))
    );
}

/// The loop that accepted the client whose local address is `local`, from the rooms example's
/// `loop N: <peer> joined <room>` log line.
fn loop_of(instance: &Instance, local: SocketAddr, room: &str) -> usize {
    let suffix = format!(": {local} joined {room}");
    let mut found = None;
    assert!(wait_until(LIMIT, || {
        found = instance.log().iter().find_map(|line| {
            let at = line.find("loop ")?;
            line[at + 5..].strip_suffix(&suffix)?.parse::<usize>().ok()
        });
        found.is_some()
    }));
    found.unwrap()
}

/// Joins `room` on `instance` until both of its loops have a member (at least `min` clients);
/// returns the clients with their loops.
fn members(instance: &Instance, room: &str, min: usize) -> Vec<(usize, Client)> {
    let mut clients = Vec::new();
    for _ in 0..40 {
        let client = connect_path(instance.addr, room);
        let local = client.get_ref().local_addr().unwrap();
        clients.push((loop_of(instance, local, room), client));
        let both = (0..2).all(|l| clients.iter().any(|(at, _)| *at == l));
        if both && clients.len() >= min {
            return clients;
        }
    }
    panic!("40 connections to {room} all went to one loop");
}

/// Reads whatever arrives until the client has been silent for `QUIET`.
fn drain(client: &mut Client) {
    client.get_mut().set_read_timeout(Some(QUIET)).unwrap();
    while client.read().is_ok() {}
    client.get_mut().set_read_timeout(Some(IO_TIMEOUT)).unwrap();
}

#[test]
fn a_room_spans_both_loops_of_two_instances_and_only_its_members_hear_it() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let (a, b) = (rooms(&redis), rooms(&redis));
    let mut on_a = members(&a, "/a", 3);
    let mut on_b = members(&b, "/a", 3);
    // Room /b lives on A only.
    let mut b_room: Vec<Client> = (0..2).map(|_| connect_path(a.addr, "/b")).collect();
    wait_numsub(&redis, "/a", 2);
    wait_numsub(&redis, "/b", 1);
    for (_, client) in on_a.iter_mut().chain(on_b.iter_mut()) {
        drain(client);
    }
    for client in &mut b_room {
        drain(client);
    }

    // A member on A's loop 0 speaks: every other /a member, on both loops of both instances,
    // hears it once; the sender and room /b hear nothing.
    let speaker = on_a.iter().position(|(at, _)| *at == 0).unwrap();
    let (_, mut sender) = on_a.remove(speaker);
    sender.send(Message::text("hello")).unwrap();
    for (at, client) in on_a.iter_mut().chain(on_b.iter_mut()) {
        assert_eq!(recv_text(client), "127.0.0.1 - hello", "loop {at}");
    }
    for (_, client) in on_a.iter_mut().chain(on_b.iter_mut()) {
        assert_silent(client, Duration::from_millis(50));
    }
    assert_silent(&mut sender, QUIET);
    for client in &mut b_room {
        assert_silent(client, Duration::from_millis(50));
    }

    // A member on B leaving is told to room /a only, on both instances.
    let (_, leaver) = on_b.remove(0);
    drop(leaver);
    for (at, client) in on_a.iter_mut().chain(on_b.iter_mut()) {
        assert_eq!(recv_text(client), "127.0.0.1 - disconnected", "loop {at}");
    }
    assert_eq!(recv_text(&mut sender), "127.0.0.1 - disconnected");
    for client in &mut b_room {
        assert_silent(client, Duration::from_millis(50));
    }

    // B hosts no /b: it is not subscribed to /b's channel and receives none of its traffic.
    let before = b.count(DELIVERED);
    let delivered_on_a = a.count(DELIVERED);
    b_room[0].send(Message::text("only for /b")).unwrap();
    assert_eq!(recv_text(&mut b_room[1]), "127.0.0.1 - only for /b");
    std::thread::sleep(QUIET);
    assert_eq!(
        b.count(DELIVERED),
        before,
        "B received traffic of a room it does not host"
    );
    assert_eq!(a.count(DELIVERED), delivered_on_a);
    assert_eq!(numsub(&redis, &channel("/b")), 1);

    // B subscribes to a room's channel with its first member and unsubscribes after its last.
    let newcomer = connect_path(b.addr, "/b");
    wait_numsub(&redis, "/b", 2);
    assert_eq!(recv_text(&mut b_room[0]), "127.0.0.1 - connected");
    drop(newcomer);
    wait_numsub(&redis, "/b", 1);
    // Everyone leaves: no instance stays subscribed to a room nobody is in.
    drop(on_a);
    drop(on_b);
    drop(sender);
    drop(b_room);
    wait_numsub(&redis, "/a", 0);
    wait_numsub(&redis, "/b", 0);
}

#[test]
fn rooms_are_subscribed_again_after_a_redis_outage() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let (a, b) = (rooms(&redis), rooms(&redis));
    let mut x = connect_path(a.addr, "/r");
    let mut y = connect_path(b.addr, "/r");
    wait_numsub(&redis, "/r", 2);
    drain(&mut x);
    drain(&mut y);

    redis.restart();
    a.wait_for(RESUMED, 1, LIMIT);
    b.wait_for(RESUMED, 1, LIMIT);
    wait_numsub(&redis, "/r", 2);
    x.send(Message::text("still here")).unwrap();
    assert_eq!(recv_text(&mut y), "127.0.0.1 - still here");
    assert_silent(&mut x, QUIET);
}
