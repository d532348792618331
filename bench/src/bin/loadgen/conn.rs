//! Connections: non-blocking connect, the per-connection state, reads, the upgrade
//! response and opening many connections at once.

use crate::opts::Opts;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use simple_ws_bench::{
    upgrade_request, upgrade_request_deflate, FrameDecoder, DEFLATE_OFFER, DEFLATE_OFFER_BROWSER,
};
use socket2::{Domain, SockRef, Socket, Type};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

/// Opens a non-blocking connection, bound to `src` when given.
pub fn connect(addr: SocketAddr, src: Option<Ipv4Addr>) -> std::io::Result<TcpStream> {
    let s = match src {
        None => TcpStream::connect(addr)?,
        Some(ip) => {
            let sock = Socket::new(Domain::IPV4, Type::STREAM, None)?;
            sock.set_nonblocking(true)?;
            sock.bind(&SocketAddr::V4(SocketAddrV4::new(ip, 0)).into())?;
            match sock.connect(&addr.into()) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(115) || e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            TcpStream::from_std(sock.into())
        }
    };
    s.set_nodelay(true)?;
    Ok(s)
}

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum St {
    Connecting,
    Handshaking,
    Open,
    Closing,
    Done,
}

pub struct Conn {
    pub s: TcpStream,
    pub st: St,
    /// Bytes of the upgrade response seen so far.
    pub hs: Vec<u8>,
    pub dec: FrameDecoder,
    /// Bytes still to write (only when the socket would block).
    pub out: Vec<u8>,
    /// Send times of messages in flight (echo).
    pub sent_at: VecDeque<Instant>,
    /// Raw mode: bytes received that do not yet make a whole message.
    pub carry: usize,
    /// Messages received.
    pub recv: u64,
    /// Offered permessage-deflate: the upgrade response must accept it.
    pub want_deflate: bool,
}

impl Conn {
    pub fn new(s: TcpStream) -> Self {
        Conn {
            s,
            st: St::Connecting,
            hs: Vec::new(),
            dec: FrameDecoder::new(),
            out: Vec::new(),
            sent_at: VecDeque::new(),
            carry: 0,
            recv: 0,
            want_deflate: false,
        }
    }

    /// Writes `data`, queueing what would block. Returns false on a hard error.
    pub fn send(&mut self, data: &[u8]) -> bool {
        if !self.out.is_empty() {
            self.out.extend_from_slice(data);
            return true;
        }
        let mut off = 0;
        while off < data.len() {
            match self.s.write(&data[off..]) {
                Ok(0) => return false,
                Ok(n) => off += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.out.extend_from_slice(&data[off..]);
                    return true;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    pub fn flush(&mut self) -> bool {
        while !self.out.is_empty() {
            match self.s.write(&self.out) {
                Ok(0) => return false,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Close with RST, not FIN: no TIME_WAIT left behind on this side, so runs one after the
        // other never run short of ephemeral ports (bind() scans get slow with many).
        let _ = SockRef::from(&self.s).set_linger(Some(Duration::ZERO));
    }
}

/// Reads until WouldBlock into `buf`, handing each chunk to `f`. Returns false on EOF/error.
pub fn drain(s: &mut TcpStream, buf: &mut [u8], mut f: impl FnMut(&[u8])) -> bool {
    loop {
        match s.read(buf) {
            Ok(0) => return false,
            Ok(n) => f(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Handles the upgrade response. Returns the bytes after the header (frame data), or None if
/// the response is not complete yet. Err on a non-101 answer.
pub fn handshake_bytes(c: &mut Conn, chunk: &[u8]) -> Result<Option<Vec<u8>>, String> {
    c.hs.extend_from_slice(chunk);
    if let Some(p) = c.hs.windows(4).position(|w| w == b"\r\n\r\n") {
        if !c.hs.starts_with(b"HTTP/1.1 101") {
            let line = String::from_utf8_lossy(&c.hs[..c.hs.len().min(40)]).into_owned();
            return Err(format!("upgrade refused: {line:?}"));
        }
        if c.want_deflate {
            let head = String::from_utf8_lossy(&c.hs[..p]).to_ascii_lowercase();
            if !head.contains("sec-websocket-extensions: permessage-deflate") {
                return Err("server declined permessage-deflate".into());
            }
        }
        let rest = c.hs[p + 4..].to_vec();
        c.hs = Vec::new();
        c.st = St::Open;
        return Ok(Some(rest));
    }
    if c.hs.len() > 16 * 1024 {
        return Err("upgrade response too long".into());
    }
    Ok(None)
}

fn src_ip(i: usize, o: &Opts) -> Option<Ipv4Addr> {
    if o.src_ips == 0 {
        None
    } else {
        let k = (i / o.per_ip.max(1)) % o.src_ips.min(250);
        Some(Ipv4Addr::new(127, 0, 0, 2 + k as u8))
    }
}

/// Reads until WouldBlock, appending to `out`. Returns false on EOF/error.
pub fn read_all(s: &mut TcpStream, buf: &mut [u8], out: &mut Vec<u8>) -> bool {
    drain(s, buf, |chunk| out.extend_from_slice(chunk))
}

/// Opens `n` connections (tokens `base..base + n`) and brings them all to Open (handshake
/// done), at most `window` connecting at once. Frame bytes that arrive during setup go through
/// each connection's decoder and are dropped.
pub fn open_all(
    o: &Opts,
    poll: &mut Poll,
    n: usize,
    base: usize,
    window: usize,
) -> Result<Vec<Conn>, String> {
    let req = if o.deflate {
        let offer = if o.browser_offer {
            DEFLATE_OFFER_BROWSER
        } else {
            DEFLATE_OFFER
        };
        upgrade_request_deflate(&o.addr.to_string(), "/", offer)
    } else {
        upgrade_request(&o.addr.to_string(), "/")
    };
    let mut conns: Vec<Conn> = Vec::with_capacity(n);
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs_f64(o.setup_timeout);
    let mut open = 0usize;
    let mut pending = 0usize;
    let mut data = Vec::new();
    while open < n {
        while conns.len() < n && pending < window {
            let i = conns.len();
            let mut s = connect(o.addr, src_ip(i, o)).map_err(|e| format!("connect #{i}: {e}"))?;
            poll.registry()
                .register(
                    &mut s,
                    Token(base + i),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .map_err(|e| e.to_string())?;
            let mut c = Conn::new(s);
            c.want_deflate = o.deflate;
            conns.push(c);
            pending += 1;
        }
        if Instant::now() > deadline {
            return Err(format!("setup timed out: {open} of {n} connections open"));
        }
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            // Other connections' events (already open ones) are not ours to handle here.
            let Some(i) = ev.token().0.checked_sub(base).filter(|&i| i < conns.len()) else {
                continue;
            };
            let c = &mut conns[i];
            if c.st == St::Connecting {
                match c.s.take_error() {
                    Ok(Some(e)) | Err(e) => return Err(format!("connect #{i}: {e}")),
                    Ok(None) => {}
                }
                if c.s.peer_addr().is_err() {
                    continue;
                }
                if o.proto_ws {
                    c.st = St::Handshaking;
                    if !c.send(&req) {
                        return Err(format!("send upgrade #{i} failed"));
                    }
                } else {
                    c.st = St::Open;
                    open += 1;
                    pending -= 1;
                }
            }
            if ev.is_writable() && !c.flush() {
                return Err(format!("write #{i} failed"));
            }
            if ev.is_readable() {
                data.clear();
                let ok = read_all(&mut c.s, &mut buf, &mut data);
                let mut rest: &[u8] = &data;
                let mut tail = Vec::new();
                if c.st == St::Handshaking && !data.is_empty() {
                    match handshake_bytes(c, &data) {
                        Ok(Some(r)) => {
                            tail = r;
                            open += 1;
                            pending -= 1;
                        }
                        Ok(None) => {}
                        Err(e) => return Err(format!("#{i}: {e}")),
                    }
                    rest = &tail;
                }
                if c.st == St::Open {
                    c.dec.feed(rest, |_| {});
                }
                if !ok {
                    return Err(format!("#{i}: closed by server during setup ({open} open)"));
                }
            }
        }
    }
    Ok(conns)
}
