//! Load generator for simple-ws-server and its peers: one thread, one mio loop, frames
//! pre-encoded (and pre-masked) once, so the generator stays cheaper per message than the
//! servers it drives.
//!
//! Modes:
//! - `echo`: N connections, each keeping K messages of S bytes in flight.
//! - `broadcast`: N receivers plus 1 sender against a chat server (all but the sender get each
//!   message); the sender keeps K messages in flight, a message being done once every receiver
//!   got it. Counts deliveries/s.
//! - `idle`: opens N connections (from source addresses 127.0.0.2.. to pass the port range) and
//!   reports the server's VmRSS growth per connection.
//! - `handshake`: C concurrent connect + upgrade + close cycles; handshakes/s and per server
//!   CPU-second.
//! - `upgrade`: the same without the close handshake (the TCP close follows the 101): one round
//!   trip, like the raw cycle's connect + one byte echoed + TCP close.
//!
//! `--deflate` offers permessage-deflate (no context takeover either way), refuses a server
//! that declines it, and sends each message as one frame compressed once up front (RSV1 set);
//! server frames are counted, not inflated. `--payload-file F` sends the bytes of F instead of
//! `--size` bytes of `x` (a realistic message; it need not end in `#`). Echo and broadcast
//! report wire bytes per message each way (WebSocket frames, headers included; not TCP/IP).
//!
//! `--browser-offer` offers what browsers do (context takeover allowed both ways) instead.
//!
//! `--proto raw` drives the raw mio TCP echo/chat server with fixed-size messages and no
//! framing. Output: one JSON line on stdout, a human-readable line on stderr.

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use serde_json::json;
use simple_ws_bench::{
    anon_bytes, client_frame, client_frame_compressed, close_frame, cpu_seconds, deflate_message,
    rss_bytes, runqueue_wait_seconds, upgrade_request, upgrade_request_deflate, FrameDecoder,
    Histogram, DEFLATE_OFFER, DEFLATE_OFFER_BROWSER,
};
use socket2::{Domain, SockRef, Socket, Type};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

/// Last byte of every benchmark payload; chat notices ("... - connected") never end with it.
const MARK: u8 = b'#';

#[derive(Clone, Debug)]
struct Opts {
    addr: SocketAddr,
    proto_ws: bool,
    mode: String,
    conns: usize,
    inflight: usize,
    size: usize,
    duration: f64,
    warmup: f64,
    server_pid: Option<u32>,
    label: String,
    src_ips: usize,
    text: bool,
    setup_timeout: f64,
    per_ip: usize,
    window: usize,
    deflate: bool,
    touch: bool,
    browser_offer: bool,
    payload_file: Option<Vec<u8>>,
}

fn usage() -> ! {
    eprintln!(
        "usage: loadgen --addr IP:PORT [--proto ws|raw] [--mode echo|broadcast|idle|handshake|upgrade]\n\
         \t[--conns N] [--inflight K] [--size BYTES] [--duration S] [--warmup S]\n\
         \t[--server-pid PID] [--label NAME] [--src-ips N] [--per-ip N] [--text] [--setup-timeout S]\n\
         \t[--connect-window N (connections being set up at once)] [--deflate] [--browser-offer] [--payload-file F]\n\
         \t[--touch (idle: each connection echoes one message before the memory is read)]"
    );
    std::process::exit(2)
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        addr: "127.0.0.1:8000".parse().unwrap(),
        proto_ws: true,
        mode: "echo".into(),
        conns: 64,
        inflight: 1,
        size: 32,
        duration: 5.0,
        warmup: 0.5,
        server_pid: None,
        label: String::new(),
        src_ips: 0,
        text: false,
        setup_timeout: 60.0,
        per_ip: 20_000,
        window: 256,
        deflate: false,
        touch: false,
        browser_offer: false,
        payload_file: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let k = args[i].as_str();
        if ["--text", "--deflate", "--touch", "--browser-offer"].contains(&k) {
            match k {
                "--text" => o.text = true,
                "--deflate" => o.deflate = true,
                "--browser-offer" => o.browser_offer = true,
                _ => o.touch = true,
            }
            i += 1;
            continue;
        }
        let v = args.get(i + 1).unwrap_or_else(|| usage()).clone();
        let bad = |_| usage();
        match k {
            "--addr" => o.addr = v.parse().unwrap_or_else(|_| usage()),
            "--proto" => o.proto_ws = v == "ws",
            "--mode" => o.mode = v,
            "--conns" => o.conns = v.parse().unwrap_or_else(bad),
            "--inflight" => o.inflight = v.parse().unwrap_or_else(bad),
            "--size" => o.size = v.parse().unwrap_or_else(bad),
            "--duration" => o.duration = v.parse().unwrap_or_else(|_| usage()),
            "--warmup" => o.warmup = v.parse().unwrap_or_else(|_| usage()),
            "--server-pid" => o.server_pid = Some(v.parse().unwrap_or_else(|_| usage())),
            "--label" => o.label = v,
            "--src-ips" => o.src_ips = v.parse().unwrap_or_else(bad),
            "--per-ip" => o.per_ip = v.parse().unwrap_or_else(bad),
            "--connect-window" => o.window = v.parse().unwrap_or_else(bad),
            "--payload-file" => {
                let b = std::fs::read(&v).unwrap_or_else(|e| {
                    eprintln!("--payload-file {v}: {e}");
                    std::process::exit(2)
                });
                o.size = b.len();
                o.payload_file = Some(b);
            }
            "--setup-timeout" => o.setup_timeout = v.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
        i += 2;
    }
    if o.inflight == 0 || o.size == 0 || o.conns == 0 {
        usage()
    }
    o
}

fn self_pid() -> u32 {
    std::process::id()
}

/// Opens a non-blocking connection, bound to `src` when given.
fn connect(addr: SocketAddr, src: Option<Ipv4Addr>) -> std::io::Result<TcpStream> {
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
enum St {
    Connecting,
    Handshaking,
    Open,
    Closing,
    Done,
}

struct Conn {
    s: TcpStream,
    st: St,
    /// Bytes of the upgrade response seen so far.
    hs: Vec<u8>,
    dec: FrameDecoder,
    /// Bytes still to write (only when the socket would block).
    out: Vec<u8>,
    /// Send times of messages in flight (echo).
    sent_at: VecDeque<Instant>,
    /// Raw mode: bytes received that do not yet make a whole message.
    carry: usize,
    /// Messages received.
    recv: u64,
    /// Offered permessage-deflate: the upgrade response must accept it.
    want_deflate: bool,
}

impl Conn {
    fn new(s: TcpStream) -> Self {
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
    fn send(&mut self, data: &[u8]) -> bool {
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

    fn flush(&mut self) -> bool {
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
fn drain(s: &mut TcpStream, buf: &mut [u8], mut f: impl FnMut(&[u8])) -> bool {
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
fn handshake_bytes(c: &mut Conn, chunk: &[u8]) -> Result<Option<Vec<u8>>, String> {
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

struct Cpu {
    t: Instant,
    server: Option<f64>,
    client: f64,
    server_wait: Option<f64>,
    client_wait: f64,
}

impl Cpu {
    fn now(pid: Option<u32>) -> Self {
        Cpu {
            t: Instant::now(),
            server: pid.and_then(cpu_seconds),
            client: cpu_seconds(self_pid()).unwrap_or(0.0),
            server_wait: pid.and_then(runqueue_wait_seconds),
            client_wait: runqueue_wait_seconds(self_pid()).unwrap_or(0.0),
        }
    }

    /// Fractions of the wall time the server's and the generator's main threads spent ready
    /// but waiting for their CPU: other load on the machine if well above zero.
    fn waits(&self, pid: Option<u32>) -> (Option<f64>, f64) {
        let n = Cpu::now(pid);
        let wall = n.t.duration_since(self.t).as_secs_f64();
        (
            match (n.server_wait, self.server_wait) {
                (Some(a), Some(b)) => Some((a - b) / wall),
                _ => None,
            },
            (n.client_wait - self.client_wait) / wall,
        )
    }
    /// (wall seconds, server CPU seconds, client CPU seconds) since `self`.
    fn since(&self, pid: Option<u32>) -> (f64, Option<f64>, f64) {
        let n = Cpu::now(pid);
        (
            n.t.duration_since(self.t).as_secs_f64(),
            match (n.server, self.server) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            },
            n.client - self.client,
        )
    }
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
fn read_all(s: &mut TcpStream, buf: &mut [u8], out: &mut Vec<u8>) -> bool {
    drain(s, buf, |chunk| out.extend_from_slice(chunk))
}

/// Opens `n` connections (tokens `base..base + n`) and brings them all to Open (handshake
/// done), at most `window` connecting at once. Frame bytes that arrive during setup go through
/// each connection's decoder and are dropped.
fn open_all(
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

struct Report {
    v: serde_json::Value,
}

fn base_report(o: &Opts) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("label".into(), json!(o.label));
    m.insert("proto".into(), json!(if o.proto_ws { "ws" } else { "raw" }));
    m.insert("mode".into(), json!(o.mode));
    m.insert("conns".into(), json!(o.conns));
    m.insert("inflight".into(), json!(o.inflight));
    m.insert("size".into(), json!(o.size));
    m.insert("deflate".into(), json!(o.deflate));
    m
}

fn payload(o: &Opts) -> Vec<u8> {
    if let Some(p) = &o.payload_file {
        return p.clone();
    }
    let mut p = vec![b'x'; o.size];
    p[o.size - 1] = MARK;
    p
}

/// The one frame every message is sent as: compressed once here with `--deflate`.
fn ws_frame(o: &Opts, opcode: u8, p: &[u8]) -> Vec<u8> {
    if o.deflate {
        client_frame_compressed(opcode, &deflate_message(p))
    } else {
        client_frame(opcode, p)
    }
}

/// Shortest benchmark message frame when its length cannot be predicted (compressed, or a
/// payload file in a chat): the chat's join notices ("127.0.0.1 - connected") are shorter.
const MIN_COUNTED: u64 = 64;

fn echo(o: &Opts) -> Result<Report, String> {
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut conns = open_all(o, &mut poll, o.conns, 0, o.window)?;
    let p = payload(o);
    let one = if o.proto_ws {
        ws_frame(o, if o.text { 1 } else { 2 }, &p)
    } else {
        p.clone()
    };
    let batch: Vec<u8> = one.repeat(o.inflight);
    let flen = one.len();
    let size = o.size;
    let mut hist = Histogram::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 256 * 1024];
    let start = Instant::now();
    for c in conns.iter_mut() {
        for _ in 0..o.inflight {
            c.sent_at.push_back(start);
        }
        if !c.send(&batch) {
            return Err("initial send failed".into());
        }
    }
    let warm_end = start + Duration::from_secs_f64(o.warmup);
    let end = warm_end + Duration::from_secs_f64(o.duration);
    let mut measuring = false;
    let mut cpu = Cpu::now(o.server_pid);
    let mut msgs: u64 = 0;
    let mut bad_frames = 0u64;
    let (mut wire_in, mut wire_out) = (0u64, 0u64);
    loop {
        let now = Instant::now();
        if !measuring && now >= warm_end {
            measuring = true;
            hist.clear();
            msgs = 0;
            wire_in = 0;
            wire_out = 0;
            cpu = Cpu::now(o.server_pid);
        }
        if now >= end {
            break;
        }
        poll.poll(&mut events, Some(Duration::from_millis(5)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            if ev.is_writable() && !c.flush() {
                return Err("write failed".into());
            }
            if !ev.is_readable() {
                continue;
            }
            let mut done = 0usize;
            let ok = if o.proto_ws {
                let dec = &mut c.dec;
                let win = &mut wire_in;
                drain(&mut c.s, &mut buf, |chunk| {
                    if measuring {
                        *win += chunk.len() as u64;
                    }
                    dec.feed(chunk, |f| {
                        let len_ok = if o.deflate {
                            f.len >= 1
                        } else {
                            f.len == size as u64
                        };
                        if f.fin && (f.opcode == 1 || f.opcode == 2) && len_ok {
                            done += 1;
                        } else {
                            bad_frames += 1;
                        }
                    })
                })
            } else {
                let carry = &mut c.carry;
                drain(&mut c.s, &mut buf, |chunk| {
                    let t = *carry + chunk.len();
                    done += t / size;
                    *carry = t % size;
                })
            };
            if !ok {
                return Err("connection closed by server".into());
            }
            if done > 0 {
                let t = Instant::now();
                for _ in 0..done {
                    if let Some(s) = c.sent_at.pop_front() {
                        if measuring {
                            hist.record(t - s);
                        }
                    }
                }
                if measuring {
                    msgs += done as u64;
                }
                let mut left = done;
                while left > 0 {
                    let k = left.min(o.inflight);
                    for _ in 0..k {
                        c.sent_at.push_back(t);
                    }
                    if !c.send(&batch[..k * flen]) {
                        return Err("send failed".into());
                    }
                    if measuring {
                        wire_out += (k * flen) as u64;
                    }
                    left -= k;
                }
            }
        }
    }
    let (swait, cwait) = cpu.waits(o.server_pid);
    let (wall, scpu, ccpu) = cpu.since(o.server_pid);
    let mut m = base_report(o);
    m.insert("server_runq_wait".into(), json!(swait));
    m.insert("client_runq_wait".into(), json!(cwait));
    m.insert("msgs".into(), json!(msgs));
    m.insert("msgs_per_s".into(), json!(msgs as f64 / wall));
    m.insert("p50_us".into(), json!(hist.quantile(0.5) as f64 / 1e3));
    m.insert("p99_us".into(), json!(hist.quantile(0.99) as f64 / 1e3));
    m.insert("p999_us".into(), json!(hist.quantile(0.999) as f64 / 1e3));
    m.insert("wall_s".into(), json!(wall));
    m.insert("server_cpu".into(), json!(scpu.map(|c| c / wall)));
    m.insert("client_cpu".into(), json!(ccpu / wall));
    m.insert("unexpected_frames".into(), json!(bad_frames));
    per_msg(&mut m, msgs, wire_out, wire_in, scpu);
    Ok(Report {
        v: serde_json::Value::Object(m),
    })
}

fn broadcast(o: &Opts) -> Result<Report, String> {
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let n = o.conns;
    let w = o.inflight;
    let size = o.size;
    // Receivers first (0..n), then the sender (n).
    let mut conns = open_all(o, &mut poll, n, 0, o.window)?;
    let mut sender = {
        let mut o1 = o.clone();
        o1.src_ips = 0;
        open_all(&o1, &mut poll, 1, n, 1)?.pop().unwrap()
    };
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 256 * 1024];
    // Settle: swallow the join notices until the line is quiet.
    let settle_deadline = Instant::now() + Duration::from_secs_f64(o.setup_timeout);
    let mut quiet_since = Instant::now();
    while Instant::now() < settle_deadline
        && quiet_since.elapsed() < Duration::from_millis(if o.proto_ws { 300 } else { 50 })
    {
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            let i = ev.token().0;
            let c = if i == n { &mut sender } else { &mut conns[i] };
            if ev.is_readable() {
                let mut got = false;
                let dec = &mut c.dec;
                if !drain(&mut c.s, &mut buf, |chunk| {
                    got = true;
                    dec.feed(chunk, |_| {});
                }) {
                    return Err("closed by server while settling".into());
                }
                if got {
                    quiet_since = Instant::now();
                }
            }
        }
    }
    let p = payload(o);
    let one = if o.proto_ws {
        ws_frame(o, 1, &p)
    } else {
        p.clone()
    };
    let batch = one.repeat(w);
    let flen = one.len();
    let mut slot_count = vec![0usize; w];
    let mut slot_sent = vec![Instant::now(); w];
    let mut sent: u64 = 0;
    let mut completed: u64 = 0;
    let mut deliveries: u64 = 0;
    let mut hist = Histogram::new();
    let start = Instant::now();
    let warm_end = start + Duration::from_secs_f64(o.warmup);
    let end = warm_end + Duration::from_secs_f64(o.duration);
    let mut measuring = false;
    let mut cpu = Cpu::now(o.server_pid);
    let mut msgs_done: u64 = 0;
    let (mut wire_in, mut wire_out) = (0u64, 0u64);
    let counted = if o.deflate || o.payload_file.is_some() {
        MIN_COUNTED
    } else {
        size as u64
    };
    let need_mark = o.payload_file.is_none() && !o.deflate;
    loop {
        // Top up the sender's window.
        let room = (w as u64 - (sent - completed)) as usize;
        if room > 0 {
            let t = Instant::now();
            for k in 0..room {
                slot_sent[((sent + k as u64) % w as u64) as usize] = t;
            }
            if !sender.send(&batch[..room * flen]) {
                return Err("sender: send failed".into());
            }
            if measuring {
                wire_out += (room * flen) as u64;
            }
            sent += room as u64;
        }
        let now = Instant::now();
        if !measuring && now >= warm_end {
            measuring = true;
            hist.clear();
            deliveries = 0;
            msgs_done = 0;
            wire_in = 0;
            wire_out = 0;
            cpu = Cpu::now(o.server_pid);
        }
        if now >= end {
            break;
        }
        poll.poll(&mut events, Some(Duration::from_millis(5)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            let i = ev.token().0;
            if i == n {
                if ev.is_writable() && !sender.flush() {
                    return Err("sender: write failed".into());
                }
                if ev.is_readable() && !drain(&mut sender.s, &mut buf, |_| {}) {
                    return Err("sender closed by server".into());
                }
                continue;
            }
            let c = &mut conns[i];
            if !ev.is_readable() {
                continue;
            }
            let mut got = 0u64;
            let ok = if o.proto_ws {
                let dec = &mut c.dec;
                let win = &mut wire_in;
                drain(&mut c.s, &mut buf, |chunk| {
                    if measuring {
                        *win += chunk.len() as u64;
                    }
                    dec.feed(chunk, |f| {
                        if f.fin
                            && f.opcode == 1
                            && (!need_mark || f.last == MARK)
                            && f.len >= counted
                        {
                            got += 1;
                        }
                    })
                })
            } else {
                let carry = &mut c.carry;
                drain(&mut c.s, &mut buf, |chunk| {
                    let t = *carry + chunk.len();
                    got += (t / size) as u64;
                    *carry = t % size;
                })
            };
            if !ok {
                return Err(format!("receiver #{i} closed by server"));
            }
            if got == 0 {
                continue;
            }
            let t = Instant::now();
            for _ in 0..got {
                let k = c.recv;
                c.recv += 1;
                let slot = (k % w as u64) as usize;
                slot_count[slot] += 1;
                if slot_count[slot] == n {
                    slot_count[slot] = 0;
                    completed += 1;
                    if measuring {
                        msgs_done += 1;
                        hist.record(t - slot_sent[slot]);
                    }
                }
            }
            if measuring {
                deliveries += got;
            }
        }
    }
    let (swait, cwait) = cpu.waits(o.server_pid);
    let (wall, scpu, ccpu) = cpu.since(o.server_pid);
    let mut m = base_report(o);
    m.insert("server_runq_wait".into(), json!(swait));
    m.insert("client_runq_wait".into(), json!(cwait));
    m.insert("deliveries".into(), json!(deliveries));
    m.insert("deliveries_per_s".into(), json!(deliveries as f64 / wall));
    m.insert("msgs_per_s".into(), json!(msgs_done as f64 / wall));
    // Per delivered message: bytes in are per receiver, bytes out per message sent.
    per_msg(&mut m, deliveries, 0, wire_in, scpu);
    m.insert(
        "wire_out_per_msg".into(),
        json!(wire_out as f64 / msgs_done.max(1) as f64),
    );
    m.insert("p50_us".into(), json!(hist.quantile(0.5) as f64 / 1e3));
    m.insert("p99_us".into(), json!(hist.quantile(0.99) as f64 / 1e3));
    m.insert("p999_us".into(), json!(hist.quantile(0.999) as f64 / 1e3));
    m.insert("wall_s".into(), json!(wall));
    m.insert("server_cpu".into(), json!(scpu.map(|c| c / wall)));
    m.insert("client_cpu".into(), json!(ccpu / wall));
    Ok(Report {
        v: serde_json::Value::Object(m),
    })
}

/// Wire bytes per message each way and server CPU microseconds per message.
fn per_msg(
    m: &mut serde_json::Map<String, serde_json::Value>,
    msgs: u64,
    wire_out: u64,
    wire_in: u64,
    scpu: Option<f64>,
) {
    let n = msgs.max(1) as f64;
    m.insert("wire_out_per_msg".into(), json!(wire_out as f64 / n));
    m.insert("wire_in_per_msg".into(), json!(wire_in as f64 / n));
    m.insert(
        "server_cpu_us_per_msg".into(),
        json!(scpu.map(|c| c * 1e6 / n)),
    );
}

/// Idle mode's `--touch`: every connection sends one message (compressed with `--deflate`) to
/// an echo server and waits for it back, so state a server creates lazily on the first
/// message (a zlib stream) is in the memory figure.
fn touch_all(o: &Opts, poll: &mut Poll, conns: &mut [Conn]) -> Result<(), String> {
    let frame = ws_frame(o, 1, &payload(o));
    for (i, c) in conns.iter_mut().enumerate() {
        if !c.send(&frame) {
            return Err(format!("touch #{i}: send failed"));
        }
    }
    let mut left = conns.len();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs_f64(o.setup_timeout);
    while left > 0 {
        if Instant::now() > deadline {
            return Err(format!("touch: {left} echoes missing"));
        }
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            let Some(c) = conns.get_mut(ev.token().0) else {
                continue;
            };
            if ev.is_writable() && !c.flush() {
                return Err("touch: write failed".into());
            }
            let (dec, recv) = (&mut c.dec, &mut c.recv);
            let was = *recv;
            if !drain(&mut c.s, &mut buf, |chunk| {
                dec.feed(chunk, |f| {
                    if f.fin && f.opcode == 1 {
                        *recv += 1;
                    }
                })
            }) {
                return Err("touch: closed by server".into());
            }
            if was == 0 && *recv > 0 {
                left -= 1;
            }
        }
    }
    Ok(())
}

fn idle(o: &Opts) -> Result<Report, String> {
    let pid = o.server_pid.ok_or("idle mode needs --server-pid")?;
    let before = rss_bytes(pid).ok_or("cannot read server VmRSS")?;
    let anon_before = anon_bytes(pid).ok_or("cannot read server RssAnon")?;
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let cpu = Cpu::now(o.server_pid);
    let mut conns = open_all(o, &mut poll, o.conns, 0, o.window)?;
    if o.touch {
        touch_all(o, &mut poll, &mut conns)?;
    }
    let setup = t0.elapsed().as_secs_f64();
    let (_, scpu, _) = cpu.since(o.server_pid);
    // Let the server finish whatever it does after the handshake, then measure.
    std::thread::sleep(Duration::from_secs_f64(o.warmup.max(0.5)));
    let after = rss_bytes(pid).ok_or("cannot read server VmRSS")?;
    let anon_after = anon_bytes(pid).ok_or("cannot read server RssAnon")?;
    let mut m = base_report(o);
    m.insert(
        "anon_per_conn_bytes".into(),
        json!((anon_after as f64 - anon_before as f64) / o.conns as f64),
    );
    m.insert("rss_before_bytes".into(), json!(before));
    m.insert("rss_after_bytes".into(), json!(after));
    m.insert(
        "rss_per_conn_bytes".into(),
        json!((after as f64 - before as f64) / o.conns as f64),
    );
    m.insert("setup_s".into(), json!(setup));
    m.insert("server_cpu_s".into(), json!(scpu));
    m.insert("src_ips".into(), json!(o.src_ips));
    m.insert("touched".into(), json!(o.touch));
    drop(conns);
    Ok(Report {
        v: serde_json::Value::Object(m),
    })
}

fn handshake(o: &Opts) -> Result<Report, String> {
    // `handshake`: connect, upgrade, close handshake, TCP close. `upgrade`: connect, upgrade,
    // TCP close (one round trip, like the raw cycle: connect, one byte echoed, TCP close).
    let close_handshake = o.mode == "handshake";
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let req = upgrade_request(&o.addr.to_string(), "/");
    let close = close_frame();
    let c_max = o.conns;
    let mut slots: Vec<Option<Conn>> = (0..c_max).map(|_| None).collect();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 16 * 1024];
    let mut opened: usize = 0;
    let mut done_total: u64 = 0;
    let mut errors: u64 = 0;
    let mut hist = Histogram::new();
    let mut started_at: Vec<Instant> = vec![Instant::now(); c_max];
    let start = Instant::now();
    let warm_end = start + Duration::from_secs_f64(o.warmup);
    let end = warm_end + Duration::from_secs_f64(o.duration);
    let mut measuring = false;
    let mut cpu = Cpu::now(o.server_pid);
    let mut finished: Vec<usize> = Vec::new();
    let mut first_err: Option<String> = None;
    let n_ips = o.src_ips.max(1);
    let refill = |slots: &mut Vec<Option<Conn>>,
                  started_at: &mut Vec<Instant>,
                  poll: &mut Poll,
                  i: usize,
                  opened: &mut usize|
     -> Result<(), String> {
        let ip = Ipv4Addr::new(127, 0, 0, 2 + (*opened % n_ips) as u8);
        *opened += 1;
        let src = if o.src_ips == 0 { None } else { Some(ip) };
        let mut s = connect(o.addr, src).map_err(|e| format!("connect: {e}"))?;
        poll.registry()
            .register(&mut s, Token(i), Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| e.to_string())?;
        slots[i] = Some(Conn::new(s));
        started_at[i] = Instant::now();
        Ok(())
    };
    for i in 0..c_max {
        refill(&mut slots, &mut started_at, &mut poll, i, &mut opened)?;
    }
    loop {
        let now = Instant::now();
        if !measuring && now >= warm_end {
            measuring = true;
            done_total = 0;
            errors = 0;
            hist.clear();
            cpu = Cpu::now(o.server_pid);
        }
        if now >= end {
            break;
        }
        poll.poll(&mut events, Some(Duration::from_millis(5)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            let i = ev.token().0;
            let Some(c) = slots[i].as_mut() else { continue };
            let mut fail = |why: String| {
                if first_err.is_none() {
                    first_err = Some(why);
                }
            };
            if c.st == St::Connecting {
                if let Ok(Some(e)) = c.s.take_error() {
                    fail(format!("connect: {e}"));
                    c.st = St::Done;
                    errors += 1;
                    finished.push(i);
                    continue;
                }
                if c.s.peer_addr().is_err() {
                    continue;
                }
                if o.proto_ws {
                    c.st = St::Handshaking;
                    if !c.send(&req) {
                        c.st = St::Done;
                    }
                } else {
                    c.st = St::Closing;
                    if !c.send(b"x") {
                        c.st = St::Done;
                    }
                }
                if c.st == St::Done {
                    errors += 1;
                    finished.push(i);
                    continue;
                }
            }
            if ev.is_writable() && !c.flush() {
                c.st = St::Done;
                errors += 1;
                finished.push(i);
                continue;
            }
            if ev.is_readable() {
                let mut data = Vec::new();
                let mut herr = None;
                let st_before = c.st;
                let ok = read_all(&mut c.s, &mut buf, &mut data);
                if c.st == St::Handshaking && !data.is_empty() {
                    match handshake_bytes(c, &data) {
                        Ok(Some(rest)) => data = rest,
                        Ok(None) => data.clear(),
                        Err(e) => herr = Some(e),
                    }
                }
                if let Some(e) = herr {
                    fail(e);
                    c.st = St::Done;
                    errors += 1;
                    finished.push(i);
                    continue;
                }
                if st_before == St::Handshaking && c.st == St::Open && !close_handshake {
                    // `upgrade`: done at the 101, then the TCP close, as the raw cycle ends
                    // at its echo.
                    done_total += 1;
                    if measuring {
                        hist.record(Instant::now() - started_at[i]);
                    }
                    c.st = St::Done;
                    finished.push(i);
                    continue;
                }
                if st_before == St::Handshaking && c.st == St::Open {
                    c.st = St::Closing;
                    if !c.send(&close) {
                        c.st = St::Done;
                        errors += 1;
                        finished.push(i);
                        continue;
                    }
                }
                let mut closed = !ok;
                if c.st == St::Closing {
                    if o.proto_ws {
                        c.dec.feed(&data, |f| {
                            if f.opcode == 8 {
                                closed = true;
                            }
                        });
                    } else if !data.is_empty() {
                        closed = true;
                    }
                }
                if closed {
                    if c.st == St::Closing && (ok || o.proto_ws) {
                        done_total += 1;
                        if measuring {
                            hist.record(Instant::now() - started_at[i]);
                        }
                    } else {
                        fail("closed before the handshake finished".into());
                        errors += 1;
                    }
                    c.st = St::Done;
                    finished.push(i);
                }
            }
        }
        for i in finished.drain(..) {
            // Dropping a Conn closes it with RST (see its Drop): no TIME_WAIT on either side.
            drop(slots[i].take());
            refill(&mut slots, &mut started_at, &mut poll, i, &mut opened)?;
        }
    }
    let (swait, cwait) = cpu.waits(o.server_pid);
    let (wall, scpu, ccpu) = cpu.since(o.server_pid);
    let mut m = base_report(o);
    m.insert("server_runq_wait".into(), json!(swait));
    m.insert("client_runq_wait".into(), json!(cwait));
    m.insert("handshakes".into(), json!(done_total));
    m.insert("handshakes_per_s".into(), json!(done_total as f64 / wall));
    m.insert(
        "handshakes_per_server_cpu_s".into(),
        json!(scpu.map(|c| done_total as f64 / c.max(1e-9))),
    );
    m.insert("errors".into(), json!(errors));
    m.insert("first_error".into(), json!(first_err));
    m.insert("p50_us".into(), json!(hist.quantile(0.5) as f64 / 1e3));
    m.insert("p99_us".into(), json!(hist.quantile(0.99) as f64 / 1e3));
    m.insert("wall_s".into(), json!(wall));
    m.insert("server_cpu".into(), json!(scpu.map(|c| c / wall)));
    m.insert("client_cpu".into(), json!(ccpu / wall));
    Ok(Report {
        v: serde_json::Value::Object(m),
    })
}

fn human(v: &serde_json::Value) -> String {
    let f = |k: &str| v.get(k).and_then(|x| x.as_f64());
    let mut s = format!(
        "{:<22} {:>4} {:<9} conns={:<6} inflight={:<3} size={:<6}",
        v["label"].as_str().unwrap_or(""),
        v["proto"].as_str().unwrap_or(""),
        v["mode"].as_str().unwrap_or(""),
        v["conns"],
        v["inflight"],
        v["size"]
    );
    if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
        s += &format!(" ERROR {e}");
        return s;
    }
    for (k, name, scale) in [
        ("msgs_per_s", "msg/s", 1.0),
        ("deliveries_per_s", "deliv/s", 1.0),
        ("handshakes_per_s", "hs/s", 1.0),
        ("handshakes_per_server_cpu_s", "hs/srv-cpu-s", 1.0),
        ("p50_us", "p50us", 1.0),
        ("p99_us", "p99us", 1.0),
        ("p999_us", "p99.9us", 1.0),
        ("rss_per_conn_bytes", "B/conn", 1.0),
        ("server_cpu", "srv-cpu", 100.0),
        ("client_cpu", "cli-cpu", 100.0),
        ("server_runq_wait", "srv-wait%", 100.0),
        ("client_runq_wait", "cli-wait%", 100.0),
    ] {
        if let Some(x) = f(k) {
            s += &format!(" {name}={:.0}", x * scale);
        }
    }
    s
}

fn main() {
    let o = parse_opts();
    let r = match o.mode.as_str() {
        "echo" => echo(&o),
        "broadcast" => broadcast(&o),
        "idle" => idle(&o),
        "handshake" | "upgrade" => handshake(&o),
        _ => usage(),
    };
    let (v, code) = match r {
        Ok(r) => (r.v, 0),
        Err(e) => {
            let mut m = base_report(&o);
            m.insert("error".into(), json!(e));
            (serde_json::Value::Object(m), 1)
        }
    };
    eprintln!("{}", human(&v));
    println!("{v}");
    std::process::exit(code);
}
