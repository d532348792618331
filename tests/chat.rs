//! The chat example, line for line as the original.

mod common;

use std::net::Shutdown;
use std::time::Duration;

use common::examples::Chat;
use common::*;
use simple_ws_server::Config;
use tungstenite::Message;

#[test]
fn three_clients_see_exactly_the_original_lines() {
    let server = TestServer::start(Chat, Config::default());
    let mut a = connect(server.addr);
    let mut b = connect(server.addr);
    assert_eq!(recv_text(&mut a), "127.0.0.1 - connected");
    let mut c = connect(server.addr);
    assert_eq!(recv_text(&mut a), "127.0.0.1 - connected");
    assert_eq!(recv_text(&mut b), "127.0.0.1 - connected");

    a.send(Message::text("hello from a")).unwrap();
    assert_eq!(recv_text(&mut b), "127.0.0.1 - hello from a");
    assert_eq!(recv_text(&mut c), "127.0.0.1 - hello from a");

    // The sender gets no copy, and the newcomer heard nothing of its own arrival.
    assert_silent(&mut a, Duration::from_millis(200));

    // A binary message is relayed as binary, with the same prefix.
    b.send(Message::binary(vec![0xde, 0xad])).unwrap();
    for client in [&mut a, &mut c] {
        match recv(client) {
            Message::Binary(bytes) => assert_eq!(&bytes[..], b"127.0.0.1 - \xde\xad"),
            other => panic!("expected binary, got {other:?}"),
        }
    }

    // A close frame.
    c.close(None).unwrap();
    assert_eq!(recv_text(&mut a), "127.0.0.1 - disconnected");
    assert_eq!(recv_text(&mut b), "127.0.0.1 - disconnected");

    // An abrupt TCP drop, no close frame.
    b.get_mut().shutdown(Shutdown::Both).unwrap();
    drop(b);
    assert_eq!(recv_text(&mut a), "127.0.0.1 - disconnected");

    // The survivor still chats with a newcomer.
    let mut d = connect(server.addr);
    assert_eq!(recv_text(&mut a), "127.0.0.1 - connected");
    d.send(Message::text("hi")).unwrap();
    assert_eq!(recv_text(&mut a), "127.0.0.1 - hi");
}

#[test]
fn a_reset_connection_is_announced_as_disconnected() {
    let server = TestServer::start(Chat, Config::default());
    let mut a = connect(server.addr);
    let b = connect(server.addr);
    assert_eq!(recv_text(&mut a), "127.0.0.1 - connected");
    // SO_LINGER 0 turns the close into a TCP reset.
    let stream = b.into_inner();
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
    // Announced at once, not at the loop's next unrelated event (a bug once held the notice back
    // until the 10 s handshake deadline woke the loop).
    a.get_mut()
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    assert_eq!(recv_text(&mut a), "127.0.0.1 - disconnected");
}
