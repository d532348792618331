//! Measures chat delivery between two chat servers (or within one): a sender on `--send` says a
//! timestamped line `--rate` times a second, `--receivers` clients on `--recv` hear it; prints
//! deliveries per second and the latency from send to receipt (p50, p99, p99.9, max) as one
//! JSON line. Point `--send` and `--recv` at one instance for local delivery, at two instances
//! sharing a Redis (`--example chat --redis URL`) for delivery across instances.
//!
//! `--path /room` connects every client to that path: with `--example rooms`, a room (the
//! default `/` is a room too, holding every client that connects to `/`).
//!
//! `cargo run --release --example scale_probe -- --send 127.0.0.1:8000 --recv 127.0.0.1:8001`
//! (used by scripts/bench-scale).

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tungstenite::{self, Message};

struct Opts {
    send: SocketAddr,
    recv: SocketAddr,
    receivers: usize,
    rate: f64,
    duration: f64,
    size: usize,
    path: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: scale_probe --send IP:PORT --recv IP:PORT [--receivers N] [--rate PER_S] \
         [--duration S] [--size BYTES] [--path /ROOM]"
    );
    std::process::exit(2)
}

fn opts() -> Opts {
    let mut o = Opts {
        send: "127.0.0.1:8000".parse().unwrap(),
        recv: "127.0.0.1:8000".parse().unwrap(),
        receivers: 10,
        rate: 1000.0,
        duration: 3.0,
        size: 32,
        path: "/".into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [key, value] = pair else { usage() };
        let bad = |_| usage();
        match key.as_str() {
            "--send" => o.send = value.parse().unwrap_or_else(bad),
            "--recv" => o.recv = value.parse().unwrap_or_else(bad),
            "--receivers" => o.receivers = value.parse().unwrap_or_else(|_| usage()),
            "--rate" => o.rate = value.parse().unwrap_or_else(|_| usage()),
            "--duration" => o.duration = value.parse().unwrap_or_else(|_| usage()),
            "--size" => o.size = value.parse().unwrap_or_else(|_| usage()),
            "--path" if value.starts_with('/') => o.path = value.clone(),
            _ => usage(),
        }
    }
    if o.receivers == 0 || o.rate <= 0.0 || o.duration <= 0.0 {
        usage()
    }
    o
}

type Client = tungstenite::WebSocket<TcpStream>;

fn connect(addr: SocketAddr, path: &str) -> Client {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_nodelay(true).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let (client, _) = tungstenite::client(format!("ws://{addr}{path}"), tcp).expect("handshake");
    client
}

fn main() {
    let o = opts();
    let start = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let sending = Arc::new(AtomicBool::new(true));
    let receivers: Vec<_> = (0..o.receivers)
        .map(|_| {
            let mut client = connect(o.recv, &o.path);
            let (sent, sending) = (sent.clone(), sending.clone());
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut quiet_since = None;
                loop {
                    match client.read() {
                        Ok(Message::Text(text)) => {
                            // "127.0.0.1 - p <seq> <nanos> <padding>"; other chat lines are skipped.
                            let Some((_, probe)) = text.as_str().split_once(" - p ") else {
                                continue;
                            };
                            let nanos: u64 = probe.split(' ').nth(1).unwrap().parse().unwrap();
                            let now = start.elapsed().as_nanos() as u64;
                            latencies.push(now.saturating_sub(nanos));
                            quiet_since = None;
                        }
                        Ok(_) => {}
                        Err(tungstenite::Error::Io(e))
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) => {}
                        Err(e) => panic!("receiver: {e}"),
                    }
                    if !sending.load(Ordering::Acquire) {
                        let all = latencies.len() as u64 >= sent.load(Ordering::Acquire);
                        let since = *quiet_since.get_or_insert_with(Instant::now);
                        if all || since.elapsed() > Duration::from_secs(2) {
                            return latencies;
                        }
                    }
                }
            })
        })
        .collect();
    let mut sender = connect(o.send, &o.path);
    // Let the arrival notices settle before measuring.
    std::thread::sleep(Duration::from_millis(500));
    let began = start.elapsed();
    let interval = Duration::from_secs_f64(1.0 / o.rate);
    let total = (o.rate * o.duration).round() as u64;
    for seq in 0..total {
        let due = began + interval.mul_f64(seq as f64);
        let now = start.elapsed();
        if due > now {
            std::thread::sleep(due - now);
        }
        let mut line = format!("p {seq} {} ", start.elapsed().as_nanos());
        while line.len() < o.size {
            line.push('x');
        }
        sender.send(Message::text(line)).expect("send");
        sent.store(seq + 1, Ordering::Release);
    }
    let send_wall = (start.elapsed() - began).as_secs_f64();
    sending.store(false, Ordering::Release);
    let mut all: Vec<u64> = Vec::new();
    for receiver in receivers {
        all.extend(receiver.join().expect("a receiver panicked"));
    }
    let wall = (start.elapsed() - began).as_secs_f64();
    all.sort_unstable();
    let q = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i] as f64 / 1e3
    };
    let expected = total * o.receivers as u64;
    println!(
        "{{\"send\":\"{}\",\"recv\":\"{}\",\"path\":\"{}\",\"receivers\":{},\"rate\":{},\"sent\":{},\"deliveries\":{},\"expected\":{},\"deliveries_per_s\":{:.0},\"send_wall_s\":{:.3},\"p50_us\":{:.1},\"p99_us\":{:.1},\"p999_us\":{:.1},\"max_us\":{:.1}}}",
        o.send,
        o.recv,
        o.path,
        o.receivers,
        o.rate,
        total,
        all.len(),
        expected,
        all.len() as f64 / send_wall,
        send_wall,
        q(0.5),
        q(0.99),
        q(0.999),
        q(1.0),
    );
    eprintln!(
        "{} -> {}: {} of {} deliveries in {:.2}s; latency p50 {:.0} us, p99 {:.0} us, max {:.0} us",
        o.send,
        o.recv,
        all.len(),
        expected,
        wall,
        q(0.5),
        q(0.99),
        q(1.0)
    );
}
