//! Raw mio TCP server with the same loop shape as simple-ws-server and no WebSocket framing:
//! the ceiling the WebSocket servers are measured against.
//!
//! `--mode echo` writes every read chunk back; `--mode chat` writes every read chunk to every
//! other connection. Edge-triggered, one shared read buffer, TCP_NODELAY, writes go straight to
//! the socket and only what would block is buffered.
//!
//! Prints `listening on tcp://IP:PORT/` (flushed) once bound.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

const LISTENER: Token = Token(usize::MAX);

struct Conn {
    s: TcpStream,
    out: Vec<u8>,
}

/// Writes `data` to `c`, buffering what would block. Returns false on a hard error.
fn send(c: &mut Conn, data: &[u8]) -> bool {
    if !c.out.is_empty() {
        c.out.extend_from_slice(data);
        return true;
    }
    let mut off = 0;
    while off < data.len() {
        match c.s.write(&data[off..]) {
            Ok(0) => return false,
            Ok(n) => off += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                c.out.extend_from_slice(&data[off..]);
                return true;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
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

fn main() -> std::io::Result<()> {
    let mut host = "127.0.0.1".to_string();
    let mut port = "0".to_string();
    let mut chat = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for w in args.chunks(2) {
        match (w[0].as_str(), w.get(1)) {
            ("--host", Some(v)) => host = v.clone(),
            ("--port", Some(v)) => port = v.clone(),
            ("--mode", Some(v)) => chat = v == "chat",
            _ => {
                eprintln!("usage: raw_echo [--host IP] [--port P] [--mode echo|chat]");
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
    let mut buf = vec![0u8; 64 * 1024];
    let mut dead: Vec<usize> = Vec::new();
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for ev in events.iter() {
            if ev.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut s, _)) => {
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
                            conns[i] = Some(Conn { s, out: Vec::new() });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(_) => {
                            // EMFILE and the like: stop accepting for this round.
                            break;
                        }
                    }
                }
                continue;
            }
            let i = ev.token().0;
            let Some(c) = conns.get_mut(i).and_then(|c| c.as_mut()) else {
                continue;
            };
            if ev.is_writable() && !flush(c) {
                dead.push(i);
                continue;
            }
            if !ev.is_readable() {
                continue;
            }
            loop {
                let c = conns[i].as_mut().unwrap();
                match c.s.read(&mut buf) {
                    Ok(0) => {
                        dead.push(i);
                        break;
                    }
                    Ok(n) => {
                        if chat {
                            for (j, other) in conns.iter_mut().enumerate() {
                                if j == i {
                                    continue;
                                }
                                if let Some(o) = other {
                                    if !send(o, &buf[..n]) {
                                        dead.push(j);
                                    }
                                }
                            }
                        } else if !send(c, &buf[..n]) {
                            dead.push(i);
                            break;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => {
                        dead.push(i);
                        break;
                    }
                }
            }
        }
        for i in dead.drain(..) {
            if let Some(mut c) = conns[i].take() {
                let _ = poll.registry().deregister(&mut c.s);
                free.push(i);
            }
        }
    }
}
