//! A permessage-deflate client side for the deflate tests: raw deflate with a sync flush and
//! the `00 00 FF FF` tail stripped (RFC 7692 section 7.2.1), inflate with the tail put back,
//! and the upgrade with an offer. zlib-rs is used directly (a dev-dependency), with its own
//! streams, not the server's code.

#![allow(dead_code)] // reason: each deflate test file uses a different part of it

use std::io::Write;
use std::net::{SocketAddr, TcpStream};

use zlib_rs::{
    Deflate, DeflateConfig, DeflateFlush, Inflate, InflateFlush, Method, Status, Strategy,
};

use super::{read_http_head, tcp, upgrade_request_with};

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// A client compressor, kept across messages (context takeover) or made per message.
pub struct Compressor(Deflate);

impl Compressor {
    pub fn new(bits: u8) -> Self {
        Compressor(Deflate::new_with_config(DeflateConfig {
            level: 9,
            method: Method::Deflated,
            window_bits: -i32::from(bits),
            mem_level: 8,
            strategy: Strategy::Default,
        }))
    }

    /// Compresses one message (sync flush, tail stripped), keeping the context.
    pub fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut input = data;
        loop {
            let len = out.len();
            out.resize(len + (1 << 20), 0);
            let (i0, o0) = (self.0.total_in(), self.0.total_out());
            self.0
                .compress(input, &mut out[len..], DeflateFlush::SyncFlush)
                .expect("compress");
            let produced = (self.0.total_out() - o0) as usize;
            input = &input[(self.0.total_in() - i0) as usize..];
            out.truncate(len + produced);
            if input.is_empty() && produced < 1 << 20 {
                break;
            }
        }
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - 4);
        out
    }

    /// Compresses `total` zero bytes as one message, in pieces (the input is never whole).
    pub fn zeros(&mut self, total: usize) -> Vec<u8> {
        let zeros = vec![0u8; 1 << 20];
        let mut out = Vec::new();
        let mut left = total;
        let mut room = vec![0u8; 1 << 20];
        while left > 0 {
            let piece = left.min(zeros.len());
            let mut input = &zeros[..piece];
            left -= piece;
            let flush = if left == 0 {
                DeflateFlush::SyncFlush
            } else {
                DeflateFlush::NoFlush
            };
            loop {
                let (i0, o0) = (self.0.total_in(), self.0.total_out());
                self.0.compress(input, &mut room, flush).expect("compress");
                let produced = (self.0.total_out() - o0) as usize;
                out.extend_from_slice(&room[..produced]);
                input = &input[(self.0.total_in() - i0) as usize..];
                if input.is_empty() && produced < room.len() {
                    break;
                }
            }
        }
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - 4);
        out
    }
}

/// One-shot compression with a fresh 15-bit compressor.
pub fn compress(data: &[u8]) -> Vec<u8> {
    Compressor::new(15).message(data)
}

/// A client inflater for the server's messages.
pub struct Inflater(Inflate);

impl Inflater {
    pub fn new(bits: u8) -> Self {
        Inflater(Inflate::new(false, bits))
    }

    /// Inflates one message (the tail appended); `Err` with zlib's reason.
    pub fn message(&mut self, payload: &[u8]) -> Result<Vec<u8>, String> {
        let mut input = payload.to_vec();
        input.extend_from_slice(&TAIL);
        let mut out = vec![0u8; 64 << 20];
        let o0 = self.0.total_out();
        match self.0.decompress(&input, &mut out, InflateFlush::SyncFlush) {
            Ok(Status::Ok | Status::StreamEnd | Status::BufError) => {}
            Err(e) => return Err(self.0.error_message().unwrap_or(e.as_str()).to_owned()),
        }
        out.truncate((self.0.total_out() - o0) as usize);
        Ok(out)
    }
}

/// One-shot inflation with a fresh 15-bit inflater.
pub fn inflate(payload: &[u8]) -> Vec<u8> {
    Inflater::new(15).message(payload).expect("inflate")
}

/// Opens a WebSocket over raw TCP with these `Sec-WebSocket-Extensions` lines (none for an
/// empty list); returns the socket and the 101 response head, lowercased.
pub fn upgrade_offering(addr: SocketAddr, offers: &[&str]) -> (TcpStream, String) {
    let extra: String = offers
        .iter()
        .map(|o| format!("Sec-WebSocket-Extensions: {o}\r\n"))
        .collect();
    let mut stream = tcp(addr);
    stream
        .write_all(upgrade_request_with("/", &extra).as_bytes())
        .unwrap();
    let head = read_http_head(&mut stream).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    (stream, head)
}

/// The `sec-websocket-extensions` value of a lowercased response head, if any.
pub fn extensions_of(head: &str) -> Option<&str> {
    head.lines()
        .find_map(|l| l.strip_prefix("sec-websocket-extensions: "))
        .map(str::trim)
}

/// A masked client frame with RSV1 set or clear.
pub fn frame_rsv1(opcode: u8, fin: bool, rsv1: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = super::frame(opcode, fin, payload, true);
    if rsv1 {
        f[0] |= 0x40;
    }
    f
}

/// Reads one server frame: (first byte: FIN, RSV1, opcode; payload).
pub fn read_frame_head(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    use std::io::Read;
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
    (head[0], payload)
}

/// A JSON-like text of about `len` bytes that compresses well.
pub fn json_text(len: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(&format!(
            "{{\"id\":{i},\"symbol\":\"ACME\",\"price\":{}.25,\"side\":\"buy\"}}\n",
            100 + i % 7
        ));
        i += 1;
    }
    s
}
