//! Per-connection state: made at the handshake, filled by `on_handshake`, handed to every event of
//! its client and given back to `on_close`; the handshake request readable for the connection's
//! life; response headers on acceptances and rejections.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use simple_ws_server::{ClientContext, CloseReason, Config, Decision, Handler, Message, Request};
use tungstenite::client::IntoClientRequest;

/// States alive now (made and not yet dropped), to show none is leaked.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// One client's state: who it is and how many messages it sent.
struct Session {
    user: String,
    count: u32,
}

impl Default for Session {
    fn default() -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Session {
            user: String::new(),
            count: 0,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accepts `?user=NAME` (with a cookie, and the `v1` subprotocol if offered), refuses the rest
/// with 401 and `WWW-Authenticate`; answers each message with the client's own count.
struct Counting {
    closed: Log<(String, u32)>,
}

impl Handler for Counting {
    type State = Session;

    fn on_handshake(&mut self, request: &Request, session: &mut Session) -> Decision {
        let Some(user) = request.query_param("user") else {
            return Decision::reject(401, "who are you?")
                .header("WWW-Authenticate", "Bearer realm=\"test\"");
        };
        session.user = user.to_owned();
        let decision = Decision::accept().header("Set-Cookie", "seen=1; HttpOnly");
        if request.protocols().any(|p| p == "v1") {
            decision.protocol("v1")
        } else {
            decision
        }
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, session: &mut Session, _: Message) {
        session.count += 1;
        let request = ctx.request();
        let line = format!(
            "{} #{} on {} ({})",
            session.user,
            session.count,
            request.path(),
            request.protocol().unwrap_or("no protocol"),
        );
        ctx.send(line);
    }

    fn on_close(&mut self, _: &mut ClientContext<'_>, session: Session, _: CloseReason) {
        self.closed
            .lock()
            .unwrap()
            .push((session.user.clone(), session.count));
    }
}

#[test]
fn each_client_has_its_own_state_from_the_handshake_to_on_close_and_none_is_leaked() {
    let closed: Log<(String, u32)> = Arc::new(Mutex::new(Vec::new()));
    let server = TestServer::start(
        Counting {
            closed: closed.clone(),
        },
        Config::default(),
    );
    let mut ada = connect_path(server.addr, "/room/a?user=ada");
    let mut request = format!("ws://{}/room/b?user=bob", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "v0, v1".parse().unwrap());
    let (mut bob, response) = tungstenite::client(request, tcp(server.addr)).unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "v1");
    assert_eq!(response.headers()["set-cookie"], "seen=1; HttpOnly");

    for i in 1..=3 {
        ada.send(tungstenite::Message::text("x")).unwrap();
        assert_eq!(
            recv_text(&mut ada),
            format!("ada #{i} on /room/a (no protocol)")
        );
    }
    bob.send(tungstenite::Message::text("y")).unwrap();
    assert_eq!(recv_text(&mut bob), "bob #1 on /room/b (v1)");

    // A refused handshake: its state is made for on_handshake, then dropped.
    let refused = http_exchange(server.addr, upgrade_request("/room/a").as_bytes());
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(
        refused.contains("\r\nwww-authenticate: Bearer realm=\"test\"\r\n"),
        "{refused}"
    );
    assert!(refused.ends_with("\r\n\r\nwho are you?\n"), "{refused}");

    ada.close(None).unwrap();
    assert!(wait_until(IO_TIMEOUT, || closed.lock().unwrap().len() == 1));
    assert_eq!(closed.lock().unwrap()[0], ("ada".to_owned(), 3));
    drop(bob);
    assert!(wait_until(IO_TIMEOUT, || closed.lock().unwrap().len() == 2));
    assert_eq!(closed.lock().unwrap()[1], ("bob".to_owned(), 1));
    // on_close got each state by value and dropped it; the refused one was dropped too.
    assert!(
        wait_until(Duration::from_secs(2), || LIVE.load(Ordering::SeqCst) == 0),
        "{} states leaked",
        LIVE.load(Ordering::SeqCst)
    );
    server.stop().unwrap();
}

#[test]
fn a_header_value_with_a_line_break_cannot_split_the_response() {
    struct Echoing;
    impl Handler for Echoing {
        type State = ();
        fn on_handshake(&mut self, request: &Request, _: &mut ()) -> Decision {
            // A value built from what the client sent, as careless code would.
            let name = request
                .query_param("n")
                .unwrap_or("")
                .replace("%0D%0A", "\r\n");
            Decision::reject(403, "no").header("X-Name", &name)
        }
        fn on_message(&mut self, _: &mut ClientContext<'_>, _: &mut (), _: Message) {}
    }
    let server = TestServer::start(Echoing, Config::default());
    let mut stream = tcp(server.addr);
    let request = upgrade_request("/?n=a%0D%0ASet-Cookie:%20evil=1");
    stream.write_all(request.as_bytes()).unwrap();
    let answer = String::from_utf8_lossy(&read_to_close(&mut stream)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("set-cookie"),
        "{answer}"
    );
    server.stop().unwrap();
}
