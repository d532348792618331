//! permessage-deflate frames over real sockets (RFC 7692 sections 6 and 7.2): compressed
//! messages echoed compressed, fragmented compressed messages inflated as one stream, RSV1 only
//! on a message's first frame, 1007 for what does not inflate to UTF-8, context takeover on and
//! off, window sizes, and a broadcast to clients with and without the extension.

mod common;
#[path = "common/deflate.rs"]
mod deflate_client;

use std::io::Write;

use common::*;
use deflate_client::*;

const OFFER: &str = "permessage-deflate; client_max_window_bits";

fn deflate_echo(extra: &[&str]) -> Binary {
    let mut args = vec!["--example", "echo", "--deflate"];
    args.extend_from_slice(extra);
    Binary::start(&args)
}

#[test]
fn compressed_text_and_binary_are_echoed_compressed() {
    let server = deflate_echo(&[]);
    let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
    let text = json_text(2000);
    let payload = compress(text.as_bytes());
    assert!(payload.len() < text.len() / 4);
    s.write_all(&frame_rsv1(0x1, true, true, &payload)).unwrap();
    let (b0, back) = read_frame_head(&mut s);
    assert_eq!(b0, 0x80 | 0x40 | 0x1, "FIN, RSV1, text");
    assert!(
        back.len() < text.len() / 4,
        "{} bytes on the wire",
        back.len()
    );
    assert_eq!(inflate(&back), text.as_bytes());

    let binary: Vec<u8> = (0..3000u32).map(|i| (i % 13) as u8).collect();
    s.write_all(&frame_rsv1(0x2, true, true, &compress(&binary)))
        .unwrap();
    let (b0, back) = read_frame_head(&mut s);
    assert_eq!(b0, 0x80 | 0x40 | 0x2, "FIN, RSV1, binary");
    assert_eq!(inflate(&back), binary);

    // An uncompressed message on the same connection is fine too; a short one comes back as
    // it is (under --deflate-min-size, 64 bytes by default).
    s.write_all(&frame_rsv1(0x1, true, false, b"short"))
        .unwrap();
    assert_eq!(read_frame_head(&mut s), (0x81, b"short".to_vec()));
}

#[test]
fn a_fragmented_compressed_message_is_inflated_as_one_stream() {
    let server = deflate_echo(&[]);
    let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
    let text = json_text(5000);
    let payload = compress(text.as_bytes());
    let (a, rest) = payload.split_at(payload.len() / 3);
    let (b, c) = rest.split_at(rest.len() / 2);
    s.write_all(&frame_rsv1(0x1, false, true, a)).unwrap();
    // A ping between the fragments is answered and does not disturb the stream.
    s.write_all(&frame_rsv1(0x9, true, false, b"p")).unwrap();
    s.write_all(&frame_rsv1(0x0, false, false, b)).unwrap();
    s.write_all(&frame_rsv1(0x0, true, false, c)).unwrap();
    assert_eq!(read_frame_head(&mut s), (0x8a, b"p".to_vec()));
    let (b0, back) = read_frame_head(&mut s);
    assert_eq!(b0, 0xc1);
    assert_eq!(inflate(&back), text.as_bytes());
}

#[test]
fn rsv1_on_a_continuation_or_control_frame_is_1002() {
    let server = deflate_echo(&[]);
    let payload = compress(json_text(500).as_bytes());
    let (half1, half2) = payload.split_at(payload.len() / 2);
    // "The RSV1 bit ... MUST NOT be set on continuation frames" (RFC 7692 section 6.1), and
    // control frames are never compressed (RFC 7692 section 6.1).
    let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
    s.write_all(&frame_rsv1(0x1, false, true, half1)).unwrap();
    s.write_all(&frame_rsv1(0x0, true, true, half2)).unwrap();
    assert_eq!(read_close_code(&mut s), 1002);
    for opcode in [0x9, 0xa, 0x8] {
        let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
        let body: &[u8] = if opcode == 0x8 { &[0x03, 0xe8] } else { b"x" };
        s.write_all(&frame_rsv1(opcode, true, true, body)).unwrap();
        assert_eq!(read_close_code(&mut s), 1002, "opcode {opcode:#x}");
    }
    // An uncompressed fragmented message with RSV1 on its continuation: also 1002.
    let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
    s.write_all(&frame_rsv1(0x1, false, false, b"plain "))
        .unwrap();
    s.write_all(&frame_rsv1(0x0, true, true, b"text")).unwrap();
    assert_eq!(read_close_code(&mut s), 1002);
}

#[test]
fn invalid_utf8_in_inflated_text_is_1007_and_a_corrupt_stream_too() {
    let server = deflate_echo(&[]);
    let mut bad = json_text(300).into_bytes();
    bad[150] = 0xff;
    let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
    s.write_all(&frame_rsv1(0x1, true, true, &compress(&bad)))
        .unwrap();
    assert_eq!(read_close_code(&mut s), 1007);
    // The same bytes as a binary message are fine.
    let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
    s.write_all(&frame_rsv1(0x2, true, true, &compress(&bad)))
        .unwrap();
    assert_eq!(inflate(&read_frame_head(&mut s).1), bad);
    // Not a deflate stream at all (a reserved block type).
    let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
    s.write_all(&frame_rsv1(0x2, true, true, &[0xff, 0xff, 0xff, 0xff]))
        .unwrap();
    assert_eq!(read_close_code(&mut s), 1007);
}

/// Sends the same message twice and returns the two compressed replies' sizes, inflating them
/// with one inflater kept across messages (as a client does with server context takeover).
fn twice(server: &Binary, offer: &str, client_takeover: bool) -> (usize, usize) {
    let (mut s, head) = upgrade_offering(server.addr, &[offer]);
    assert!(extensions_of(&head).is_some(), "{head}");
    let text = json_text(3000);
    let mut compressor = Compressor::new(15);
    let mut inflater = Inflater::new(15);
    let mut sizes = Vec::new();
    for _ in 0..2 {
        if !client_takeover {
            compressor = Compressor::new(15);
        }
        s.write_all(&frame_rsv1(
            0x1,
            true,
            true,
            &compressor.message(text.as_bytes()),
        ))
        .unwrap();
        let (b0, back) = read_frame_head(&mut s);
        assert_eq!(b0, 0xc1);
        assert_eq!(inflater.message(&back).unwrap(), text.as_bytes());
        sizes.push(back.len());
    }
    (sizes[0], sizes[1])
}

#[test]
fn context_takeover_on_and_off() {
    // Dedicated: the server keeps its context, so the second identical message refers back to
    // the first and is a few bytes; the client keeps its own too (its second message, which
    // only inflates with the first in the window, is understood).
    let dedicated = deflate_echo(&["--deflate-mode", "dedicated", "--deflate-window-bits", "15"]);
    let (first, second) = twice(&dedicated, "permessage-deflate", true);
    assert!(
        second * 4 < first,
        "with takeover: {first} then {second} bytes"
    );
    // Shared (the default): no takeover either way; each reply is compressed on its own.
    let shared = deflate_echo(&[]);
    let (first, second) = twice(&shared, "permessage-deflate", false);
    assert_eq!(first, second, "without takeover each message stands alone");
    // A client that offers server_no_context_takeover gets it even from a dedicated server.
    let (first, second) = twice(
        &dedicated,
        "permessage-deflate; server_no_context_takeover",
        true,
    );
    assert_eq!(first, second);
}

#[test]
fn window_bits_are_honoured_both_ways() {
    let server = deflate_echo(&[]);
    // A 2,000-byte random block of four letters (Huffman coding shrinks it whatever the
    // window), repeated: a 15-bit compressor finds the repeat 2,000 bytes back; within a
    // 10-bit (1 KiB) window it cannot, so the reply is about twice as long.
    let mut rng = Rng::new(7);
    let block: Vec<u8> = rng.bytes(2000).iter().map(|b| b'a' + b % 4).collect();
    let message = [block.clone(), block].concat();
    let (mut s, head) = upgrade_offering(
        server.addr,
        &["permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"],
    );
    let agreed = extensions_of(&head).unwrap_or_default().to_owned();
    assert!(agreed.contains("server_max_window_bits=10"), "{agreed}");
    assert!(agreed.contains("client_max_window_bits=9"), "{agreed}");
    s.write_all(&frame_rsv1(
        0x2,
        true,
        true,
        &Compressor::new(9).message(&message),
    ))
    .unwrap();
    let (b0, small_window) = read_frame_head(&mut s);
    assert_eq!(b0 & 0x40, 0x40);
    assert_eq!(Inflater::new(10).message(&small_window).unwrap(), message);
    let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
    s.write_all(&frame_rsv1(0x2, true, true, &compress(&message)))
        .unwrap();
    let (_, full_window) = read_frame_head(&mut s);
    assert_eq!(inflate(&full_window), message);
    assert!(
        full_window.len() * 3 < small_window.len() * 2,
        "15 bits: {} bytes, 10 bits: {} bytes",
        full_window.len(),
        small_window.len()
    );
}

#[test]
fn a_broadcast_reaches_clients_with_and_without_deflate() {
    let server = Binary::start(&["--example", "chat", "--deflate"]);
    let (mut a, _) = upgrade_offering(server.addr, &[OFFER]);
    let (mut b, _) = upgrade_offering(
        server.addr,
        &["permessage-deflate; server_max_window_bits=9"],
    );
    let (mut plain, _) = upgrade_offering(server.addr, &[]);
    let (mut sender, _) = upgrade_offering(server.addr, &[]);
    // Skip the join notices: each client reads until the line it expects.
    let text = json_text(1000);
    sender
        .write_all(&frame_rsv1(0x1, true, false, text.as_bytes()))
        .unwrap();
    let got = |s: &mut std::net::TcpStream, compressed: bool| loop {
        let (b0, payload) = read_frame_head(s);
        let line = if b0 & 0x40 != 0 {
            inflate(&payload)
        } else {
            payload
        };
        if line.ends_with(text.as_bytes()) {
            assert_eq!(b0 & 0x40 != 0, compressed);
            return line.len();
        }
    };
    let len = got(&mut a, true);
    assert_eq!(got(&mut b, true), len);
    assert_eq!(got(&mut plain, false), len);
}

#[test]
fn the_stream_example_reports_the_bytes_deflate_saved() {
    let server = Binary::start(&["--example", "stream", "--deflate"]);
    let (mut s, _) = upgrade_offering(server.addr, &[OFFER]);
    let mut saw = None;
    for _ in 0..50 {
        let (b0, payload) = read_frame_head(&mut s);
        let sample = if b0 & 0x40 != 0 {
            inflate(&payload)
        } else {
            payload
        };
        let sample = String::from_utf8(sample).unwrap();
        let field = |name: &str| -> Option<u64> {
            let at = sample.find(&format!("\"{name}\":"))? + name.len() + 3;
            sample[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        };
        if let (Some(payload), Some(wire)) =
            (field("deflate_payload_bytes"), field("deflate_wire_bytes"))
        {
            saw = Some((payload, wire));
            break;
        }
    }
    let (payload, wire) = saw.expect("a sample with the deflate counters");
    assert!(0 < wire && wire < payload, "{wire} of {payload} bytes");
}
