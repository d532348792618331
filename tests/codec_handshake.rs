//! A handshake dribbled a byte at a time costs linear CPU (issue 11). Its own test binary: the
//! count of request parses it reads is per process.

mod common;

use std::io::Write;

use common::examples::Echo;
use common::*;
use simple_ws_server::Config;

#[test]
fn a_handshake_dribbled_a_byte_at_a_time_is_parsed_a_few_times_not_once_per_byte() {
    // Before: the request was parsed again from its start after every read, so a 16 KiB
    // request sent a byte at a time was parsed 16,000 times (quadratic CPU); 100 such clients
    // took seconds of server CPU.
    let server = TestServer::start(Echo, Config::default());
    let request = upgrade_request_with("/", &format!("X-Padding: {}\r\n", "p".repeat(15_000)));
    let before = simple_ws_server::handshake_parse_count();
    let mut stream = tcp(server.addr);
    for byte in request.as_bytes() {
        stream.write_all(std::slice::from_ref(byte)).unwrap();
    }
    let head = read_http_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let parses = simple_ws_server::handshake_parse_count() - before;
    // Once when the blank line arrives, and at each power of two of the bytes read.
    assert!(parses <= 20, "{parses} parses for {} bytes", request.len());
}
