//! The echo example over real sockets, and the protocol answers every connection gets.

mod common;

use std::io::Write;

use common::examples::Echo;
use common::*;
use simple_ws_server::Config;
use tungstenite::Message;

#[test]
fn echo_returns_text_binary_and_empty_messages_as_they_came() {
    let server = TestServer::start(Echo, Config::default());
    let mut client = connect(server.addr);
    for message in [
        Message::text("Hello World!"),
        Message::binary(vec![0u8, 1, 2, 255]),
        Message::text(""),
        Message::binary(Vec::new()),
        Message::text("ünïcödé ✓"),
    ] {
        client.send(message.clone()).unwrap();
        assert_eq!(recv(&mut client), message);
    }
}

#[test]
fn echo_returns_a_16_mib_message_whole() {
    let server = TestServer::start(Echo, Config::default().max_message_size(32 << 20));
    let mut client = connect(server.addr);
    let payload: Vec<u8> = (0..16 << 20).map(|i: u32| (i % 251) as u8).collect();
    client.send(Message::binary(payload.clone())).unwrap();
    match recv(&mut client) {
        Message::Binary(bytes) => assert!(bytes == payload, "the echo differs"),
        other => panic!("expected binary, got {other:?}"),
    }
}

#[test]
fn a_fragmented_message_is_echoed_reassembled() {
    let server = TestServer::start(Echo, Config::default());
    let mut stream = raw_upgrade(server.addr);
    let mut bytes = frame(0x1, false, b"Hel", true);
    bytes.extend(frame(0x9, true, b"ping in between", true));
    bytes.extend(frame(0x0, false, b"lo ", true));
    bytes.extend(frame(0x0, true, b"World", true));
    stream.write_all(&bytes).unwrap();
    assert_eq!(read_frame(&mut stream), (0xA, b"ping in between".to_vec()));
    assert_eq!(read_frame(&mut stream), (0x1, b"Hello World".to_vec()));
}

#[test]
fn bytes_sent_together_with_the_handshake_are_kept() {
    let server = TestServer::start(Echo, Config::default());
    let mut stream = tcp(server.addr);
    let mut bytes = upgrade_request("/").into_bytes();
    bytes.extend(frame(0x1, true, b"early", true));
    stream.write_all(&bytes).unwrap();
    assert!(read_http_head(&mut stream).starts_with("HTTP/1.1 101"));
    assert_eq!(read_frame(&mut stream), (0x1, b"early".to_vec()));
}

#[test]
fn two_hundred_concurrent_clients_echo_at_once() {
    let server = TestServer::start(Echo, Config::default());
    let addr = server.addr;
    let threads: Vec<_> = (0..200)
        .map(|i| {
            std::thread::spawn(move || {
                let mut client = connect(addr);
                for round in 0..20 {
                    let text = format!("client {i} round {round}");
                    client.send(Message::text(text.clone())).unwrap();
                    assert_eq!(recv_text(&mut client), text);
                }
                client.close(None).unwrap();
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a client failed");
    }
}

#[test]
fn invalid_utf8_is_answered_with_close_1007() {
    let server = TestServer::start(Echo, Config::default());
    let mut stream = raw_upgrade(server.addr);
    stream
        .write_all(&frame(0x1, true, &[0xce, 0xba, 0xff, 0xfe], true))
        .unwrap();
    assert_eq!(read_close_code(&mut stream), 1007);
}

#[test]
fn an_unmasked_client_frame_is_answered_with_close_1002() {
    let server = TestServer::start(Echo, Config::default());
    let mut stream = raw_upgrade(server.addr);
    stream
        .write_all(&frame(0x1, true, b"naked", false))
        .unwrap();
    assert_eq!(read_close_code(&mut stream), 1002);
}

#[test]
fn a_message_over_the_limit_is_answered_with_close_1009() {
    let server = TestServer::start(Echo, Config::default().max_message_size(1000));
    let mut stream = raw_upgrade(server.addr);
    stream
        .write_all(&frame(0x2, true, &[7u8; 1001], true))
        .unwrap();
    assert_eq!(read_close_code(&mut stream), 1009);
    // Fragments that add up past the limit, each one under it.
    let mut stream = raw_upgrade(server.addr);
    let mut bytes = frame(0x2, false, &[7u8; 600], true);
    bytes.extend(frame(0x0, true, &[7u8; 600], true));
    stream.write_all(&bytes).unwrap();
    assert_eq!(read_close_code(&mut stream), 1009);
}

#[test]
fn a_malformed_handshake_gets_400_while_other_clients_carry_on() {
    let server = TestServer::start(Echo, Config::default());
    let mut bystander = connect(server.addr);
    let response = http_exchange(server.addr, b"\x16\x03\x01 this is not http\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    let no_key = upgrade_request("/").replace("Sec-WebSocket-Key", "X-Not-A-Key");
    let response = http_exchange(server.addr, no_key.as_bytes());
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    let old = upgrade_request("/").replace("Version: 13", "Version: 8");
    let response = http_exchange(server.addr, old.as_bytes());
    assert!(response.starts_with("HTTP/1.1 426"), "{response}");
    assert!(response.contains("Sec-WebSocket-Version: 13"), "{response}");
    bystander.send(Message::text("still here")).unwrap();
    assert_eq!(recv_text(&mut bystander), "still here");
}

#[test]
fn plain_get_serves_the_page_and_other_paths_get_404() {
    let server = TestServer::start(Echo, Config::default());
    let page = http_exchange(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("Content-Type: text/html"));
    assert!(page.contains("<html") && page.contains("Hello World!"));
    let missing = http_exchange(server.addr, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let post = http_exchange(
        server.addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(post.starts_with("HTTP/1.1 404"), "{post}");
}

#[test]
fn pings_are_answered_with_pongs() {
    let server = TestServer::start(Echo, Config::default());
    let mut stream = raw_upgrade(server.addr);
    stream
        .write_all(&frame(0x9, true, b"are you there", true))
        .unwrap();
    assert_eq!(read_frame(&mut stream), (0xA, b"are you there".to_vec()));
}

/// Regression test for the read fast path: a frame whose header arrives in pieces across reads is
/// kept between reads (not lost, not handed half to tungstenite), then echoed whole.
#[test]
fn a_frame_trickled_byte_by_byte_is_echoed_whole() {
    let server = TestServer::start(Echo, Config::default());
    let mut stream = raw_upgrade(server.addr);
    let payload = vec![b'x'; 300]; // a 16-bit length: a 8-byte header with the mask key
    let bytes = frame(0x2, true, &payload, true);
    for byte in &bytes[..12] {
        stream.write_all(std::slice::from_ref(byte)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    stream.write_all(&bytes[12..]).unwrap();
    stream.write_all(&frame(0x1, true, b"next", true)).unwrap();
    assert_eq!(read_frame(&mut stream), (0x2, payload));
    assert_eq!(read_frame(&mut stream), (0x1, b"next".to_vec()));
}
