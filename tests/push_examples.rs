//! The examples in `examples/` (ticker, timers, fragments, tokio_embed, rooms, token_auth) run
//! as the programs they are, each on a free port, driven by a WebSocket client. `cargo test`
//! builds the examples before it runs the tests.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use tungstenite::{self, protocol::WebSocket, Message};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

type Client = WebSocket<TcpStream>;

/// An example program, killed when dropped.
struct Example {
    child: Child,
    stdout: BufReader<ChildStdout>,
    addr: SocketAddr,
}

impl Example {
    /// Starts `examples/NAME` on a free port of 127.0.0.1, with `args` after the address.
    fn start(name: &str, args: &[&str]) -> Example {
        // Tests run from target/PROFILE/deps; the examples are in target/PROFILE/examples.
        let exe = std::env::current_exe().expect("the test's path");
        let path: PathBuf = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/PROFILE")
            .join("examples")
            .join(name);
        assert!(
            path.exists(),
            "{} is missing: `cargo test` builds it",
            path.display()
        );
        let mut child = Command::new(&path)
            .arg("127.0.0.1:0")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the banner");
        let addr = line
            .trim_end()
            .strip_prefix("listening on ws://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
            .parse()
            .expect("an address");
        Example {
            child,
            stdout,
            addr,
        }
    }

    fn connect(&self) -> Client {
        self.connect_path("/")
    }

    fn connect_path(&self, path: &str) -> Client {
        let tcp = TcpStream::connect(self.addr).expect("connect");
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let (client, _) =
            tungstenite::client(format!("ws://{}{path}", self.addr), tcp).expect("handshake");
        client
    }

    /// Waits (bounded) for the program to exit by itself.
    fn wait(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < IO_TIMEOUT, "the example did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn recv_text(client: &mut Client) -> String {
    for _ in 0..1000 {
        match client.read().expect("read a message") {
            Message::Text(text) => return text.as_str().to_owned(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected text, got {other:?}"),
        }
    }
    panic!("only pings and pongs arrived");
}

#[test]
fn ticker_greets_from_its_thread_ticks_and_stops_gracefully() {
    let mut ticker = Example::start("ticker", &["2"]);
    let mut client = ticker.connect();
    let hello = recv_text(&mut client);
    assert!(
        hello.starts_with("hello #") && hello.ends_with(", ticks follow"),
        "{hello}"
    );
    assert!(recv_text(&mut client).starts_with("tick 1: "));
    assert!(recv_text(&mut client).starts_with("tick 2: "));
    match client.read() {
        Ok(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected close 1001, got {other:?}"),
    }
    let mut line = String::new();
    ticker.stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "2 ticks sent; stopping");
    assert!(ticker.wait().success());
}

#[test]
fn timers_remind_and_cancel() {
    let timers = Example::start("timers", &[]);
    let mut client = timers.connect();
    assert!(recv_text(&mut client).starts_with("send `remind"));
    client
        .send(Message::text("remind 0.3 second reminder"))
        .unwrap();
    client
        .send(Message::text("remind 0.1 first reminder"))
        .unwrap();
    assert!(recv_text(&mut client).ends_with(" set for 0.3 s"));
    assert!(recv_text(&mut client).ends_with(" set for 0.1 s"));
    assert_eq!(recv_text(&mut client), "reminder: first reminder");
    assert_eq!(recv_text(&mut client), "reminder: second reminder");

    client.send(Message::text("remind 0.2 never")).unwrap();
    assert!(recv_text(&mut client).ends_with(" set for 0.2 s"));
    client.send(Message::text("cancel")).unwrap();
    assert_eq!(recv_text(&mut client), "1 reminder(s) cancelled");
    client
        .send(Message::text("remind 0.4 after the cancelled one"))
        .unwrap();
    assert!(recv_text(&mut client).ends_with(" set for 0.4 s"));
    assert_eq!(
        recv_text(&mut client),
        "reminder: after the cancelled one",
        "the cancelled reminder never came"
    );
}

#[test]
fn fragments_stream_a_count_as_one_message_then_the_held_reply() {
    let fragments = Example::start("fragments", &[]);
    let mut client = fragments.connect();
    client.send(Message::text("count 25000")).unwrap();
    client
        .send(Message::text("echoed after the count"))
        .unwrap();
    let count = recv_text(&mut client);
    let numbers: Vec<u64> = count
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(numbers, (1..=25_000).collect::<Vec<u64>>());
    assert_eq!(recv_text(&mut client), "that was 1 to 25000");
    assert_eq!(recv_text(&mut client), "echoed after the count");
}

#[test]
fn tokio_embed_answers_from_async_code_through_the_handle_and_gets_the_handler_back() {
    let mut example = Example::start("tokio_embed", &["1"]);
    let mut client = example.connect();
    let next_answer = |client: &mut Client| loop {
        let text = recv_text(client);
        if text != "tick" {
            return text;
        }
    };
    assert_eq!(next_answer(&mut client), "hello from tokio");
    client.send(Message::text("hi there")).unwrap();
    assert_eq!(next_answer(&mut client), "tokio says: HI THERE");
    // One answer was asked for: the async side stops the server through the handle.
    assert!(example.wait().success());
    let mut rest = String::new();
    example.stdout.read_to_string(&mut rest).unwrap();
    assert!(
        rest.contains("server stopped after 1 message(s)"),
        "{rest:?}"
    );
}

#[test]
fn token_auth_refuses_with_www_authenticate_and_keeps_the_user_as_connection_state() {
    let example = Example::start("token_auth", &[]);
    let tcp = TcpStream::connect(example.addr).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    match tungstenite::client(format!("ws://{}/?token=wrong", example.addr), tcp) {
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            assert_eq!(response.status(), 401);
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"token_auth\""
            );
        }
        Ok((_, response)) => panic!("expected a 401, got {response:?}"),
        Err(err) => panic!("expected a 401, got {err}"),
    }
    let mut ada = example.connect_path("/?token=let-me-in");
    let mut grace = example.connect_path("/?token=open-sesame");
    assert_eq!(recv_text(&mut ada), "hello, ada");
    assert_eq!(recv_text(&mut grace), "hello, grace");
    ada.send(Message::text("hi")).unwrap();
    grace.send(Message::text("hey")).unwrap();
    assert_eq!(recv_text(&mut ada), "ada: hi");
    assert_eq!(recv_text(&mut grace), "grace: hey");
}

#[test]
fn rooms_keep_each_client_in_the_room_of_its_path() {
    let example = Example::start("rooms", &[]);
    let mut a1 = example.connect_path("/a");
    assert_eq!(recv_text(&mut a1), "welcome to a; 0 others here");
    let mut b = example.connect_path("/b");
    assert_eq!(recv_text(&mut b), "welcome to b; 0 others here");
    let mut a2 = example.connect_path("/a");
    assert_eq!(recv_text(&mut a2), "welcome to a; 1 others here");
    assert_eq!(recv_text(&mut a1), "127.0.0.1 joined");
    a2.send(Message::text("hello a")).unwrap();
    assert_eq!(recv_text(&mut a1), "[a] 127.0.0.1: hello a");
    b.send(Message::text("hello b")).unwrap();
    drop(a2);
    assert_eq!(recv_text(&mut a1), "127.0.0.1 left");
    // b heard nothing of room a; its own message went to nobody.
    b.get_mut()
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(b.read().is_err(), "b received something from another room");
}
