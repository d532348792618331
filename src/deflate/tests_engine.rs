//! Engine cases: round trips at every window size, context takeover on and off, fragmented
//! inflate, a decompression bomb, interop with C zlib, the 8-bit window, idle memory, and the
//! compress-once broadcast.

use zlib_rs::{DeflateFlush, InflateFlush};

use super::tests_distance::max_distance;

use super::stream::{new_deflate, new_inflate};
use super::*;

/// Agreed parameters for both directions alike.
fn both(nct: bool, bits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: nct,
        client_no_context_takeover: nct,
        server_max_window_bits: bits,
        client_max_window_bits: bits,
    }
}

/// A JSON-ish message that differs a little with `n`.
fn json(n: usize) -> Vec<u8> {
    format!(r#"{{"seq":{n},"type":"tick","symbol":"ACME","price":{}.25,"tags":["alpha","beta"],"note":"{}"}}"#, 100 + n % 7, "x".repeat(n % 300))
        .into_bytes()
}

/// Compresses with `tx` (the server side) and inflates with `rx`, a session whose client
/// parameters mirror the server's, as one frame.
fn round_trip(
    tx: &mut DeflateSession,
    rx: &mut DeflateSession,
    pool: &mut DeflatePool,
    msg: &[u8],
) -> usize {
    let mut wire = Vec::new();
    assert!(
        tx.compress(pool, msg, &mut wire).expect("compress"),
        "compressed"
    );
    let mut back = Vec::new();
    rx.inflate_frame(pool, &wire, true, 1 << 20, &mut back)
        .expect("inflate");
    assert_eq!(back, msg);
    wire.len()
}

#[test]
fn round_trips_at_every_window_size_with_and_without_context_takeover() {
    for nct in [true, false] {
        for bits in 8..=15 {
            let mut pool = DeflatePool::new(DeflateConfig::default().min_message_size(0));
            let (mut tx, mut rx) = (
                DeflateSession::new(both(nct, bits)),
                DeflateSession::new(both(nct, bits)),
            );
            let mut sizes = Vec::new();
            for n in 0..20 {
                sizes.push(round_trip(&mut tx, &mut rx, &mut pool, &json(n * 37)));
            }
            // The same message twice: with context takeover the second is a back-reference.
            let unique = format!(
                "bits {bits}: {}",
                "the quick brown fox jumps over lazy dogs; ".repeat(2)
            );
            let a = round_trip(&mut tx, &mut rx, &mut pool, unique.as_bytes());
            let b = round_trip(&mut tx, &mut rx, &mut pool, unique.as_bytes());
            if nct {
                assert_eq!(a, b, "no takeover: each message stands alone (bits {bits})");
            } else {
                assert!(b < a / 2, "takeover: {b} vs {a} (bits {bits})");
            }
            assert_eq!(tx.holds_state(), (!nct, false), "bits {bits}");
            assert_eq!(rx.holds_state(), (false, !nct), "bits {bits}");
        }
    }
}

#[test]
fn kept_context_is_needed_to_inflate_the_next_message() {
    let mut pool = DeflatePool::new(DeflateConfig::default().min_message_size(0));
    let mut tx = DeflateSession::new(both(false, 15));
    let (mut first, mut second) = (Vec::new(), Vec::new());
    tx.compress(&mut pool, &json(9), &mut first)
        .expect("compress");
    tx.compress(&mut pool, &json(9), &mut second)
        .expect("compress");
    // A receiver that (wrongly) resets between messages cannot follow the back-reference.
    let mut fresh = DeflateSession::new(both(true, 15));
    let err = fresh
        .inflate_frame(&mut pool, &second, true, 1 << 20, &mut Vec::new())
        .expect_err("needs context");
    assert_eq!(err.close_code(), Some(1007), "{err}");
}

#[test]
fn fragmented_message_inflates_as_one_stream() {
    let mut pool = DeflatePool::new(DeflateConfig::default().min_message_size(0));
    let msg: Vec<u8> = (0..200).flat_map(json).collect();
    for nct in [true, false] {
        let mut tx = DeflateSession::new(both(nct, 15));
        let mut rx = DeflateSession::new(both(nct, 15));
        for frame_len in [1, 7, 1000] {
            let mut wire = Vec::new();
            tx.compress(&mut pool, &msg, &mut wire).expect("compress");
            let mut back = Vec::new();
            let frames: Vec<&[u8]> = wire.chunks(frame_len).collect();
            for (i, frame) in frames.iter().enumerate() {
                rx.inflate_frame(&mut pool, frame, i + 1 == frames.len(), 1 << 24, &mut back)
                    .expect("inflate");
                assert_eq!(rx.in_message(), i + 1 < frames.len());
            }
            assert_eq!(back, msg, "frames of {frame_len}");
        }
    }
    // An empty last frame (a FIN continuation with no payload) ends the message too.
    let mut tx = DeflateSession::new(both(true, 15));
    let mut rx = DeflateSession::new(both(true, 15));
    let mut wire = Vec::new();
    tx.compress(&mut pool, &msg, &mut wire).expect("compress");
    let mut back = Vec::new();
    rx.inflate_frame(&mut pool, &wire, false, 1 << 24, &mut back)
        .expect("inflate");
    rx.inflate_frame(&mut pool, &[], true, 1 << 24, &mut back)
        .expect("inflate");
    assert_eq!(back, msg);
}

/// 1 GiB of zeros, compressed in 1 MiB steps (never held whole), as one sync-flushed message.
fn gigabyte_of_zeros_compressed() -> Vec<u8> {
    let mut z = new_deflate(15, 6, 8);
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    for i in 0..1024 {
        let flush = if i == 1023 {
            DeflateFlush::SyncFlush
        } else {
            DeflateFlush::NoFlush
        };
        let mut input = &zeros[..];
        loop {
            let (in0, out0) = (z.total_in(), z.total_out());
            z.compress(input, &mut buf, flush).expect("compress");
            let produced = (z.total_out() - out0) as usize;
            out.extend_from_slice(&buf[..produced]);
            input = &input[(z.total_in() - in0) as usize..];
            if input.is_empty() && produced < buf.len() {
                break;
            }
        }
    }
    assert!(out.ends_with(&stream::TAIL));
    out.truncate(out.len() - 4);
    out
}

#[test]
fn decompression_bomb_stops_at_the_limit_without_inflating_the_rest() {
    let bomb = gigabyte_of_zeros_compressed();
    assert!(
        bomb.len() < 2 << 20,
        "1 GiB of zeros compresses to {} bytes",
        bomb.len()
    );
    let limit = 16 << 20;
    let mut pool = DeflatePool::new(DeflateConfig::default());
    let mut rx = DeflateSession::new(both(true, 15));
    let mut out = Vec::new();
    let mut frames_fed = 0;
    let mut result = Ok(());
    for (i, frame) in bomb.chunks(64 << 10).enumerate() {
        frames_fed += 1;
        result = rx.inflate_frame(
            &mut pool,
            frame,
            (i + 1) * (64 << 10) >= bomb.len(),
            limit,
            &mut out,
        );
        if result.is_err() {
            break;
        }
    }
    let err = result.expect_err("the limit is passed");
    assert_eq!(err, DeflateError::TooBig { limit });
    assert_eq!(err.close_code(), Some(1009));
    // Stopped within the first frame (64 KiB of input holds ~64 MiB), having inflated one byte
    // more than the limit, with the buffer never grown past it by more than one step.
    assert_eq!(frames_fed, 1);
    assert_eq!(out.len(), limit + 1);
    assert!(out.capacity() <= 2 * limit, "capacity {}", out.capacity());
    assert!(!rx.in_message() && rx.holds_state() == (false, false));
}

#[test]
fn a_message_of_exactly_the_limit_is_accepted() {
    let mut pool = DeflatePool::new(DeflateConfig::default().min_message_size(0));
    let msg = vec![b'a'; 100_000];
    let mut wire = Vec::new();
    DeflateSession::new(both(true, 15))
        .compress(&mut pool, &msg, &mut wire)
        .expect("compress");
    let mut out = Vec::new();
    DeflateSession::new(both(true, 15))
        .inflate_frame(&mut pool, &wire, true, msg.len(), &mut out)
        .expect("fits");
    assert_eq!(out.len(), msg.len());
    let err = DeflateSession::new(both(true, 15)).inflate_frame(
        &mut pool,
        &wire,
        true,
        msg.len() - 1,
        &mut Vec::new(),
    );
    assert_eq!(
        err,
        Err(DeflateError::TooBig {
            limit: msg.len() - 1
        })
    );
}

/// C zlib 1.2.13 (Python's `zlib.compressobj(6, DEFLATED, -15)`), two messages of one stream,
/// each `compress(msg) + flush(Z_SYNC_FLUSH)` with the `00 00 ff ff` tail removed.
const ZLIB_MSG_1: &str = "aa562aa92c4855b2522ac94cce56d2512aaecc4dcacf01f21d9d7d5d81fc82a2cc64a0b4a181a19e91a98e52597e4e692e886f6460a0a35492985eac6415ad94085498a4145b5b3d6ad8c01a0600";
const ZLIB_MSG_2: &str = "1a356c38190600";

fn zlib_msg() -> Vec<u8> {
    br#"{"type":"tick","symbol":"ACME","price":101.25,"volume":1200,"tags":["a","b"]}"#.repeat(6)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn inflates_what_c_zlib_compressed_with_context_takeover() {
    let mut pool = DeflatePool::new(DeflateConfig::default());
    let mut rx = DeflateSession::new(both(false, 15));
    for wire in [ZLIB_MSG_1, ZLIB_MSG_2] {
        let mut out = Vec::new();
        rx.inflate_frame(&mut pool, &unhex(wire), true, 1 << 20, &mut out)
            .expect("inflate");
        assert_eq!(out, zlib_msg());
    }
}

#[test]
fn our_output_is_plain_raw_deflate_for_a_reference_inflater() {
    // zlib-rs's one-shot inflater with a default 15-bit raw configuration stands in for any
    // RFC 1951 decoder; the same bytes were also checked by hand against C zlib (Python).
    let mut pool = DeflatePool::new(DeflateConfig::default());
    let mut wire = Vec::new();
    assert!(DeflateSession::new(both(true, 15))
        .compress(&mut pool, &zlib_msg(), &mut wire)
        .expect("compress"));
    wire.extend_from_slice(&stream::TAIL);
    let mut z = new_inflate(15);
    let mut out = vec![0u8; 4096];
    z.decompress(&wire, &mut out, InflateFlush::SyncFlush)
        .expect("inflate");
    out.truncate(z.total_out() as usize);
    assert_eq!(out, zlib_msg());
}

#[test]
fn server_window_8_stays_within_256_bytes() {
    // Repeats at distances 100 (in reach) and 300 (beyond 256: must not be referenced).
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let block: Vec<u8> = (0..300)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect();
    let mut msg = block[..100].repeat(3);
    msg.extend(block.repeat(6));
    for level in 0..=9 {
        let config = DeflateConfig::default()
            .min_message_size(0)
            .compression_level(level)
            .expect("valid");
        let mut pool = DeflatePool::new(config);
        let mut tx = DeflateSession::new(both(false, 8));
        let mut rx = DeflateSession::new(both(false, 8));
        for round in 0..3 {
            let mut wire = Vec::new();
            tx.compress(&mut pool, &msg, &mut wire).expect("compress");
            let longest = max_distance(&[&wire[..], &stream::TAIL].concat()).expect("parses");
            assert!(
                longest <= 256,
                "level {level}, message {round}: a match {longest} bytes back"
            );
            let mut back = Vec::new();
            rx.inflate_frame(&mut pool, &wire, true, 1 << 20, &mut back)
                .expect("inflate");
            assert!(back == msg, "level {level}, message {round}");
        }
    }
    // The check bites: a 10-bit window does refer 300 bytes back or more.
    let mut pool = DeflatePool::new(DeflateConfig::default());
    let mut wire = Vec::new();
    DeflateSession::new(both(true, 10))
        .compress(&mut pool, &msg, &mut wire)
        .expect("compress");
    wire.extend_from_slice(&stream::TAIL);
    assert!(max_distance(&wire).expect("parses") >= 300);
}
