//! Helpers shared by the integration tests: a server on 127.0.0.1 port 0 in a thread of the test
//! process, the binary as a child process, and WebSocket clients over real sockets.

#![allow(dead_code)] // Each test crate uses a different subset of these helpers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use simple_ws_server::tungstenite::{self, protocol::WebSocket, Message};
use simple_ws_server::{Config, Handle, Handler, Server};

/// How long any single read in a test may wait before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

pub type Client = WebSocket<TcpStream>;

/// A server running a handler in a thread of the test process; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handle: Handle,
    thread: Option<JoinHandle<simple_ws_server::Result<()>>>,
}

impl TestServer {
    pub fn start<H: Handler + Send + 'static>(handler: H, config: Config) -> Self {
        let server = Server::bind("127.0.0.1:0", config).expect("bind 127.0.0.1:0");
        let addr = server.local_addr();
        let handle = server.handle();
        let thread = std::thread::spawn(move || server.run(handler));
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
pub fn recv(client: &mut Client) -> Message {
    loop {
        match client.read().expect("read a message") {
            Message::Ping(_) | Message::Pong(_) => continue,
            message => return message,
        }
    }
}

pub fn recv_text(client: &mut Client) -> String {
    match recv(client) {
        Message::Text(text) => text.as_str().to_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Reads until the server's close frame and returns its code.
pub fn recv_close_code(client: &mut Client) -> u16 {
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

/// Sends a raw HTTP request and returns the whole response (the server closes after it).
pub fn http_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = tcp(addr);
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
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

/// What a recording handler saw, shared with the test.
pub type Log<T> = Arc<Mutex<Vec<T>>>;

/// The `simple-ws-server` binary as a child process; killed when dropped.
pub struct Binary {
    pub child: Child,
    pub addr: SocketAddr,
    pub first_lines: Vec<String>,
}

impl Binary {
    /// Starts the binary with these arguments plus `--port 0 --host 127.0.0.1`, waiting for it to
    /// print its address.
    pub fn start(args: &[&str]) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_simple-ws-server"))
            .args(args)
            .args(["--port", "0", "--host", "127.0.0.1"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start simple-ws-server");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first_lines = Vec::new();
        for _ in 0..2 {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("read the banner");
            first_lines.push(line.trim_end().to_owned());
        }
        let url = first_lines[0]
            .strip_prefix("listening on ws://")
            .expect("a 'listening on' line")
            .trim_end_matches('/');
        let addr = url.parse().expect("an address");
        Binary {
            child,
            addr,
            first_lines,
        }
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < IO_TIMEOUT,
                "the server did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

/// A valid upgrade request for `path`.
pub fn upgrade_request(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Opens a WebSocket by hand over raw TCP, returning the socket after the 101 response.
pub fn raw_upgrade(addr: SocketAddr) -> TcpStream {
    let mut stream = tcp(addr);
    stream.write_all(upgrade_request("/").as_bytes()).unwrap();
    read_http_head(&mut stream);
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

/// Reads one unmasked server frame: (opcode, payload).
pub fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).expect("read a frame header");
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
    (head[0] & 0x0f, payload)
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
