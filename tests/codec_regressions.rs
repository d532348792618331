//! Regressions of the frame codec and the connection around it (issue 11), each over real
//! sockets: what a hostile or merely unusual client did to the server before the codec was
//! written (src/codec), and what it gets now.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::examples::Echo;
use common::*;
use simple_ws_server::{ClientContext, Config, Handler, Message};

/// A masked header (no payload) claiming `len` bytes, in the 8-byte length form.
fn long_header(b0: u8, len: u64) -> Vec<u8> {
    let mut head = vec![b0, 0x80 | 127];
    head.extend_from_slice(&len.to_be_bytes());
    head.extend_from_slice(&[1, 2, 3, 4]);
    head
}

#[test]
fn a_frame_length_with_the_top_bit_set_gets_1002_at_once() {
    // Before: no answer at all (the length was only compared with the frame limit once the
    // payload had arrived, so the stream desynchronised).
    let server = TestServer::start(Echo, Config::default());
    let mut raw = raw_upgrade(server.addr);
    raw.write_all(&long_header(0x82, u64::MAX)).unwrap();
    assert_eq!(read_close_code(&mut raw), 1002);
    let mut bystander = connect(server.addr);
    assert_echoes(&mut bystander, "still serving");
}

#[test]
fn a_control_frame_claiming_1_mib_is_refused_from_its_header() {
    // Before: the frame was within the frame limit (1 MiB), so the server waited to buffer its
    // whole payload before finding it was a ping over 125 bytes. Only the header is sent here.
    let server = TestServer::start(Echo, Config::default());
    for b0 in [0x89, 0x8a, 0x88] {
        let mut raw = raw_upgrade(server.addr);
        raw.write_all(&long_header(b0, 1 << 20)).unwrap();
        assert_eq!(read_close_code(&mut raw), 1002, "opcode {b0:#x}");
    }
}

#[test]
fn a_ping_flood_from_a_client_that_never_reads_keeps_server_memory_bounded() {
    // Before: every ping queued a pong outside the backlog limit; 24 MB of pings grew the
    // server by about 21 MB. Now at most one pong waits for a client that does not read.
    let server = Binary::start(&["--example", "echo"]);
    let mut bystander = connect(server.addr);
    assert_echoes(&mut bystander, "before");
    let before = proc_status_kib(server.pid(), "VmRSS:");
    let mut raw = raw_upgrade(server.addr);
    let ping = frame(0x9, true, &[b'p'; 125], true);
    let chunk: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 8000)
        .collect();
    let mut written = 0;
    while written < 24_000_000 {
        raw.write_all(&chunk)
            .expect("the server keeps reading the pings");
        written += chunk.len();
    }
    // The server has read them all once it answers the bystander after a last ping.
    raw.write_all(&frame(0x1, true, b"done", true)).unwrap();
    assert_echoes(&mut bystander, "after the flood");
    std::thread::sleep(Duration::from_millis(200));
    let grown = proc_status_kib(server.pid(), "VmRSS:").saturating_sub(before);
    eprintln!("the server grew by {grown} KiB during the flood");
    assert!(grown < 4 * 1024, "the server grew by {grown} KiB");
}

#[test]
fn a_slow_steady_upload_of_one_message_is_not_timed_out() {
    // Before: only a whole frame counted as life, so a client uploading one large message for
    // longer than idle + pong timeout was closed mid-message.
    let config = Config::default()
        .idle_timeout(Some(Duration::from_millis(150)))
        .pong_timeout(Duration::from_millis(150));
    let server = TestServer::start(Echo, config);
    let mut raw = raw_upgrade(server.addr);
    let payload: Vec<u8> = (0..120_000u32).map(|i| i as u8).collect();
    let bytes = frame(0x2, true, &payload, true);
    let start = Instant::now();
    for piece in bytes.chunks(bytes.len() / 30 + 1) {
        raw.write_all(piece).expect("still connected");
        std::thread::sleep(Duration::from_millis(40));
    }
    assert!(start.elapsed() > Duration::from_millis(600));
    // The server may have pinged meanwhile (this client never answers); the echo follows.
    loop {
        match read_frame(&mut raw) {
            (0x9, _) => continue,
            (opcode, echoed) => {
                assert_eq!(opcode, 0x2);
                assert!(echoed == payload, "the echo differs");
                break;
            }
        }
    }
}

#[test]
fn invalid_utf8_inside_a_text_frame_not_yet_whole_gets_1007_at_once() {
    // Before: text was checked once its frame had fully arrived, so a client could send a
    // frame's invalid start and hold the connection open (Autobahn 6.4.3 and 6.4.4, NON-STRICT).
    let server = TestServer::start(Echo, Config::default());
    let mut raw = raw_upgrade(server.addr);
    let mut payload = "κόσμε".as_bytes().to_vec();
    payload.extend_from_slice(&[0xce, 0xbc, 0xf4, 0x90, 0x80, 0x80]);
    payload.extend_from_slice(&[b'x'; 100]);
    let bytes = frame(0x1, true, &payload, true);
    // The header, the valid start and the invalid bytes; the rest is never sent.
    raw.write_all(&bytes[..8 + 16]).unwrap();
    assert_eq!(read_close_code(&mut raw), 1007);
}

/// Closes each client with the code it sends as text.
struct CloseWith;

impl Handler for CloseWith {
    fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message) {
        if let Some(code) = message.as_text().and_then(|t| t.parse().ok()) {
            ctx.disconnect(code, "chosen by the handler");
        }
    }
}

#[test]
fn handler_chosen_close_codes_never_put_forbidden_codes_on_the_wire() {
    // Before: the handler's code went out as given, 1005, 1006 and 1015 included, although
    // RFC 6455 7.4.1 says they "MUST NOT be set as a status code in a Close control frame".
    let server = TestServer::start(CloseWith, Config::default());
    let cases: &[(u16, Option<u16>)] = &[
        (1000, Some(1000)),
        (4000, Some(4000)),
        (1014, Some(1014)),
        // "No status": a close frame without a payload, which is what it stands for.
        (1005, None),
        // Never valid on the wire: 1011 (internal error) instead, with a warning in the log.
        (1006, Some(1011)),
        (1015, Some(1011)),
        (1004, Some(1011)),
        (999, Some(1011)),
        (2000, Some(1011)),
        (5000, Some(1011)),
    ];
    for &(asked, sent) in cases {
        let mut raw = raw_upgrade(server.addr);
        raw.write_all(&frame(0x1, true, asked.to_string().as_bytes(), true))
            .unwrap();
        let (opcode, payload) = read_frame(&mut raw);
        assert_eq!(opcode, 0x8, "asked {asked}");
        match sent {
            None => assert!(payload.is_empty(), "asked {asked}: {payload:?}"),
            Some(code) => {
                assert_eq!(
                    u16::from_be_bytes([payload[0], payload[1]]),
                    code,
                    "asked {asked}"
                );
                assert_eq!(&payload[2..], b"chosen by the handler");
            }
        }
        // The client's answer ends the close handshake; the server closes the TCP connection.
        raw.write_all(&frame(0x8, true, &payload, true)).unwrap();
        let mut rest = Vec::new();
        let _ = raw.read_to_end(&mut rest);
    }
}
