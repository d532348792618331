//! Messages that arrive together: the loop applies what the handler queued for one read as a
//! batch (a run of broadcasts or publishes goes to each recipient in one copy) and makes a send
//! to an open client at once. What clients see must not change: every message, in order, to
//! plain and permessage-deflate recipients alike; and a client the handler closes gets no
//! further handler calls for the messages that came with the one that closed it.

mod common;
#[path = "common/deflate.rs"]
mod deflate_client;

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use common::*;
use deflate_client::*;
use simple_ws_server::deflate::DeflateConfig;
use simple_ws_server::{ClientContext, Config, Handler, Message};

/// How many lines the sender writes in one go (one TCP write, so one or a few reads).
const LINES: usize = 300;

/// Relays every message to every other client: by broadcast, or by publishing to one topic.
struct Relay {
    topic: bool,
}

impl Handler for Relay {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        if self.topic {
            ctx.subscribe("room");
        }
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        if self.topic {
            ctx.publish_except("room", message);
        } else {
            ctx.broadcast_others(message);
        }
    }
}

fn line(i: usize) -> String {
    // Long enough that permessage-deflate compresses it, different per line.
    format!("line {i:04} {}", "abcdefgh".repeat(40))
}

/// The next data message from a raw socket that may have agreed permessage-deflate.
fn next_text(stream: &mut TcpStream) -> String {
    let (first, payload) = read_frame_head(stream);
    assert_eq!(first & 0x8f, 0x81, "a whole text frame");
    let bytes = if first & 0x40 != 0 {
        inflate(&payload)
    } else {
        payload
    };
    String::from_utf8(bytes).unwrap()
}

fn relays_every_line_in_order(topic: bool) {
    let config = Config::default().deflate(DeflateConfig::default());
    let server = TestServer::start(Relay { topic }, config);
    let mut plain = connect(server.addr);
    let (mut compressed, head) = upgrade_offering(server.addr, &["permessage-deflate"]);
    assert!(extensions_of(&head).is_some(), "{head}");
    let mut sender = raw_upgrade(server.addr);
    // Every client has opened (and subscribed) once each has had an answer back.
    plain.send(tungstenite::Message::text("hello")).unwrap();
    assert_eq!(next_text(&mut compressed), "hello");
    let mut burst = Vec::new();
    for i in 0..LINES {
        burst.extend_from_slice(&frame(0x1, true, line(i).as_bytes(), true));
    }
    sender.write_all(&burst).unwrap();
    for i in 0..LINES {
        assert_eq!(recv_text(&mut plain), line(i), "plain client, line {i}");
        assert_eq!(
            next_text(&mut compressed),
            line(i),
            "deflate client, line {i}"
        );
    }
    assert_eq!(read_frame(&mut sender).1, b"hello");
}

#[test]
fn a_burst_of_broadcasts_reaches_plain_and_deflate_clients_whole_and_in_order() {
    relays_every_line_in_order(false);
}

#[test]
fn a_burst_of_publishes_reaches_plain_and_deflate_subscribers_whole_and_in_order() {
    relays_every_line_in_order(true);
}

/// Echoes, and closes the client that says "bye"; records every message it is handed.
struct Bye {
    seen: Arc<Mutex<Vec<String>>>,
}

impl Handler for Bye {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        let text = message.as_text().unwrap_or_default().to_owned();
        self.seen.lock().unwrap().push(text.clone());
        if text == "bye" {
            // The close first: a broadcast queued after it may be held for a batch, the close
            // must not be.
            ctx.disconnect(4000, "bye");
            ctx.broadcast("someone left");
        } else if text == "mix" {
            // A send right after a queued broadcast must not overtake it.
            ctx.broadcast("first");
            ctx.send("second");
        } else {
            ctx.send(message);
        }
    }
}

#[test]
fn a_client_closed_by_its_handler_is_not_handed_the_messages_that_came_after_in_the_same_read() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::start(Bye { seen: seen.clone() }, Config::default());
    let mut client = raw_upgrade(server.addr);
    let mut burst = Vec::new();
    for text in ["one", "two", "bye", "three", "four"] {
        burst.extend_from_slice(&frame(0x1, true, text.as_bytes(), true));
    }
    client.write_all(&burst).unwrap();
    assert_eq!(read_frame(&mut client).1, b"one");
    assert_eq!(read_frame(&mut client).1, b"two");
    assert_eq!(read_close_code(&mut client), 4000);
    assert_eq!(*seen.lock().unwrap(), ["one", "two", "bye"]);
}

#[test]
fn a_send_queued_after_a_broadcast_arrives_after_it() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::start(Bye { seen }, Config::default());
    let mut client = raw_upgrade(server.addr);
    let mut burst = Vec::new();
    for text in ["zero", "mix", "third"] {
        burst.extend_from_slice(&frame(0x1, true, text.as_bytes(), true));
    }
    client.write_all(&burst).unwrap();
    for expected in ["zero", "first", "second", "third"] {
        assert_eq!(read_frame(&mut client).1, expected.as_bytes());
    }
}
