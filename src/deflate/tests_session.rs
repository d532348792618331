//! Session cases: what an idle connection holds, the pool, the minimum size and the fallback
//! to uncompressed, the compress-once broadcast, corrupt input, empty and final-block messages.

use super::*;

fn shared() -> DeflateParams {
    negotiate(
        &DeflateConfig::default(),
        ["permessage-deflate; client_max_window_bits"],
    )
    .expect("accepted")
    .params()
}

fn dedicated(bits: u8) -> (DeflateConfig, DeflateParams) {
    let config = DeflateConfig::dedicated(bits).expect("valid");
    let params = negotiate(&config, ["permessage-deflate; client_max_window_bits"])
        .expect("accepted")
        .params();
    (config, params)
}

/// Client-to-server frames made by a compressor standing in for the client.
fn client_frame(params: DeflateParams, msg: &[u8]) -> Vec<u8> {
    let mirror = DeflateParams {
        server_no_context_takeover: params.client_no_context_takeover,
        server_max_window_bits: params.client_max_window_bits.max(9),
        ..params
    };
    let mut pool = DeflatePool::new(DeflateConfig::default().min_message_size(0));
    let mut wire = Vec::new();
    DeflateSession::new(mirror)
        .compress(&mut pool, msg, &mut wire)
        .expect("compress");
    wire
}

fn text() -> Vec<u8> {
    br#"{"user":"ada","text":"hello, hello, hello again","room":"lobby"}"#.repeat(8)
}

#[test]
fn idle_session_without_context_takeover_holds_no_zlib_state() {
    // The whole per-connection cost while idle: the session itself (32 bytes on x86_64),
    // nothing on the heap, before and after messages in both directions.
    let size = std::mem::size_of::<DeflateSession>();
    assert!(size <= 32, "DeflateSession is {size} bytes");
    let mut pool = DeflatePool::new(DeflateConfig::default());
    let mut s = DeflateSession::new(shared());
    assert_eq!(s.holds_state(), (false, false));
    for _ in 0..3 {
        assert!(s
            .compress(&mut pool, &text(), &mut Vec::new())
            .expect("compress"));
        let mut out = Vec::new();
        s.inflate_frame(
            &mut pool,
            &client_frame(s.params(), &text()),
            true,
            1 << 20,
            &mut out,
        )
        .expect("inflate");
        assert_eq!(out, text());
        assert_eq!(s.holds_state(), (false, false));
    }
    // The pool holds one compressor (15 bits) and one idle inflater for the whole loop.
    assert_eq!(pool.held(), (1, 1));
}

#[test]
fn idle_session_with_context_takeover_keeps_its_own_state() {
    let (config, params) = dedicated(9);
    assert!(!params.server_no_context_takeover() && !params.client_no_context_takeover());
    let mut pool = DeflatePool::new(config);
    let mut s = DeflateSession::new(params);
    assert_eq!(
        s.holds_state(),
        (false, false),
        "nothing before the first message"
    );
    s.compress(&mut pool, &text(), &mut Vec::new())
        .expect("compress");
    s.inflate_frame(
        &mut pool,
        &client_frame(params, &text()),
        true,
        1 << 20,
        &mut Vec::new(),
    )
    .expect("inflate");
    assert_eq!(s.holds_state(), (true, true));
    assert_eq!(
        pool.held(),
        (0, 0),
        "dedicated state is the connection's, not the pool's"
    );
}

#[test]
fn interleaved_fragmented_messages_each_borrow_an_inflater() {
    let mut pool = DeflatePool::new(DeflateConfig::default());
    let sessions: Vec<_> = (0..6).map(|_| DeflateSession::new(shared())).collect();
    let mut sessions = sessions;
    let wire = client_frame(shared(), &text());
    let (head, tail) = wire.split_at(wire.len() / 2);
    let mut outs = vec![Vec::new(); sessions.len()];
    for (s, out) in sessions.iter_mut().zip(&mut outs) {
        s.inflate_frame(&mut pool, head, false, 1 << 20, out)
            .expect("first half");
        assert!(s.in_message() && s.holds_state() == (false, true));
    }
    for (s, out) in sessions.iter_mut().zip(&mut outs) {
        s.inflate_frame(&mut pool, tail, true, 1 << 20, out)
            .expect("second half");
        assert_eq!(*out, text());
        assert_eq!(s.holds_state(), (false, false));
    }
    // Six were lent at once; at most four idle ones are kept.
    assert_eq!(pool.held().1, 4);
}

#[test]
fn short_and_incompressible_messages_go_uncompressed() {
    let mut pool = DeflatePool::new(DeflateConfig::default().min_message_size(100));
    let mut s = DeflateSession::new(shared());
    let mut out = Vec::new();
    assert!(!s
        .compress(&mut pool, &[b'a'; 99], &mut out)
        .expect("compress"));
    assert!(out.is_empty());
    assert!(s
        .compress(&mut pool, &[b'a'; 100], &mut out)
        .expect("compress"));
    // Random bytes do not shrink: sent as they are without context takeover...
    let mut x = 88_172_645_463_325_252_u64;
    let noise: Vec<u8> = (0..4000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let mut out = Vec::new();
    assert!(!s.compress(&mut pool, &noise, &mut out).expect("compress"));
    assert!(out.is_empty());
    // ...but compressed anyway with it, since the peer's window must see every message.
    let (config, params) = dedicated(15);
    let mut pool = DeflatePool::new(config);
    assert!(DeflateSession::new(params)
        .compress(&mut pool, &noise, &mut out)
        .expect("compress"));
}

#[test]
fn broadcast_is_compressed_once_per_window_size() {
    let config = DeflateConfig::default();
    let mut pool = DeflatePool::new(config);
    let msg = text();
    let p15 = shared();
    let p10 = negotiate(&config, ["permessage-deflate; server_max_window_bits=10"])
        .expect("accepted")
        .params();
    let (_, takeover) = dedicated(12);
    let mut once = CompressOnce::new(&msg);
    let mut per_client = Vec::new();
    DeflateSession::new(p15)
        .compress(&mut pool, &msg, &mut per_client)
        .expect("compress");
    for _ in 0..100 {
        assert_eq!(
            once.payload(&mut pool, &p15).expect("payload"),
            BroadcastPayload::Compressed(&per_client)
        );
    }
    assert_eq!(once.compressions(), 1);
    assert!(matches!(
        once.payload(&mut pool, &p10).expect("payload"),
        BroadcastPayload::Compressed(_)
    ));
    assert_eq!(once.compressions(), 2);
    assert_eq!(
        once.payload(&mut pool, &takeover).expect("payload"),
        BroadcastPayload::PerClient
    );
    let mut short = CompressOnce::new(b"hi");
    assert_eq!(
        short.payload(&mut pool, &p15).expect("payload"),
        BroadcastPayload::Uncompressed
    );
}

#[test]
fn corrupt_stream_is_1007_and_the_session_recovers_its_state() {
    let mut pool = DeflatePool::new(DeflateConfig::default());
    let mut s = DeflateSession::new(shared());
    // BTYPE 11 is reserved (RFC 1951 section 3.2.3).
    let err = s
        .inflate_frame(
            &mut pool,
            &[0xff, 0xff, 0xff],
            true,
            1 << 20,
            &mut Vec::new(),
        )
        .expect_err("corrupt");
    assert!(matches!(err, DeflateError::Corrupt { .. }), "{err:?}");
    assert_eq!(err.close_code(), Some(1007));
    assert!(!s.in_message() && s.holds_state() == (false, false));
}

#[test]
fn empty_message_and_final_block_messages() {
    let mut pool = DeflatePool::new(DeflateConfig::default().min_message_size(0));
    let mut s = DeflateSession::new(shared());
    let mut wire = Vec::new();
    assert!(s.compress(&mut pool, b"", &mut wire).expect("compress") || wire.is_empty());
    let mut out = Vec::new();
    s.inflate_frame(&mut pool, &wire, true, 10, &mut out)
        .expect("empty");
    assert!(out.is_empty());
    // An empty payload with RSV1 (only the appended tail) is an empty message too.
    s.inflate_frame(&mut pool, &[], true, 10, &mut out)
        .expect("empty");
    assert!(out.is_empty());
    // A peer may end a message with a final block ("abc" in one fixed-Huffman final block,
    // BFINAL=1); what follows it is ignored and the next message starts a new stream.
    let final_block = [0x4b, 0x4c, 0x4a, 0x06, 0x00];
    for _ in 0..2 {
        let mut out = Vec::new();
        s.inflate_frame(&mut pool, &final_block, false, 10, &mut out)
            .expect("final block");
        s.inflate_frame(&mut pool, b"ignored", true, 10, &mut out)
            .expect("after the end");
        assert_eq!(out, b"abc");
    }
}

#[test]
fn sessions_and_pools_can_move_to_the_loop_thread() {
    fn send<T: Send + Sync>() {}
    send::<DeflateSession>();
    send::<DeflatePool>();
    send::<DeflateParams>();
}
