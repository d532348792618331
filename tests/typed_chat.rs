//! examples/typed_chat.rs as the program it is (issue 15): a chat protocol of typed JSON messages
//! on topics. Every kind of bad input gets its answer (close 1007 with the first error, 1009 past
//! the size limit, 1003 for binary; or an in-protocol `error` with `--errors-in-band`), the
//! server stays up after each, and a room's messages reach that room only.
//!
//! `cargo test` builds the example first; `cargo test --test typed_chat` alone does not (it would
//! run a stale build): add `--example typed_chat`.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{assert_silent, Client};
use serde_json::{json, Value};
use tungstenite::Message;

/// The example program on a free port, killed when dropped.
struct TypedChat {
    child: Child,
    addr: SocketAddr,
}

impl TypedChat {
    fn start(args: &[&str]) -> TypedChat {
        // Tests run from target/PROFILE/deps; the examples are in target/PROFILE/examples.
        let exe = std::env::current_exe().expect("the test's path");
        let path: PathBuf = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/PROFILE")
            .join("examples")
            .join("typed_chat");
        assert!(
            path.exists(),
            "{} is missing: `cargo test` builds it (with `--test typed_chat`, add \
             `--example typed_chat`)",
            path.display()
        );
        let mut child = Command::new(&path)
            .arg("127.0.0.1:0")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the banner");
        let addr = line
            .trim_end()
            .strip_prefix("listening on ws://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
            .parse()
            .expect("an address");
        TypedChat { child, addr }
    }

    fn connect(&self, name: &str) -> Client {
        common::connect_path(self.addr, &format!("/?name={name}"))
    }

    /// Asserts the program still runs and serves: a new client joins a room and is told so.
    fn assert_serving(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the server exited"
        );
        let mut probe = self.connect("probe");
        send(&mut probe, &json!({"type": "join", "room": "probe"}));
        assert_eq!(recv(&mut probe)["type"], "joined");
    }
}

impl Drop for TypedChat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn send(client: &mut Client, value: &Value) {
    client.send(Message::text(value.to_string())).expect("send");
}

/// The next server message, parsed.
fn recv(client: &mut Client) -> Value {
    let text = common::recv_text(client);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Reads until the server's close frame: its code and reason.
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

/// Each bad input, and a word the first error names.
fn bad_inputs() -> Vec<(&'static str, Message, &'static str)> {
    vec![
        (
            "malformed",
            Message::text(r#"{"type":"say","text":"hi""#),
            "EOF",
        ),
        ("not JSON", Message::text("hello"), "expected value"),
        (
            "wrong shape",
            Message::text(r#"{"type":"say"}"#),
            "missing field `text`",
        ),
        (
            "wrong type",
            Message::text(r#"{"type":"join","room":7}"#),
            "invalid type",
        ),
        (
            "unknown variant",
            Message::text(r#"{"type":"shout","text":"hi"}"#),
            "unknown variant `shout`",
        ),
        (
            "unknown field",
            Message::text(r#"{"type":"join","room":"x","now":true}"#),
            "unknown field `now`",
        ),
        (
            "out of range",
            Message::text(r#"{"type":"say","text":"hi","reply_to":4294967296}"#),
            "4294967296",
        ),
        (
            "negative",
            Message::text(r#"{"type":"say","text":"hi","reply_to":-1}"#),
            "-1",
        ),
        // Far deeper than serde_json's limit of 128, inside a field the type must buffer (the
        // example's 16 KiB size limit comes first for more: tests/typed_messages.rs sends
        // 100,000 under the default 1 MiB).
        (
            "deeply nested",
            Message::text(format!(
                r#"{{"type":"say","text":"hi","x":{}}}"#,
                "[".repeat(8_000)
            )),
            "recursion limit",
        ),
        ("8,000 [", Message::text("[".repeat(8_000)), "sequence"),
    ]
}

#[test]
fn each_bad_input_is_closed_with_1007_and_its_first_error_and_never_reaches_the_room() {
    let mut chat = TypedChat::start(&[]);
    let mut listener = chat.connect("listener");
    send(&mut listener, &json!({"type": "join", "room": "lobby"}));
    assert_eq!(recv(&mut listener)["type"], "joined");
    for (what, input, named) in bad_inputs() {
        let mut client = chat.connect("bad");
        send(&mut client, &json!({"type": "join", "room": "lobby"}));
        assert_eq!(recv(&mut client)["who"], "bad");
        assert_eq!(recv(&mut listener)["who"], "bad");
        // A valid line right behind the bad one, in the same write: the bad one closes the
        // client, so the line after it is never delivered either.
        client.write(input).expect("queue");
        client
            .write(Message::text(r#"{"type":"say","text":"after"}"#))
            .expect("queue");
        client.flush().expect("send");
        let (code, reason) = recv_close(&mut client);
        assert_eq!(code, 1007, "{what}: {reason}");
        assert!(
            reason.contains(named),
            "{what}: {reason:?} does not name {named:?}"
        );
        assert!(reason.len() <= 123, "{what}: {} bytes", reason.len());
        // The room hears that the client left, and nothing it "said".
        let left = recv(&mut listener);
        assert_eq!(
            (left["type"].as_str(), left["who"].as_str()),
            (Some("left"), Some("bad")),
            "{what}"
        );
        chat.assert_serving();
    }
}

#[test]
fn a_long_unknown_variant_is_named_in_a_reason_cut_to_123_bytes_on_a_character_boundary() {
    let chat = TypedChat::start(&[]);
    let mut client = chat.connect("ada");
    let variant = "é".repeat(100);
    send(&mut client, &json!({"type": variant}));
    let (code, reason) = recv_close(&mut client);
    assert_eq!(code, 1007);
    // tungstenite has already checked the reason is UTF-8; a cut inside "é" would fail that.
    assert!(reason.starts_with("unknown variant `éé"), "{reason}");
    assert!(
        (120..=123).contains(&reason.len()),
        "{} bytes",
        reason.len()
    );
}

#[test]
fn oversized_and_binary_messages_are_refused_before_parsing() {
    let mut chat = TypedChat::start(&[]);
    let mut client = chat.connect("ada");
    let text = "x".repeat(20 << 10);
    send(&mut client, &json!({"type": "say", "text": text}));
    assert_eq!(recv_close(&mut client).0, 1009);
    let mut client = chat.connect("ada");
    client
        .send(Message::binary(&br#"{"type":"join","room":"lobby"}"#[..]))
        .expect("send");
    let (code, reason) = recv_close(&mut client);
    assert_eq!(code, 1003, "{reason}");
    assert!(reason.contains("binary"), "{reason}");
    chat.assert_serving();
}

#[test]
fn with_errors_in_band_each_bad_input_is_answered_and_the_client_stays() {
    let chat = TypedChat::start(&["--errors-in-band"]);
    let mut client = chat.connect("ada");
    send(&mut client, &json!({"type": "say", "text": "anyone?"}));
    let error = recv(&mut client);
    assert_eq!(
        error,
        json!({"type": "error", "message": "join a room first"})
    );
    let mut inputs = bad_inputs();
    inputs.push(("binary", Message::binary(&b"{}"[..]), "binary"));
    for (what, input, named) in inputs {
        client.send(input).expect("send");
        let answer = recv(&mut client);
        assert_eq!(answer["type"], "error", "{what}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(named), "{what}: {message:?}");
    }
    send(&mut client, &json!({"type": "join", "room": "lobby"}));
    assert_eq!(recv(&mut client)["type"], "joined");
    // Past the size limit the server closes whatever the setting: the limit comes first.
    let text = "x".repeat(20 << 10);
    send(&mut client, &json!({"type": "say", "text": text}));
    assert_eq!(recv_close(&mut client).0, 1009);
}

#[test]
fn two_clients_in_a_room_talk_and_a_third_in_another_room_hears_nothing() {
    let chat = TypedChat::start(&[]);
    let mut ada = chat.connect("ada");
    let mut bob = chat.connect("bob");
    let mut eve = chat.connect("eve");
    send(&mut ada, &json!({"type": "join", "room": "lobby"}));
    assert_eq!(
        recv(&mut ada),
        json!({"type": "joined", "who": "ada", "room": "lobby"})
    );
    send(&mut bob, &json!({"type": "join", "room": "lobby"}));
    let bob_joined = json!({"type": "joined", "who": "bob", "room": "lobby"});
    assert_eq!(recv(&mut bob), bob_joined);
    assert_eq!(recv(&mut ada), bob_joined);
    send(&mut eve, &json!({"type": "join", "room": "attic"}));
    assert_eq!(recv(&mut eve)["room"], "attic");

    send(&mut ada, &json!({"type": "say", "text": "hi bob"}));
    let said = recv(&mut bob);
    assert_eq!(
        (&said["type"], &said["who"], &said["room"], &said["text"]),
        (
            &json!("said"),
            &json!("ada"),
            &json!("lobby"),
            &json!("hi bob")
        )
    );
    assert_eq!(recv(&mut ada), said, "the speaker hears its own line");
    let id = said["id"].as_u64().expect("an id");
    send(
        &mut bob,
        &json!({"type": "say", "text": "hi ada", "reply_to": id}),
    );
    assert_eq!(recv(&mut ada)["reply_to"], id);
    assert_eq!(recv(&mut bob)["text"], "hi ada");

    send(&mut bob, &json!({"type": "leave"}));
    let left = json!({"type": "left", "who": "bob", "room": "lobby"});
    assert_eq!(recv(&mut bob), left);
    assert_eq!(recv(&mut ada), left);
    send(&mut bob, &json!({"type": "say", "text": "still here?"}));
    assert_eq!(
        recv(&mut bob),
        json!({"type": "error", "message": "join a room first"})
    );
    send(&mut ada, &json!({"type": "say", "text": "bye"}));
    assert_eq!(recv(&mut ada)["text"], "bye");
    drop(ada); // its `left` goes to the lobby, where nobody is
    assert_silent(&mut bob, Duration::from_millis(300));
    assert_silent(&mut eve, Duration::from_millis(300));
}
