//! Helpers shared by the integration tests: servers in-process (127.0.0.1, port 0) and as the
//! binary, WebSocket clients and raw sockets for speaking bad protocol on purpose, TLS
//! certificates made at test time (`tls.rs`), and a process's memory and CPU time from /proc.

#![allow(dead_code)] // Each test crate uses a different subset of these helpers.

mod binary;
/// The command's demo handlers (modules of the binary, not of the library), run in-process by the
/// tests of echo and chat: the same code the command runs.
#[allow(unused_imports)] // Each test crate uses a different subset of the handlers.
#[path = "../../src/bin/simple-ws-server/examples/mod.rs"]
pub mod examples;
mod skip;
#[cfg(feature = "tls")]
mod tls;
#[allow(unused_imports)] // Only the tests of the binary use these.
pub use binary::*;
#[allow(unused_imports)] // Only the tests that need outside programs use these.
pub use skip::*;
#[allow(unused_imports)] // Only the TLS tests use these.
#[cfg(feature = "tls")]
pub use tls::*;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use simple_ws_server::{Config, Handle, Handler, Server};
use tungstenite::{self, protocol::WebSocket, Message};

/// How long any single read in a test may wait before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

pub type Client = WebSocket<TcpStream>;

/// What a recording handler saw, shared with the test.
pub type Log<T> = Arc<Mutex<Vec<T>>>;

/// A server running a handler in a thread of the test process; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handle: Handle,
    thread: Option<JoinHandle<simple_ws_server::Result<()>>>,
}

impl TestServer {
    pub fn start<H: Handler + Send + 'static>(handler: H, config: Config) -> Self {
        let server = Server::bind("127.0.0.1:0", config).expect("bind 127.0.0.1:0");
        TestServer::run(server, handler)
    }

    /// Runs an already bound server in a thread of the test process.
    pub fn run<H: Handler + Send + 'static>(server: Server, handler: H) -> Self {
        let addr = server.local_addr();
        let handle = server.handle();
        let thread = std::thread::spawn(move || server.run(handler).map(drop));
        TestServer {
            addr,
            handle,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Stops the server and waits for `run` to return, returning its result.
    pub fn stop(mut self) -> simple_ws_server::Result<()> {
        self.handle.stop().expect("stop");
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("server thread panicked")
    }

    /// Waits (bounded) for `run` to return by itself and returns its result.
    pub fn join(mut self) -> simple_ws_server::Result<()> {
        let thread = self.thread.take().expect("joined once");
        let start = Instant::now();
        while !thread.is_finished() {
            assert!(
                start.elapsed() < IO_TIMEOUT,
                "Server::run did not return within {IO_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        thread.join().expect("the server thread panicked")
    }

    /// Whether the server thread is still running (it ends only when stopped, or by a panic).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.handle.stop();
            let result = thread.join();
            if !std::thread::panicking() {
                result
                    .expect("server thread panicked")
                    .expect("server failed");
            }
        }
    }
}

/// A raw TCP connection with timeouts set.
pub fn tcp(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// A WebSocket client connected to `path` on the server.
pub fn connect_path(addr: SocketAddr, path: &str) -> Client {
    let (client, response) =
        tungstenite::client(format!("ws://{addr}{path}"), tcp(addr)).expect("handshake");
    assert_eq!(response.status(), 101);
    client
}

pub fn connect(addr: SocketAddr) -> Client {
    connect_path(addr, "/")
}

/// The next data message (pings and pongs are skipped).
pub fn recv<S: Read + Write>(client: &mut WebSocket<S>) -> Message {
    loop {
        match client.read().expect("read a message") {
            Message::Ping(_) | Message::Pong(_) => continue,
            message => return message,
        }
    }
}

pub fn recv_text<S: Read + Write>(client: &mut WebSocket<S>) -> String {
    match recv(client) {
        Message::Text(text) => text.as_str().to_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Sends a text message and asserts the echo comes back: the server still serves this client.
pub fn assert_echoes<S: Read + Write>(client: &mut WebSocket<S>, text: &str) {
    client.send(Message::text(text)).expect("send");
    assert_eq!(recv_text(client), text);
}

/// Reads until the server's close frame and returns its code.
pub fn recv_close_code<S: Read + Write>(client: &mut WebSocket<S>) -> u16 {
    loop {
        match client.read() {
            Ok(Message::Close(Some(frame))) => return u16::from(frame.code),
            Ok(Message::Close(None)) => return 1005,
            Ok(_) => continue,
            Err(err) => panic!("expected a close frame, got {err}"),
        }
    }
}

/// Asserts that nothing arrives within `wait`.
pub fn assert_silent(client: &mut Client, wait: Duration) {
    client.get_mut().set_read_timeout(Some(wait)).unwrap();
    match client.read() {
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!("expected silence, got {other:?}"),
    }
    client.get_mut().set_read_timeout(Some(IO_TIMEOUT)).unwrap();
}

/// Polls `condition` every few milliseconds until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    condition()
}

/// A client frame, masked as RFC 6455 requires (pass `mask: false` to break that rule).
pub fn frame(opcode: u8, fin: bool, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let mask_bit = if mask { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if mask {
        let key = [0x12, 0x34, 0x56, 0x78];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A valid upgrade request for `path`, with extra header lines (each ending in `\r\n`).
pub fn upgrade_request_with(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

pub fn upgrade_request(path: &str) -> String {
    upgrade_request_with(path, "")
}

/// Opens a WebSocket by hand over raw TCP, returning the socket after the 101 response.
pub fn raw_upgrade(addr: SocketAddr) -> TcpStream {
    let mut stream = tcp(addr);
    stream.write_all(upgrade_request("/").as_bytes()).unwrap();
    let head = read_http_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    stream
}

/// Reads an HTTP response head byte by byte (so nothing after it is consumed).
pub fn read_http_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream
            .read_exact(&mut byte)
            .expect("read the response head");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// Reads whatever the server sends until it closes the connection (bounded by IO_TIMEOUT).
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // A reset also ends the connection.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

/// Sends a raw request and returns everything the server answers before closing.
pub fn http_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = tcp(addr);
    stream.write_all(request).unwrap();
    String::from_utf8_lossy(&read_to_close(&mut stream)).into_owned()
}

/// Reads one unmasked server frame: (opcode, payload).
pub fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let (_fin, opcode, payload) = read_frame_fin(stream);
    (opcode, payload)
}

/// Reads one server frame as it came on the wire: (fin, opcode, payload).
pub fn read_frame_fin(stream: &mut TcpStream) -> (bool, u8, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).expect("read a frame header");
    assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            stream.read_exact(&mut b).unwrap();
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            stream.read_exact(&mut b).unwrap();
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mut payload = vec![0; len as usize];
    stream.read_exact(&mut payload).unwrap();
    (head[0] & 0x80 != 0, head[0] & 0x0f, payload)
}

/// Reads frames until a close frame and returns its code (1005 when it has none).
pub fn read_close_code(stream: &mut TcpStream) -> u16 {
    loop {
        let (opcode, payload) = read_frame(stream);
        if opcode == 8 {
            return if payload.len() >= 2 {
                u16::from_be_bytes([payload[0], payload[1]])
            } else {
                1005
            };
        }
    }
}

/// A fresh empty directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "simple-ws-security-{}-{}-{name}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small seeded pseudo-random generator (xorshift64*), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
