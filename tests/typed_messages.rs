//! The `json` adapter in-process (issue 15): a typed send serializes once whatever the number of
//! recipients, binary JSON is taken only when opted into, the size limit acts before parsing,
//! and an in-protocol answer to invalid input keeps the connection open.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{connect, recv_text, Client, TestServer};
use serde::{Deserialize, Serialize, Serializer};
use simple_ws_server::json::{BinaryInput, InvalidInput, Json, JsonClientContext, JsonHandler};
use simple_ws_server::Config;
use tungstenite::Message;

#[derive(Deserialize, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
enum In {
    Shout { text: String },
    Volume { level: u8 },
    Join { room: String },
    Tell { room: String, text: String },
    TellOthers { room: String, text: String },
}

/// A value that counts how many times it is serialized.
struct Counted {
    text: String,
    serializations: Arc<AtomicUsize>,
}

impl Serialize for Counted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serializations.fetch_add(1, Ordering::SeqCst);
        serializer.serialize_str(&self.text)
    }
}

/// Broadcasts every shout to all; answers invalid input with an error when `lenient`, and
/// counts what reached each method.
#[derive(Default)]
struct Loud {
    serializations: Arc<AtomicUsize>,
    messages: Arc<AtomicUsize>,
    invalid: Arc<AtomicUsize>,
    lenient: bool,
}

impl JsonHandler for Loud {
    type In = In;
    type Out = Counted;
    type State = ();

    fn on_message(&mut self, ctx: &mut JsonClientContext<'_, '_, Counted>, _: &mut (), msg: In) {
        self.messages.fetch_add(1, Ordering::SeqCst);
        let counted = |text| Counted {
            text,
            serializations: self.serializations.clone(),
        };
        match msg {
            In::Shout { text } => ctx.broadcast(&counted(text)),
            In::Volume { level } => ctx.broadcast(&counted(format!("volume {level}"))),
            In::Join { room } => {
                ctx.subscribe(&room);
                ctx.send(&counted(format!("in {room}")));
            }
            In::Tell { room, text } => ctx.publish(&room, &counted(text)),
            In::TellOthers { room, text } => ctx.publish_except(&room, &counted(text)),
        }
    }

    fn on_invalid(
        &mut self,
        _: &mut JsonClientContext<'_, '_, Counted>,
        _: &mut (),
        error: &InvalidInput,
    ) -> Option<Counted> {
        self.invalid.fetch_add(1, Ordering::SeqCst);
        self.lenient.then(|| Counted {
            text: format!("error: {}", error.reason()),
            serializations: self.serializations.clone(),
        })
    }
}

fn recv_close(client: &mut Client) -> (u16, String) {
    loop {
        match client.read() {
            Ok(Message::Close(Some(frame))) => {
                return (u16::from(frame.code), frame.reason.as_str().to_owned())
            }
            Ok(Message::Close(None)) => return (1005, String::new()),
            Ok(_) => continue,
            Err(err) => panic!("expected a close frame, got {err}"),
        }
    }
}

#[test]
fn a_broadcast_to_three_clients_serializes_its_value_once() {
    let handler = Loud::default();
    let serializations = handler.serializations.clone();
    let server = TestServer::start(Json::new(handler), Config::default());
    let mut clients: Vec<Client> = (0..3).map(|_| connect(server.addr)).collect();
    // Wait until all three are open: each is answered a shout of its own first.
    for client in clients.iter_mut() {
        client
            .send(Message::text(r#"{"type":"shout","text":"here"}"#))
            .unwrap();
        assert_eq!(recv_text(client), "\"here\"");
    }
    // Every "here" has been broadcast (each serialized at least once) before the count is read.
    assert!(common::wait_until(common::IO_TIMEOUT, || {
        serializations.load(Ordering::SeqCst) >= 3
    }));
    let before = serializations.load(Ordering::SeqCst);
    clients[0]
        .send(Message::text(r#"{"type":"shout","text":"hi all"}"#))
        .unwrap();
    for client in clients.iter_mut() {
        let mut text = recv_text(client);
        while text == "\"here\"" {
            text = recv_text(client);
        }
        assert_eq!(text, "\"hi all\"");
    }
    assert_eq!(serializations.load(Ordering::SeqCst) - before, 1);
    server.stop().unwrap();
}

#[test]
fn a_publish_to_a_topic_of_three_serializes_its_value_once() {
    let handler = Loud::default();
    let serializations = handler.serializations.clone();
    let server = TestServer::start(Json::new(handler), Config::default());
    let mut clients: Vec<Client> = (0..3).map(|_| connect(server.addr)).collect();
    let mut outsider = connect(server.addr);
    for client in clients.iter_mut() {
        client
            .send(Message::text(r#"{"type":"join","room":"r"}"#))
            .unwrap();
        assert_eq!(recv_text(client), "\"in r\"");
    }
    let before = serializations.load(Ordering::SeqCst);
    clients[0]
        .send(Message::text(
            r#"{"type":"tell","room":"r","text":"to all"}"#,
        ))
        .unwrap();
    for client in clients.iter_mut() {
        assert_eq!(recv_text(client), "\"to all\"");
    }
    assert_eq!(serializations.load(Ordering::SeqCst) - before, 1);
    clients[0]
        .send(Message::text(
            r#"{"type":"tell_others","room":"r","text":"to the others"}"#,
        ))
        .unwrap();
    for client in clients[1..].iter_mut() {
        assert_eq!(recv_text(client), "\"to the others\"");
    }
    assert_eq!(serializations.load(Ordering::SeqCst) - before, 2);
    common::assert_silent(&mut clients[0], std::time::Duration::from_millis(200));
    common::assert_silent(&mut outsider, std::time::Duration::from_millis(200));
    server.stop().unwrap();
}

#[test]
fn binary_json_is_refused_with_1003_unless_opted_into() {
    let refusing = TestServer::start(Json::new(Loud::default()), Config::default());
    let mut client = connect(refusing.addr);
    client
        .send(Message::binary(&br#"{"type":"shout","text":"hi"}"#[..]))
        .unwrap();
    let (code, reason) = recv_close(&mut client);
    assert_eq!(code, 1003, "{reason}");
    assert!(reason.contains("binary"), "{reason}");

    let taking = TestServer::start(
        Json::new(Loud::default()).binary(BinaryInput::Json),
        Config::default(),
    );
    let mut client = connect(taking.addr);
    client
        .send(Message::binary(&br#"{"type":"volume","level":7}"#[..]))
        .unwrap();
    assert_eq!(recv_text(&mut client), "\"volume 7\"");
    // Binary that is not JSON is still invalid (1007), as text would be.
    client.send(Message::binary(&[0xff, 0x00][..])).unwrap();
    assert_eq!(recv_close(&mut client).0, 1007);
    refusing.stop().unwrap();
    taking.stop().unwrap();
}

#[test]
fn the_size_limit_closes_with_1009_before_anything_is_parsed() {
    let handler = Loud::default();
    let (messages, invalid) = (handler.messages.clone(), handler.invalid.clone());
    let server = TestServer::start(Json::new(handler), Config::default().max_message_size(1024));
    let mut client = connect(server.addr);
    let big = format!(r#"{{"type":"shout","text":"{}"}}"#, "x".repeat(2000));
    client.send(Message::text(big)).unwrap();
    assert_eq!(recv_close(&mut client).0, 1009);
    // Neither on_message nor on_invalid saw it.
    let mut probe = connect(server.addr);
    probe
        .send(Message::text(r#"{"type":"shout","text":"ok"}"#))
        .unwrap();
    assert_eq!(recv_text(&mut probe), "\"ok\"");
    assert_eq!(messages.load(Ordering::SeqCst), 1);
    assert_eq!(invalid.load(Ordering::SeqCst), 0);
    server.stop().unwrap();
}

#[test]
fn an_in_protocol_answer_to_invalid_input_keeps_the_connection_open() {
    let handler = Loud {
        lenient: true,
        ..Loud::default()
    };
    let (messages, invalid) = (handler.messages.clone(), handler.invalid.clone());
    let server = TestServer::start(Json::new(handler), Config::default());
    let mut client = connect(server.addr);
    for bad in [
        "not json",
        r#"{"type":"whisper"}"#,
        r#"{"type":"volume","level":256}"#,
    ] {
        client.send(Message::text(bad)).unwrap();
        let answer = recv_text(&mut client);
        assert!(answer.starts_with("\"error: "), "{bad}: {answer}");
    }
    client.send(Message::binary(&b"{}"[..])).unwrap();
    assert!(recv_text(&mut client).contains("binary"));
    client
        .send(Message::text(r#"{"type":"volume","level":255}"#))
        .unwrap();
    assert_eq!(recv_text(&mut client), "\"volume 255\"");
    assert_eq!(messages.load(Ordering::SeqCst), 1);
    assert_eq!(invalid.load(Ordering::SeqCst), 4);
    server.stop().unwrap();
}

/// serde_json's nesting limit (128) holds inside a message under the default 1 MiB size
/// limit: 100,000 `[` (bare, or in a field a tagged enum buffers) is refused with 1007 at once,
/// without exhausting the server's stack, and the server serves on.
#[test]
fn a_hundred_thousand_nested_brackets_close_with_1007_and_the_server_stays_up() {
    let handler = Loud::default();
    let messages = handler.messages.clone();
    let server = TestServer::start(Json::new(handler), Config::default());
    let brackets = "[".repeat(100_000);
    let inputs = [
        (brackets.clone(), "sequence"),
        (
            format!(r#"{{"type":"shout","text":"hi","x":{brackets}}}"#),
            "recursion limit exceeded",
        ),
    ];
    for (input, named) in inputs {
        let mut client = connect(server.addr);
        client.send(Message::text(input)).unwrap();
        let (code, reason) = recv_close(&mut client);
        assert_eq!(code, 1007, "{reason}");
        assert!(reason.contains(named), "{reason}");
    }
    let mut probe = connect(server.addr);
    probe
        .send(Message::text(r#"{"type":"shout","text":"still here"}"#))
        .unwrap();
    assert_eq!(recv_text(&mut probe), "\"still here\"");
    assert_eq!(messages.load(Ordering::SeqCst), 1);
    assert!(server.is_running());
    server.stop().unwrap();
}
