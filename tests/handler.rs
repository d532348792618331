//! The Handler contract: on_open/on_close pairing, ids that never alias, nothing left behind,
//! and what a context can do.

mod common;

use std::io::Write;
use std::net::Shutdown;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use simple_ws_server::{
    ClientContext, ClientId, CloseReason, Config, Decision, Handler, Message, Request,
};
use tungstenite::Message as WsMessage;

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Open(ClientId),
    Close(ClientId, CloseReason),
}

/// Records opens and closes, and obeys a few text commands.
struct Recorder {
    log: Log<Event>,
    first: Option<ClientId>,
}

impl Recorder {
    fn new() -> (Self, Log<Event>) {
        let log: Log<Event> = Arc::new(Mutex::new(Vec::new()));
        (
            Recorder {
                log: log.clone(),
                first: None,
            },
            log,
        )
    }
}

impl Handler for Recorder {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        self.first.get_or_insert(ctx.id());
        self.log.lock().unwrap().push(Event::Open(ctx.id()));
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        match message.as_text().unwrap_or("") {
            "connections" => ctx.send(ctx.connection_count().to_string()),
            "clients" => ctx.send(ctx.client_count().to_string()),
            "close-me" => ctx.disconnect(4000, "as you asked"),
            "to-first" => {
                if let Some(first) = self.first {
                    ctx.send_to(first, "for the first client only");
                }
            }
            "everyone" => ctx.broadcast("to everyone"),
            "others" => ctx.broadcast_others("to the others"),
            "whoami" => {
                let line = format!(
                    "{} {} {}",
                    ctx.peer(),
                    ctx.is_connected(ctx.id()),
                    ctx.clients().any(|id| id == ctx.id())
                );
                ctx.send(line);
            }
            _ => ctx.send(message),
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _: (), reason: CloseReason) {
        assert!(
            !ctx.is_connected(ctx.id()),
            "a closed client still counts as connected"
        );
        self.log
            .lock()
            .unwrap()
            .push(Event::Close(ctx.id(), reason));
    }
}

fn opens_and_closes(log: &Log<Event>) -> (usize, usize) {
    let log = log.lock().unwrap();
    let opens = log.iter().filter(|e| matches!(e, Event::Open(_))).count();
    (opens, log.len() - opens)
}

/// Checks that every close follows exactly one open of the same id, and every open has a close.
fn assert_paired(log: &Log<Event>) {
    let log = log.lock().unwrap();
    let mut open = std::collections::HashSet::new();
    for event in log.iter() {
        match event {
            Event::Open(id) => assert!(open.insert(*id), "{id} opened twice"),
            Event::Close(id, _) => assert!(open.remove(id), "{id} closed without being open"),
        }
    }
    assert!(open.is_empty(), "opened but never closed: {open:?}");
}

fn ask(client: &mut Client, question: &str) -> String {
    client.send(WsMessage::text(question)).unwrap();
    recv_text(client)
}

#[test]
fn on_close_runs_exactly_once_per_on_open_under_random_disconnects() {
    let (handler, log) = Recorder::new();
    let server = TestServer::start(handler, Config::default());
    let addr = server.addr;
    let threads: Vec<_> = (0..4u64)
        .map(|seed| {
            std::thread::spawn(move || {
                let mut state = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let mut opened = 0;
                for _ in 0..60 {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    match (state >> 33) % 7 {
                        0 => {
                            let mut c = connect(addr);
                            c.close(None).unwrap();
                            while c.read().is_ok() {}
                            opened += 1;
                        }
                        1 => {
                            let c = connect(addr);
                            c.get_ref().shutdown(Shutdown::Both).unwrap();
                            opened += 1;
                        }
                        2 => {
                            let c = connect(addr).into_inner();
                            socket2::SockRef::from(&c)
                                .set_linger(Some(Duration::ZERO))
                                .unwrap();
                            opened += 1;
                        }
                        3 => {
                            let mut c = connect(addr);
                            c.send(WsMessage::text("close-me")).unwrap();
                            assert_eq!(recv_close_code(&mut c), 4000);
                            opened += 1;
                        }
                        4 => {
                            // Never finishes its handshake: no on_open, so no on_close either.
                            let mut s = tcp(addr);
                            s.write_all(b"GET / HTTP/1.1\r\nUpgrade: webs").unwrap();
                        }
                        5 => {
                            let mut s = raw_upgrade(addr);
                            s.write_all(&frame(0x3, true, b"reserved opcode", true))
                                .unwrap();
                            assert_eq!(read_close_code(&mut s), 1002);
                            opened += 1;
                        }
                        _ => {
                            let mut c = connect(addr);
                            c.send(WsMessage::text("hello")).unwrap();
                            drop(c);
                            opened += 1;
                        }
                    }
                }
                opened
            })
        })
        .collect();
    let opened: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(
        wait_until(Duration::from_secs(10), || opens_and_closes(&log)
            == (opened, opened)),
        "opens and closes: {:?}, expected {opened} of each",
        opens_and_closes(&log)
    );
    server.stop().unwrap();
    assert_eq!(opens_and_closes(&log), (opened, opened));
    assert_paired(&log);
}

#[test]
fn ten_thousand_clients_connecting_and_leaving_leave_nothing_behind() {
    let (handler, log) = Recorder::new();
    let server = TestServer::start(handler, Config::default());
    let addr = server.addr;
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..1250 {
                    let mut c = connect(addr);
                    if (t + i) % 2 == 0 {
                        c.close(None).unwrap();
                        while c.read().is_ok() {}
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut probe = connect(addr);
    assert!(
        wait_until(Duration::from_secs(10), || ask(&mut probe, "connections")
            == "1"),
        "connections held: {}",
        ask(&mut probe, "connections")
    );
    assert_eq!(ask(&mut probe, "clients"), "1");
    assert_eq!(opens_and_closes(&log), (10_001, 10_000));
}

#[test]
fn a_message_for_a_client_that_left_never_reaches_the_client_in_its_slot() {
    let (handler, log) = Recorder::new();
    let server = TestServer::start(handler, Config::default());
    let mut first = connect(server.addr);
    first.close(None).unwrap();
    while first.read().is_ok() {}
    assert!(wait_until(Duration::from_secs(5), || opens_and_closes(
        &log
    ) == (1, 1)));
    let mut second = connect(server.addr);
    // The client can read the 101 before the server's loop has run on_open.
    assert!(wait_until(Duration::from_secs(5), || opens_and_closes(
        &log
    ) == (2, 1)));
    let ids: Vec<ClientId> = log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Open(id) => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 2);
    // Same slot, new generation.
    assert_eq!(ids[0].as_u64() & 0xffff_ffff, ids[1].as_u64() & 0xffff_ffff);
    assert_ne!(ids[0], ids[1]);
    second.send(WsMessage::text("to-first")).unwrap();
    server
        .handle
        .send(ids[0], "from another thread, for the first")
        .unwrap();
    assert_silent(&mut second, Duration::from_millis(300));
    assert_eq!(ask(&mut second, "ping"), "ping");
}

#[test]
fn a_context_sends_to_one_all_and_all_but_one_and_closes_with_a_code() {
    let (handler, _log) = Recorder::new();
    let server = TestServer::start(handler, Config::default());
    let mut a = connect(server.addr);
    let mut b = connect(server.addr);
    assert_eq!(ask(&mut a, "clients"), "2");
    let whoami = ask(&mut a, "whoami");
    assert!(
        whoami.starts_with("127.0.0.1:") && whoami.ends_with(" true true"),
        "{whoami}"
    );
    a.send(WsMessage::text("everyone")).unwrap();
    assert_eq!(recv_text(&mut a), "to everyone");
    assert_eq!(recv_text(&mut b), "to everyone");
    a.send(WsMessage::text("others")).unwrap();
    assert_eq!(recv_text(&mut b), "to the others");
    assert_silent(&mut a, Duration::from_millis(200));
    b.send(WsMessage::text("close-me")).unwrap();
    match b.read() {
        Ok(WsMessage::Close(Some(frame))) => {
            assert_eq!(u16::from(frame.code), 4000);
            assert_eq!(frame.reason.as_str(), "as you asked");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    assert_eq!(ask(&mut a, "clients"), "1");
}

/// Accepts `/chat` with the `chat` subprotocol, refuses other paths, and wants a token.
struct Gate;

impl Handler for Gate {
    type State = ();

    fn on_handshake(&mut self, request: &Request, _: &mut ()) -> Decision {
        if request.path() != "/chat" {
            return Decision::reject(404, "no such room");
        }
        if request.query_param("token") != Some("s3cret") {
            return Decision::reject(401, "a token is required");
        }
        match request.protocols().find(|p| *p == "chat") {
            Some(p) => Decision::accept_protocol(p),
            None => Decision::accept(),
        }
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        ctx.send(message);
    }
}

#[test]
fn the_handshake_hook_sees_the_request_and_can_reject_or_pick_a_subprotocol() {
    let server = TestServer::start(Gate, Config::default());
    let get = |path: &str, extra: &str| {
        let request = upgrade_request(path).replace("\r\n\r\n", &format!("\r\n{extra}\r\n\r\n"));
        http_exchange(server.addr, request.as_bytes())
    };
    let response = get("/elsewhere?token=s3cret", "X-A: 1");
    assert!(
        response.starts_with("HTTP/1.1 404") && response.ends_with("no such room\n"),
        "{response}"
    );
    let response = get("/chat?token=wrong", "X-A: 1");
    assert!(
        response.starts_with("HTTP/1.1 401") && response.ends_with("a token is required\n"),
        "{response}"
    );
    // Accepted: read only the response head, since the connection then stays open.
    let mut stream = tcp(server.addr);
    let request = upgrade_request("/chat?token=s3cret").replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Protocol: superchat, chat\r\n\r\n",
    );
    stream.write_all(request.as_bytes()).unwrap();
    let head = read_http_head(&mut stream).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("sec-websocket-protocol: chat\r\n"), "{head}");
    let mut client = connect_path(server.addr, "/chat?token=s3cret");
    assert_eq!(ask(&mut client, "through the gate"), "through the gate");
}
