//! The `simple-ws-server` command: its banner, its one-line errors with exit status 2, and its
//! graceful shutdown.

mod common;

use std::process::{Command, Stdio};

use common::*;
use tungstenite::Message;

fn run_to_end(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_simple-ws-server"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run simple-ws-server");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_one_line_error(args: &[&str], expected: &str) {
    let (code, _stdout, stderr) = run_to_end(args);
    assert_eq!(code, 2, "exit status for {args:?}; stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line for {args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_banner_names_the_address_and_the_page() {
    let server = Binary::start(&["--example", "echo"]);
    let port = server.addr.port();
    assert_eq!(
        server.first_lines[0],
        format!("listening on ws://127.0.0.1:{port}/")
    );
    assert_eq!(
        server.first_lines[1],
        format!("open http://127.0.0.1:{port}/ in a browser")
    );
    let page = http_exchange(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
}

#[test]
fn bad_arguments_end_with_one_line_and_status_2() {
    assert_one_line_error(
        &["--example", "karaoke", "--port", "0"],
        "unknown example \"karaoke\"",
    );
    assert_one_line_error(
        &["--host", "no-such-host.invalid", "--port", "0"],
        "no-such-host.invalid",
    );
    assert_one_line_error(
        &["--host", "192.0.2.1", "--port", "0"],
        "cannot listen on 192.0.2.1",
    );
    let (code, _, stderr) = run_to_end(&["--no-such-flag"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = run_to_end(&["--port", "not-a-number"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_port_in_use_ends_with_one_line_and_status_2() {
    let first = Binary::start(&[]);
    let port = first.addr.port().to_string();
    assert_one_line_error(
        &["--host", "127.0.0.1", "--port", &port],
        "Address already in use",
    );
}

#[test]
fn sigterm_closes_every_client_with_1001_and_exits_0() {
    let mut server = Binary::start(&["--example", "chat"]);
    let mut a = connect(server.addr);
    let mut b = connect(server.addr);
    assert_eq!(recv_text(&mut a), "127.0.0.1 - connected");
    b.send(Message::text("before the end")).unwrap();
    assert_eq!(recv_text(&mut a), "127.0.0.1 - before the end");
    let status = std::thread::scope(|scope| {
        let closes = [a, b].map(|mut client| scope.spawn(move || recv_close_code(&mut client)));
        let status = server.terminate();
        for close in closes {
            assert_eq!(close.join().unwrap(), 1001);
        }
        status
    });
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigterm_exits_0_within_a_second_even_when_clients_never_answer_the_close() {
    let mut server = Binary::start(&["--example", "echo"]);
    // A client that never reads: it cannot answer the close frame.
    let _silent = raw_upgrade(server.addr);
    let start = std::time::Instant::now();
    let status = server.terminate();
    assert_eq!(status.code(), Some(0));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}
