//! `simple-ws-server --example rooms` on one loop: the chat's lines, inside the room the URL path
//! names only; the loop's topic gauge on /metrics.

mod common;
mod scale_support;

use std::time::Duration;

use common::*;
use scale_support::*;
use tungstenite::Message;

const QUIET: Duration = Duration::from_millis(200);

#[test]
fn rooms_tell_the_chat_lines_to_the_other_members_of_the_room_only() {
    let server = Instance::start(&["--example", "rooms"]);
    let mut a1 = connect_path(server.addr, "/a");
    let mut b = connect_path(server.addr, "/b");
    assert_silent(&mut a1, QUIET);
    let mut a2 = connect_path(server.addr, "/a");
    assert_eq!(recv_text(&mut a1), "127.0.0.1 - connected");
    a1.send(Message::text("hi")).unwrap();
    assert_eq!(recv_text(&mut a2), "127.0.0.1 - hi");
    assert_silent(&mut a1, QUIET);
    let metrics = http_exchange(server.addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(metrics.contains("\nwebsocket_topics 2\n"), "{metrics}");
    drop(a2);
    assert_eq!(recv_text(&mut a1), "127.0.0.1 - disconnected");
    // Room /b heard nothing of room /a.
    assert_silent(&mut b, QUIET);
    drop(b);
    assert!(wait_until(Duration::from_secs(5), || {
        http_exchange(server.addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .contains("\nwebsocket_topics 1\n")
    }));
}
