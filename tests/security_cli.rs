//! Every limit's command-line flag reaches the server: each is set to a small value on the binary
//! and its effect observed over a socket.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;
use tungstenite::Message;

#[test]
fn allow_origin_is_repeatable() {
    let server = Binary::start(&[
        "--allow-origin",
        "https://a.example",
        "--allow-origin",
        "https://b.example",
    ]);
    for (origin, status) in [
        ("https://a.example", "HTTP/1.1 101"),
        ("https://b.example", "HTTP/1.1 101"),
        ("https://c.example", "HTTP/1.1 403"),
    ] {
        let mut stream = tcp(server.addr);
        let request = upgrade_request_with("/", &format!("Origin: {origin}\r\n"));
        stream.write_all(request.as_bytes()).unwrap();
        assert!(read_http_head(&mut stream).starts_with(status), "{origin}");
    }
}

#[test]
fn size_and_connection_limits() {
    let server = Binary::start(&[
        "--max-connections",
        "2",
        "--max-handshake-size",
        "512",
        "--max-message-size",
        "100",
        "--read-buffer-size",
        "64",
        "--max-backlog",
        "70000",
    ]);
    let big = format!("X-Filler: {}\r\n", "a".repeat(600));
    let response = http_exchange(server.addr, upgrade_request_with("/", &big).as_bytes());
    assert!(response.starts_with("HTTP/1.1 431"), "{response}");
    let mut first = connect(server.addr);
    // A small read buffer still reads messages larger than itself.
    assert_echoes(&mut first, &"m".repeat(100));
    first.send(Message::text("m".repeat(101))).unwrap();
    assert_eq!(recv_close_code(&mut first), 1009);
    drop(first);
    // Once the server has let go of the first client, two fit and a third does not.
    let mut held = Vec::new();
    assert!(wait_until(Duration::from_secs(5), || {
        let mut stream = tcp(server.addr);
        stream.write_all(upgrade_request("/").as_bytes()).unwrap();
        if read_http_head(&mut stream).starts_with("HTTP/1.1 101") {
            held.push(stream);
        }
        held.len() == 2
    }));
    let response = http_exchange(server.addr, upgrade_request("/").as_bytes());
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
}

#[test]
fn timeouts_in_seconds() {
    let server = Binary::start(&[
        "--handshake-timeout",
        "0.3",
        "--idle-timeout",
        "0.3",
        "--pong-timeout",
        "0.3",
        "--close-timeout",
        "0.3",
    ]);
    let start = Instant::now();
    let mut silent = tcp(server.addr);
    let mut buf = [0u8; 16];
    assert_eq!(silent.read(&mut buf).unwrap_or(0), 0);
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let start = Instant::now();
    let mut quiet = raw_upgrade(server.addr);
    assert_eq!(read_frame(&mut quiet).0, 0x9, "a ping after 0.3 s");
    let rest = read_to_close(&mut quiet);
    assert!(rest.is_empty(), "{rest:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[test]
fn idle_timeout_0_never_pings() {
    let server = Binary::start(&["--idle-timeout", "0"]);
    let mut quiet = raw_upgrade(server.addr);
    quiet
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut buf = [0u8; 16];
    loop {
        match quiet.read(&mut buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            // A signal to the test process (another test's child exiting) is not data: wait on.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => panic!("expected silence, got {other:?}"),
        }
    }
}

#[test]
fn bad_values_exit_2() {
    for args in [
        &["--handshake-timeout", "soon"][..],
        &["--max-connections", "-1"][..],
        &["--max-connections", "0", "--port", "0"][..],
    ] {
        let (code, stdout, stderr) = run_binary(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(!stdout.contains("listening"), "{args:?}");
        assert!(!stderr.is_empty(), "{args:?}");
    }
}

/// Regression (issue 11): `--close-timeout 1e19` was accepted and killed the server at the first
/// close (an `Instant` overflow). Every duration flag now takes a huge value as "never", and one
/// too large for a duration is refused with exit 2.
#[test]
fn huge_durations_never_panic() {
    let server = Binary::start(&[
        "--handshake-timeout",
        "1e19",
        "--idle-timeout",
        "1e19",
        "--pong-timeout",
        "1e19",
        "--close-timeout",
        "1e19",
        "--stall-timeout",
        "1e19",
    ]);
    let mut server = server;
    for i in 0..2 {
        let mut client = connect(server.addr);
        assert_echoes(&mut client, &format!("client {i}"));
        client.close(None).unwrap();
        while client.read().is_ok() {}
    }
    // A close the server starts (a protocol error) sets a close deadline too.
    let mut bad = raw_upgrade(server.addr);
    bad.write_all(&frame(0x1, true, b"unmasked", false))
        .unwrap();
    assert_eq!(read_close_code(&mut bad), 1002);
    let mut client = connect(server.addr);
    assert_echoes(&mut client, "still serving");
    assert!(server.is_running());

    for flag in [
        "--handshake-timeout",
        "--idle-timeout",
        "--pong-timeout",
        "--close-timeout",
        "--stall-timeout",
    ] {
        let (code, stdout, stderr) = run_binary(&[flag, "1e30"]);
        assert_eq!(code, Some(2), "{flag}: {stderr}");
        assert!(!stdout.contains("listening"), "{flag}");
        assert_eq!(stderr.trim().lines().count(), 1, "{flag}: {stderr}");
    }
}

/// The flow-control flags reach the server: `--backpressure close` keeps the behaviour from
/// before flow control (closed at the backlog limit), bad values exit 2.
#[test]
fn backpressure_flags() {
    for args in [
        &["--backpressure", "later"][..],
        &["--high-water-mark", "100000", "--max-backlog", "70000"][..],
        &["--high-water-mark", "1000", "--low-water-mark", "2000"][..],
        &["--stall-timeout", "0"][..],
    ] {
        let (code, stdout, stderr) = run_binary(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(!stdout.contains("listening"), "{args:?}");
        assert!(!stderr.is_empty(), "{args:?}");
    }
    for policy in ["pace", "close", "drop"] {
        let server = Binary::start(&[
            "--backpressure",
            policy,
            "--high-water-mark",
            "100000",
            "--low-water-mark",
            "1000",
            "--stall-timeout",
            "0.2",
        ]);
        let mut client = connect(server.addr);
        assert_echoes(&mut client, policy);
    }
}
