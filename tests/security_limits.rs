//! Handshake policy (origins, the handshake hook), limits (message, frame, handshake size,
//! connections) and time (handshake, idle and close timeouts), each over real sockets.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::examples::Echo;
use common::*;
use simple_ws_server::{ClientContext, CloseReason, Config, Decision, Handler, Request};
use tungstenite::{self, Message};

/// Echo, with the handshake hook of a small application and a record of every on_close.
struct Guarded {
    closed: Log<CloseReason>,
}

impl Handler for Guarded {
    type State = ();

    fn on_handshake(&mut self, request: &Request, _: &mut ()) -> Decision {
        if request.path() == "/private" {
            let token = request.query_param("token").or_else(|| {
                request
                    .header("authorization")
                    .and_then(|v| v.strip_prefix("Bearer "))
            });
            if token != Some("s3cret") {
                return Decision::reject(401, "a valid token is required");
            }
        }
        if request.path() == "/nowhere" {
            return Decision::reject(404, "no such endpoint");
        }
        match request.protocols().find(|p| *p == "chat.v1") {
            Some(protocol) => Decision::accept_protocol(protocol),
            None => Decision::accept(),
        }
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message2) {
        if message.as_text() == Some("close me") {
            ctx.disconnect(4000, "as asked");
        } else {
            ctx.send(message);
        }
    }

    fn on_close(&mut self, _ctx: &mut ClientContext<'_>, _: (), reason: CloseReason) {
        self.closed.lock().unwrap().push(reason);
    }
}

type Message2 = simple_ws_server::Message;

fn guarded(config: Config) -> (TestServer, Log<CloseReason>) {
    let closed: Log<CloseReason> = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::start(
        Guarded {
            closed: closed.clone(),
        },
        config,
    );
    (server, closed)
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

#[test]
fn origins_off_the_allow_list_get_403() {
    let server = TestServer::start(
        Echo,
        Config::default()
            .allow_origin("https://good.example")
            .allow_origin("http://localhost:8000"),
    );
    for (origin, expected) in [
        ("Origin: https://good.example\r\n", "HTTP/1.1 101"),
        ("Origin: http://localhost:8000/\r\n", "HTTP/1.1 101"),
        ("Origin: https://evil.example\r\n", "HTTP/1.1 403"),
        (
            "Origin: https://good.example.evil.example\r\n",
            "HTTP/1.1 403",
        ),
        ("", "HTTP/1.1 403"),
    ] {
        let mut stream = tcp(server.addr);
        stream
            .write_all(upgrade_request_with("/", origin).as_bytes())
            .unwrap();
        let head = read_http_head(&mut stream);
        assert!(head.starts_with(expected), "{origin:?}: {head}");
    }
    // Without an allow-list, any origin is accepted (WebSockets are cross-origin by design).
    let open = TestServer::start(Echo, Config::default());
    let response = {
        let mut stream = tcp(open.addr);
        let request = upgrade_request_with("/", "Origin: https://evil.example\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        read_http_head(&mut stream)
    };
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
}

#[test]
fn the_handshake_hook_rejects_with_401_and_404_and_picks_a_subprotocol() {
    let (server, closed) = guarded(Config::default());
    let response = http_exchange(server.addr, upgrade_request("/private").as_bytes());
    assert_eq!(status_line(&response), "HTTP/1.1 401 Unauthorized");
    assert!(
        response.ends_with("a valid token is required\n"),
        "{response}"
    );
    let response = http_exchange(
        server.addr,
        upgrade_request("/private?token=wrong").as_bytes(),
    );
    assert_eq!(status_line(&response), "HTTP/1.1 401 Unauthorized");
    let response = http_exchange(server.addr, upgrade_request("/nowhere").as_bytes());
    assert_eq!(status_line(&response), "HTTP/1.1 404 Not Found");

    // The right token, by query parameter or by header.
    let mut by_query = connect_path(server.addr, "/private?token=s3cret");
    assert_echoes(&mut by_query, "in by query");
    let mut stream = tcp(server.addr);
    let request = upgrade_request_with("/private", "Authorization: Bearer s3cret\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    assert!(read_http_head(&mut stream).starts_with("HTTP/1.1 101"));

    // A subprotocol the client offers is chosen; the tungstenite client checks the answer.
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{}/",
        server.addr
    ))
    .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "chat.v2, chat.v1".parse().unwrap(),
    );
    let (mut client, response) = tungstenite::client(request, tcp(server.addr)).unwrap();
    assert_eq!(
        response.headers().get("sec-websocket-protocol").unwrap(),
        "chat.v1"
    );
    assert_echoes(&mut client, "with a subprotocol");
    // Rejected handshakes never reach on_open, so never on_close.
    drop(client);
    drop(by_query);
    drop(stream);
    assert!(wait_until(Duration::from_secs(5), || closed
        .lock()
        .unwrap()
        .len()
        == 3));
    assert!(closed
        .lock()
        .unwrap()
        .iter()
        .all(|r| *r == CloseReason::Disconnected || matches!(r, CloseReason::ByClient { .. })));
}

#[test]
fn a_message_over_the_limit_closes_with_1009() {
    let (server, closed) = guarded(Config::default().max_message_size(1000));
    let mut client = connect(server.addr);
    client.send(Message::binary(vec![1u8; 1000])).unwrap();
    assert_eq!(recv(&mut client), Message::binary(vec![1u8; 1000]));
    client.send(Message::binary(vec![1u8; 1001])).unwrap();
    assert_eq!(recv_close_code(&mut client), 1009);

    // Fragments that add up to more than the limit, each small.
    let mut raw = raw_upgrade(server.addr);
    raw.write_all(&frame(0x2, false, &[0u8; 600], true))
        .unwrap();
    raw.write_all(&frame(0x0, true, &[0u8; 600], true)).unwrap();
    assert_eq!(read_close_code(&mut raw), 1009);

    // A frame header announcing more than the limit is refused before its payload arrives.
    let mut raw = raw_upgrade(server.addr);
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(10u64 << 20).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    raw.write_all(&header).unwrap();
    assert_eq!(read_close_code(&mut raw), 1009);
    assert!(wait_until(Duration::from_secs(5), || closed
        .lock()
        .unwrap()
        .iter()
        .filter(|r| **r == CloseReason::ProtocolError { code: 1009 })
        .count()
        == 3));
}

#[test]
fn a_handshake_over_the_size_limit_gets_431() {
    let server = TestServer::start(Echo, Config::default().max_handshake_size(1024));
    let big = format!("X-Filler: {}\r\n", "a".repeat(2000));
    let response = http_exchange(server.addr, upgrade_request_with("/", &big).as_bytes());
    assert_eq!(
        status_line(&response),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    // Just under the limit is fine.
    let small = format!("X-Filler: {}\r\n", "a".repeat(700));
    let mut stream = tcp(server.addr);
    stream
        .write_all(upgrade_request_with("/", &small).as_bytes())
        .unwrap();
    assert!(read_http_head(&mut stream).starts_with("HTTP/1.1 101"));
}

#[test]
fn connections_past_the_limit_get_503_and_the_loop_stays_responsive() {
    let server = TestServer::start(Echo, Config::default().max_connections(3));
    let mut clients: Vec<_> = (0..3).map(|_| connect(server.addr)).collect();
    // A burst of refused connections, while the admitted clients keep being served.
    for round in 0..5 {
        let refused: Vec<_> = (0..40).map(|_| tcp(server.addr)).collect();
        for mut stream in refused {
            let answer = String::from_utf8_lossy(&read_to_close(&mut stream)).into_owned();
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        }
        let start = Instant::now();
        for client in &mut clients {
            assert_echoes(client, &format!("round {round}"));
        }
        assert!(start.elapsed() < Duration::from_secs(1));
    }
    // A place frees up: a new client gets in.
    let mut gone = clients.pop().unwrap();
    gone.close(None).unwrap();
    let _ = recv_close_or_end(&mut gone);
    assert!(wait_until(Duration::from_secs(5), || {
        let mut stream = tcp(server.addr);
        stream.write_all(upgrade_request("/").as_bytes()).unwrap();
        read_http_head(&mut stream).starts_with("HTTP/1.1 101")
    }));
}

fn recv_close_or_end<S: Read + Write>(client: &mut tungstenite::WebSocket<S>) -> bool {
    loop {
        match client.read() {
            Ok(_) => continue,
            Err(_) => return true,
        }
    }
}

#[test]
fn the_handshake_timeout_ends_slowloris_clients() {
    let (server, closed) = guarded(Config::default().handshake_timeout(Duration::from_millis(400)));
    let mut bystander = connect(server.addr);
    let start = Instant::now();
    // A byte every 50 ms: the request never completes within the timeout.
    let mut slow = tcp(server.addr);
    let request = upgrade_request("/");
    let mut ended = None;
    for byte in request.as_bytes() {
        if slow.write_all(&[*byte]).is_err() {
            ended = Some(start.elapsed());
            break;
        }
        let mut buf = [0u8; 64];
        slow.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        match slow.read(&mut buf) {
            Ok(0) => {
                ended = Some(start.elapsed());
                break;
            }
            Ok(n) => panic!("unexpected answer {:?}", &buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                ended = Some(start.elapsed());
                break;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(5), "never closed");
    }
    let ended = ended.expect("the slow handshake was closed");
    assert!(
        ended >= Duration::from_millis(350) && ended < Duration::from_secs(3),
        "closed after {ended:?}"
    );
    assert_echoes(&mut bystander, "unaffected");
    // The bystander stays: an open client is not subject to the handshake timeout.
    std::thread::sleep(Duration::from_millis(500));
    assert_echoes(&mut bystander, "still unaffected");
    // No handshake finished, so no on_close.
    assert!(closed.lock().unwrap().is_empty());
}

#[test]
fn idle_clients_are_pinged_and_closed_when_they_do_not_answer() {
    let (server, closed) = guarded(
        Config::default()
            .idle_timeout(Some(Duration::from_millis(300)))
            .pong_timeout(Duration::from_millis(300)),
    );
    // A client that answers pings (tungstenite answers them while reading) stays.
    let mut alive = connect(server.addr);
    let alive_thread = std::thread::spawn(move || {
        alive
            .get_mut()
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let start = Instant::now();
        let mut pings = 0;
        while start.elapsed() < Duration::from_millis(1500) {
            match alive.read() {
                Ok(Message::Ping(_)) => pings += 1,
                Ok(other) => panic!("unexpected {other:?}"),
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    let _ = alive.flush();
                }
                Err(e) => panic!("the answering client was dropped: {e}"),
            }
        }
        alive.get_mut().set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        assert_echoes(&mut alive, "alive");
        pings
    });
    // A dead peer: it completed its handshake and then never reads or answers.
    let start = Instant::now();
    let mut dead = raw_upgrade(server.addr);
    let (opcode, _) = read_frame(&mut dead);
    let pinged_after = start.elapsed();
    assert_eq!(opcode, 0x9, "a ping");
    assert!(
        pinged_after >= Duration::from_millis(250),
        "{pinged_after:?}"
    );
    // Then the server gives up: the connection ends without a word more.
    let rest = read_to_close(&mut dead);
    let closed_after = start.elapsed();
    assert!(rest.is_empty() || rest[0] & 0x0f == 0x8, "{rest:?}");
    assert!(
        closed_after >= Duration::from_millis(500) && closed_after < Duration::from_secs(3),
        "{closed_after:?}"
    );
    assert!(wait_until(Duration::from_secs(2), || closed
        .lock()
        .unwrap()
        .contains(&CloseReason::Timeout)));
    let pings = alive_thread.join().unwrap();
    assert!(
        pings >= 2,
        "the quiet but answering client was pinged {pings} times"
    );
    assert_eq!(
        closed
            .lock()
            .unwrap()
            .iter()
            .filter(|r| **r == CloseReason::Timeout)
            .count(),
        1
    );
}

#[test]
fn a_peer_that_never_answers_a_close_is_dropped_after_the_close_timeout() {
    let (server, closed) = guarded(Config::default().close_timeout(Duration::from_millis(400)));
    let mut raw = raw_upgrade(server.addr);
    raw.write_all(&frame(0x1, true, b"close me", true)).unwrap();
    let start = Instant::now();
    assert_eq!(read_close_code(&mut raw), 4000);
    // We neither answer the close frame nor close the socket; the server drops us.
    let rest = read_to_close(&mut raw);
    let elapsed = start.elapsed();
    assert!(rest.is_empty(), "{rest:?}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(3),
        "dropped after {elapsed:?}"
    );
    assert_eq!(
        *closed.lock().unwrap(),
        [CloseReason::ByServer { code: 4000 }]
    );
    let _ = raw.shutdown(Shutdown::Both);
}
