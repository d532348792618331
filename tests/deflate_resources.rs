//! permessage-deflate's costs over real sockets, on the release binary: a decompression bomb
//! is stopped at the message limit with 1009 without the server growing, and the memory an
//! idle connection with the extension negotiated costs.

mod common;
#[path = "common/deflate.rs"]
mod deflate_client;

use std::io::Write;

use common::*;
use deflate_client::*;

#[test]
fn a_1_gib_decompression_bomb_gets_1009_and_the_server_stays_small() {
    // 1 GiB of zeros compresses to about 1 MB; the limit is 2 MiB so that the compressed
    // message is accepted from its header and the inflater is what stops it.
    let server = Binary::start(&[
        "--example",
        "echo",
        "--deflate",
        "--max-message-size",
        "2097152",
    ]);
    let mut bystander = connect(server.addr);
    assert_echoes(&mut bystander, "before");
    let bomb = Compressor::new(15).zeros(1 << 30);
    assert!(bomb.len() < 1_100_000, "{} bytes", bomb.len());
    let rss_before = proc_status_kib(server.pid(), "VmRSS:");
    let (mut s, _) = upgrade_offering(server.addr, &["permessage-deflate"]);
    s.write_all(&frame_rsv1(0x2, true, true, &bomb)).unwrap();
    assert_eq!(read_close_code(&mut s), 1009);
    let rss_after = proc_status_kib(server.pid(), "VmRSS:");
    let peak = server.peak_rss_kib();
    println!(
        "bomb of {} bytes: RSS {rss_before} KiB -> {rss_after} KiB, peak {peak} KiB",
        bomb.len()
    );
    assert!(
        peak < rss_before + 32 * 1024,
        "peak {peak} KiB from {rss_before} KiB"
    );
    assert!(rss_after < rss_before + 32 * 1024);
    // The server goes on serving, compressed or not.
    assert_echoes(&mut bystander, "after");
    let (mut other, _) = upgrade_offering(server.addr, &["permessage-deflate"]);
    let text = json_text(400);
    other
        .write_all(&frame_rsv1(0x1, true, true, &compress(text.as_bytes())))
        .unwrap();
    assert_eq!(inflate(&read_frame_head(&mut other).1), text.as_bytes());
}

/// Opens `n` connections offering permessage-deflate (each exchanging one compressed message,
/// so a dedicated server has made its zlib state), and returns the server's RSS growth per
/// connection in bytes.
fn rss_per_connection(args: &[&str], n: usize) -> u64 {
    let server = Binary::start(args);
    let text = json_text(400);
    let payload = compress(text.as_bytes());
    // Warm up: the loop's buffers and the pool's compressor exist before the baseline.
    let mut warm = Vec::new();
    for _ in 0..10 {
        let (mut s, _) = upgrade_offering(server.addr, &["permessage-deflate"]);
        s.write_all(&frame_rsv1(0x1, true, true, &payload)).unwrap();
        read_frame_head(&mut s);
        warm.push(s);
    }
    let before = proc_status_kib(server.pid(), "VmRSS:");
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let (mut s, head) = upgrade_offering(server.addr, &["permessage-deflate"]);
        assert!(extensions_of(&head).is_some());
        s.write_all(&frame_rsv1(0x1, true, true, &payload)).unwrap();
        let (b0, _) = read_frame_head(&mut s);
        assert_eq!(b0, 0xc1);
        conns.push(s);
    }
    let after = proc_status_kib(server.pid(), "VmRSS:");
    after.saturating_sub(before) * 1024 / n as u64
}

#[test]
fn memory_per_idle_connection_with_deflate_negotiated() {
    let n = 1000;
    let shared = rss_per_connection(&["--example", "echo", "--deflate"], n);
    let dedicated = rss_per_connection(
        &[
            "--example",
            "echo",
            "--deflate",
            "--deflate-mode",
            "dedicated",
        ],
        n,
    );
    println!(
        "RSS per idle connection with permessage-deflate negotiated ({n} connections): \
         shared {shared} bytes, dedicated (12-bit window) {dedicated} bytes"
    );
    // Shared keeps no zlib state per idle connection: the cost is the connection's own.
    assert!(shared < 8 * 1024, "shared: {shared} bytes per connection");
    // Dedicated keeps a compressor and an inflater: about 180-330 KiB by the module's counts.
    assert!(
        dedicated < 512 * 1024,
        "dedicated: {dedicated} bytes per connection"
    );
}
