//! `Handler::on_message_ref`: whole small frames are lent where they were read, everything else
//! is assembled and goes to `on_message`, each message to exactly one of the two; invalid UTF-8
//! in a lent frame closes 1007 before anything after it; a lent message sent when the send
//! cannot be made at once is copied and keeps its place in the order. The whole frames of one
//! read are lent one after another within one handler call: a panic, a close or a budget's end
//! among them stops it where the one-at-a-time path would have.

mod common;
#[path = "common/deflate.rs"]
mod deflate_client;

use std::io::Write;
use std::time::Duration;

use common::*;
use simple_ws_server::deflate::DeflateConfig;
use simple_ws_server::{
    ClientContext, CloseReason, Config, Handler, IntoMessage, Message, MessageRef,
};
use tungstenite::Message as WsMessage;

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// Lent to `on_message_ref`: text or binary, and the payload.
    Lent(bool, Vec<u8>),
    /// Handed to `on_message`, owned.
    Owned(bool, Vec<u8>),
    Closed(CloseReason),
}

/// Records which method each message reached, then echoes it (after a broadcast when the text
/// is "behind-broadcast", so that the send has to wait in the queue).
struct Lender(Log<Seen>);

impl Handler for Lender {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        let seen = Seen::Owned(message.is_text(), message.as_bytes().to_vec());
        self.0.lock().unwrap().push(seen);
        ctx.send(message);
    }

    fn on_message_ref(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: MessageRef<'_>) {
        let seen = Seen::Lent(message.is_text(), message.as_bytes().to_vec());
        self.0.lock().unwrap().push(seen);
        match message.as_text() {
            Some("behind-broadcast") => ctx.broadcast("broadcast first"),
            Some("panic") => panic!("the handler fails on purpose"),
            Some("bye") => return ctx.disconnect(1000, "bye"),
            _ => {}
        }
        ctx.send(message);
    }

    fn on_close(&mut self, _: &mut ClientContext<'_>, _: (), reason: CloseReason) {
        self.0.lock().unwrap().push(Seen::Closed(reason));
    }
}

fn start(config: Config) -> (TestServer, Log<Seen>) {
    let log: Log<Seen> = Default::default();
    (TestServer::start(Lender(log.clone()), config), log)
}

fn seen(log: &Log<Seen>) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

#[test]
fn whole_small_frames_are_lent_and_echoed_unchanged() {
    let (server, log) = start(Config::default());
    let mut client = connect(server.addr);
    let binary: Vec<u8> = (0..=255).collect();
    client.send(WsMessage::text("héllo")).unwrap();
    assert_eq!(recv(&mut client), WsMessage::text("héllo"));
    client.send(WsMessage::binary(binary.clone())).unwrap();
    assert_eq!(recv(&mut client), WsMessage::binary(binary.clone()));
    client.send(WsMessage::text("")).unwrap();
    assert_eq!(recv(&mut client), WsMessage::text(""));
    assert_eq!(
        seen(&log),
        [
            Seen::Lent(true, "héllo".into()),
            Seen::Lent(false, binary),
            Seen::Lent(true, Vec::new()),
        ]
    );
}

#[test]
fn fragmented_and_split_messages_are_assembled_for_on_message() {
    let (server, log) = start(Config::default());
    let mut s = raw_upgrade(server.addr);
    // Two fragments: assembled by the decoder.
    let mut fragments = frame(0x1, false, b"frag", true);
    fragments.extend(frame(0x0, true, b"mented", true));
    s.write_all(&fragments).unwrap();
    assert_eq!(read_frame(&mut s), (0x1, b"fragmented".to_vec()));
    // One frame whose payload arrives in a later read: not whole in the buffer.
    let split = frame(0x2, true, b"split across reads", true);
    s.write_all(&split[..9]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    s.write_all(&split[9..]).unwrap();
    assert_eq!(read_frame(&mut s), (0x2, b"split across reads".to_vec()));
    // And a whole one after them: lent again.
    s.write_all(&frame(0x1, true, b"whole", true)).unwrap();
    assert_eq!(read_frame(&mut s), (0x1, b"whole".to_vec()));
    assert_eq!(
        seen(&log),
        [
            Seen::Owned(true, b"fragmented".to_vec()),
            Seen::Owned(false, b"split across reads".to_vec()),
            Seen::Lent(true, b"whole".to_vec()),
        ]
    );
}

#[test]
fn invalid_utf8_in_a_lent_frame_closes_1007_and_nothing_after_it_is_delivered() {
    let (server, log) = start(Config::default());
    let mut s = raw_upgrade(server.addr);
    // One write: a good message, a text frame that is not UTF-8, a message after it.
    let mut bytes = frame(0x1, true, b"before", true);
    bytes.extend(frame(0x1, true, &[b'o', b'k', 0xff, 0xfe], true));
    bytes.extend(frame(0x1, true, b"after", true));
    s.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut s), (0x1, b"before".to_vec()));
    assert_eq!(read_close_code(&mut s), 1007);
    assert!(wait_until(IO_TIMEOUT, || seen(&log).len() == 2));
    assert_eq!(
        seen(&log),
        [
            Seen::Lent(true, b"before".to_vec()),
            Seen::Closed(CloseReason::ProtocolError { code: 1007 }),
        ]
    );
}

/// One write of `texts`, each its own whole masked frame: they arrive in one read.
fn write_frames(s: &mut std::net::TcpStream, texts: &[&str]) {
    let bytes: Vec<u8> = texts
        .iter()
        .flat_map(|text| frame(0x1, true, text.as_bytes(), true))
        .collect();
    s.write_all(&bytes).unwrap();
}

fn lent(texts: &[&str]) -> Vec<Seen> {
    texts
        .iter()
        .map(|text| Seen::Lent(true, text.as_bytes().to_vec()))
        .collect()
}

#[test]
fn many_whole_frames_in_one_read_are_each_lent_once_in_order_past_the_read_budget() {
    let (server, log) = start(Config::default());
    let mut s = raw_upgrade(server.addr);
    // 300 frames, past the 64 reports a connection gets per turn: the rest wait their turn.
    let texts: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    write_frames(&mut s, &texts);
    for text in &texts {
        assert_eq!(read_frame(&mut s), (0x1, text.as_bytes().to_vec()));
    }
    assert_eq!(seen(&log), lent(&texts));
}

#[test]
fn a_panic_among_one_reads_messages_closes_1011_and_nothing_after_it_is_delivered() {
    let (server, log) = start(Config::default());
    let mut s = raw_upgrade(server.addr);
    write_frames(&mut s, &["one", "two", "panic", "after", "and after"]);
    assert_eq!(read_frame(&mut s), (0x1, b"one".to_vec()));
    assert_eq!(read_frame(&mut s), (0x1, b"two".to_vec()));
    assert_eq!(read_close_code(&mut s), 1011);
    assert!(wait_until(IO_TIMEOUT, || seen(&log).len() == 4));
    let mut expected = lent(&["one", "two", "panic"]);
    expected.push(Seen::Closed(CloseReason::ByServer { code: 1011 }));
    assert_eq!(seen(&log), expected);
}

#[test]
fn a_close_among_one_reads_messages_stops_delivery_after_it() {
    let (server, log) = start(Config::default());
    let mut s = raw_upgrade(server.addr);
    write_frames(&mut s, &["one", "bye", "after"]);
    assert_eq!(read_frame(&mut s), (0x1, b"one".to_vec()));
    assert_eq!(read_close_code(&mut s), 1000);
    assert!(wait_until(IO_TIMEOUT, || seen(&log).len() == 3));
    let mut expected = lent(&["one", "bye"]);
    expected.push(Seen::Closed(CloseReason::ByServer { code: 1000 }));
    assert_eq!(seen(&log), expected);
}

#[test]
fn a_lent_message_queued_behind_a_broadcast_is_copied_and_keeps_its_place() {
    let (server, log) = start(Config::default());
    let mut client = connect(server.addr);
    client.send(WsMessage::text("behind-broadcast")).unwrap();
    assert_eq!(recv(&mut client), WsMessage::text("broadcast first"));
    assert_eq!(recv(&mut client), WsMessage::text("behind-broadcast"));
    // The lent message outlived its loan only as a copy: the next read reused the buffer.
    client.send(WsMessage::text("next")).unwrap();
    assert_eq!(recv(&mut client), WsMessage::text("next"));
    assert_eq!(seen(&log).len(), 2);
}

#[test]
fn with_permessage_deflate_compressed_messages_are_owned_and_plain_ones_lent() {
    let (server, log) = start(Config::default().deflate(DeflateConfig::default()));
    let (mut s, head) = deflate_client::upgrade_offering(server.addr, &["permessage-deflate"]);
    assert!(deflate_client::extensions_of(&head).is_some(), "{head}");
    let zipped = deflate_client::compress(b"compressed hello");
    s.write_all(&deflate_client::frame_rsv1(0x1, true, true, &zipped))
        .unwrap();
    s.write_all(&frame(0x1, true, b"plain hello", true))
        .unwrap();
    assert!(wait_until(IO_TIMEOUT, || seen(&log).len() == 2));
    assert_eq!(
        seen(&log),
        [
            Seen::Owned(true, b"compressed hello".to_vec()),
            Seen::Lent(true, b"plain hello".to_vec()),
        ]
    );
}

#[test]
fn into_message_copies_a_lent_message_and_converts_the_rest() {
    assert_eq!(
        MessageRef::Text("x").into_message(),
        Message::Text("x".into())
    );
    assert_eq!(
        MessageRef::Binary(b"\x00\x01").into_message(),
        Message::from(vec![0u8, 1])
    );
    assert_eq!(String::from("y").into_message(), Message::from("y"));
    let message = Message::from("shared");
    assert_eq!(message.as_message_ref().to_message(), message);
}
