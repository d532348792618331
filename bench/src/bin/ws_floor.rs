//! The least a WebSocket echo must do, as a server to measure against (issue 16's 4 KiB x16
//! figure): the raw echo's loop plus only what RFC 6455 requires of every server, and no copy.
//!
//! Each read goes into one shared 64 KiB buffer. Every whole client frame in it is unmasked in
//! place (RFC 6455 5.3), a text payload is checked as UTF-8 (8.1), and the server's header is
//! written over the end of the client's (whose mask key is no longer needed), so the echoed
//! frames lie in the buffer as they were read, 4 bytes apart: one `writev` sends them all. A
//! partial frame at the end waits in front of the next read. No handler, no queue, no copy into
//! an outgoing buffer (except what the socket would not take); fragmented frames, control frames
//! other than close, and frames over 64 KiB close the connection. Not a server to use: a floor.
//!
//! `ws_floor [--host IP] [--port P]`; prints `listening on tcp://IP:PORT/` (flushed) once bound.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, IoSlice, Read, Write};
use std::net::SocketAddr;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

const LISTENER: Token = Token(usize::MAX);
const BUF: usize = 64 * 1024;

struct Conn {
    s: TcpStream,
    /// The request head until it is whole; then empty.
    head: Option<Vec<u8>>,
    /// A partial frame left at the end of the last read.
    carry: Vec<u8>,
    /// Output the socket would not take.
    out: Vec<u8>,
}

/// A whole masked frame at the start of `input`: (opcode, header length, payload length).
/// `Err` for what this floor does not serve; `Ok(None)` when more bytes are needed.
fn frame_at(input: &[u8]) -> Result<Option<(u8, usize, usize)>, ()> {
    let [first, second, ..] = *input else {
        return Ok(None);
    };
    if first & 0xf0 != 0x80 || second & 0x80 == 0 {
        return Err(()); // fragmented, RSV set, or unmasked
    }
    let (head, len) = match second & 0x7f {
        127 => return Err(()),
        126 if input.len() < 4 => return Ok(None),
        126 => (8, usize::from(u16::from_be_bytes([input[2], input[3]]))),
        len => (6, usize::from(len)),
    };
    if input.len() < head + len {
        return Ok(None);
    }
    Ok(Some((first & 0x0f, head, len)))
}

/// XORs `data` with the key, 32 bytes at a time (as simple-ws-server's codec does).
fn unmask(data: &mut [u8], key: [u8; 4]) {
    let wide: [u8; 32] = std::array::from_fn(|i| key[i & 3]);
    let (chunks, rest) = data.as_chunks_mut::<32>();
    for chunk in chunks {
        for (byte, k) in chunk.iter_mut().zip(wide) {
            *byte ^= k;
        }
    }
    for (i, byte) in rest.iter_mut().enumerate() {
        *byte ^= key[i & 3];
    }
}

/// Unmasks and re-heads every whole frame in `buf`; returns the output ranges and how many
/// bytes were used, or `Err` to close.
fn echo_in_place(buf: &mut [u8], ranges: &mut Vec<(usize, usize)>) -> Result<usize, ()> {
    let mut pos = 0;
    while let Some((op, head, len)) = frame_at(&buf[pos..])? {
        let start = pos + head;
        let key = [
            buf[start - 4],
            buf[start - 3],
            buf[start - 2],
            buf[start - 1],
        ];
        unmask(&mut buf[start..start + len], key);
        match op {
            1 if std::str::from_utf8(&buf[start..start + len]).is_err() => return Err(()),
            1 | 2 => {}
            _ => return Err(()), // close or anything else: end here
        }
        let from = if len < 126 {
            buf[start - 2..start].copy_from_slice(&[0x80 | op, len as u8]);
            start - 2
        } else {
            let [hi, lo] = (len as u16).to_be_bytes();
            buf[start - 4..start].copy_from_slice(&[0x80 | op, 126, hi, lo]);
            start - 4
        };
        ranges.push((from, start + len));
        pos = start + len;
    }
    Ok(pos)
}

/// Writes the ranges of `buf` with one `writev` (more if the socket takes part), keeping what
/// would block. Returns false on a hard error.
fn send(c: &mut Conn, buf: &[u8], ranges: &[(usize, usize)]) -> bool {
    if !c.out.is_empty() {
        ranges
            .iter()
            .for_each(|&(a, b)| c.out.extend_from_slice(&buf[a..b]));
        return flush(c);
    }
    let mut skip = 0; // bytes of the ranges already written
    loop {
        let mut left = skip;
        let slices: Vec<IoSlice<'_>> = ranges
            .iter()
            .filter_map(|&(a, b)| {
                let n = b - a;
                if left >= n {
                    left -= n;
                    None
                } else {
                    let s = IoSlice::new(&buf[a + left..b]);
                    left = 0;
                    Some(s)
                }
            })
            .collect();
        if slices.is_empty() {
            return true;
        }
        match c.s.write_vectored(&slices) {
            Ok(0) => return false,
            Ok(n) => skip += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                slices.iter().for_each(|s| c.out.extend_from_slice(s));
                return true;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn flush(c: &mut Conn) -> bool {
    while !c.out.is_empty() {
        match c.s.write(&c.out) {
            Ok(0) => return false,
            Ok(n) => {
                c.out.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// The 101 for a request head, or `None` to close.
fn upgrade(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let key = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim())
    })?;
    let accept = derive_accept_key(key.as_bytes());
    Some(
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .into_bytes(),
    )
}

/// Reads a connection until it would block; false to close it.
fn on_readable(c: &mut Conn, buf: &mut [u8], ranges: &mut Vec<(usize, usize)>) -> bool {
    loop {
        let kept = c.carry.len();
        buf[..kept].copy_from_slice(&c.carry);
        c.carry.clear();
        let n = match c.s.read(&mut buf[kept..kept + BUF]) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                c.carry.extend_from_slice(&buf[..kept]);
                return true;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {
                c.carry.extend_from_slice(&buf[..kept]);
                continue;
            }
            Err(_) => return false,
        };
        let end = kept + n;
        if let Some(head) = &mut c.head {
            head.extend_from_slice(&buf[..end]);
            let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                if head.len() > 8192 {
                    return false;
                }
                continue;
            };
            let Some(response) = upgrade(&head[..at]) else {
                return false;
            };
            c.carry = head[at + 4..].to_vec();
            c.head = None;
            c.out.extend_from_slice(&response);
            if !flush(c) {
                return false;
            }
            continue;
        }
        ranges.clear();
        let Ok(used) = echo_in_place(&mut buf[..end], ranges) else {
            return false;
        };
        if !send(c, buf, ranges) {
            return false;
        }
        c.carry.extend_from_slice(&buf[used..end]);
    }
}

fn main() -> std::io::Result<()> {
    let mut host = "127.0.0.1".to_string();
    let mut port = "0".to_string();
    let args: Vec<String> = std::env::args().skip(1).collect();
    for w in args.chunks(2) {
        match (w[0].as_str(), w.get(1)) {
            ("--host", Some(v)) => host = v.clone(),
            ("--port", Some(v)) => port = v.clone(),
            _ => {
                eprintln!("usage: ws_floor [--host IP] [--port P]");
                std::process::exit(2);
            }
        }
    }
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|e| std::io::Error::new(ErrorKind::InvalidInput, e))?;
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on tcp://{}/", listener.local_addr()?)?;
        out.flush()?;
    }
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(1024);
    // A carried partial frame (at most a header and 64 KiB) plus one read of 64 KiB.
    let mut buf = vec![0u8; 2 * BUF + 16];
    let mut ranges = Vec::new();
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for ev in events.iter() {
            if ev.token() == LISTENER {
                while let Ok((mut s, _)) = listener.accept() {
                    let _ = s.set_nodelay(true);
                    let i = free.pop().unwrap_or_else(|| {
                        conns.push(None);
                        conns.len() - 1
                    });
                    poll.registry().register(
                        &mut s,
                        Token(i),
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    conns[i] = Some(Conn {
                        s,
                        head: Some(Vec::new()),
                        carry: Vec::new(),
                        out: Vec::new(),
                    });
                }
                continue;
            }
            let i = ev.token().0;
            let Some(c) = conns.get_mut(i).and_then(|c| c.as_mut()) else {
                continue;
            };
            let mut alive = !ev.is_writable() || flush(c);
            if alive && ev.is_readable() {
                // Each read takes at most 64 KiB after the carry, as the raw echo's does.
                alive = on_readable(c, &mut buf, &mut ranges);
            }
            if !alive {
                if let Some(mut c) = conns[i].take() {
                    let _ = poll.registry().deregister(&mut c.s);
                    free.push(i);
                }
            }
        }
    }
}
