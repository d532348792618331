//! The soak run behind `scripts/soak` (ignored by a plain `cargo test`): the release binary
//! under mixed load for `SOAK_SECONDS` (default 600) — echo clients, a chat room with a steady
//! sender, healthy readers, a slow reader, a client that never reads (closed by the stall
//! timeout and back again), clients joining and leaving, garbage — failing if any healthy client
//! misses a message, if resident memory drifts upward after the warm-up, or if file descriptors
//! leak.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use tungstenite::Message;

type Stop = Arc<AtomicBool>;

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| dir.count())
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "VmRSS:")
}

/// Sends numbered messages and checks each comes back, in order.
fn echo_client(addr: SocketAddr, stop: Stop, done: Arc<AtomicU64>, size: usize) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut client = connect(addr);
        let filler = "e".repeat(size);
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let text = format!("{n} {filler}");
            client.send(Message::text(text.clone())).unwrap();
            assert_eq!(recv_text(&mut client), text, "echo {n}");
            n += 1;
            done.fetch_add(1, Ordering::Relaxed);
            if n.is_multiple_of(64) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    })
}

/// Reads the chat sender's numbered lines until `total` says how many there were, checking that
/// none is missing or out of order; sleeps `pause` after each line.
fn chat_reader(
    mut client: Client,
    total: Arc<AtomicU64>,
    stop: Stop,
    pause: Duration,
) -> JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut expected = 0u64;
        let mut last = Instant::now();
        client
            .get_mut()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        loop {
            if stop.load(Ordering::Relaxed) && expected >= total.load(Ordering::Acquire) {
                return expected;
            }
            let text = match client.read() {
                Ok(Message::Text(text)) => text,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    assert!(
                        last.elapsed() < IO_TIMEOUT,
                        "no chat line for {IO_TIMEOUT:?}"
                    );
                    continue;
                }
                Err(e) => panic!("a chat reader lost its connection: {e}"),
            };
            last = Instant::now();
            let Some(rest) = text.strip_prefix("127.0.0.1 - seq ") else {
                continue; // joins, leaves and the churn clients' lines
            };
            let number: u64 = rest.split(' ').next().unwrap().parse().unwrap();
            assert_eq!(number, expected, "a chat line was missed");
            expected += 1;
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
        }
    })
}

fn spawn_loop(stop: Stop, mut body: impl FnMut() + Send + 'static) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            body();
        }
    })
}

#[test]
#[ignore = "a soak run of minutes: scripts/soak runs it"]
fn soak() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let run_for = Duration::from_secs(seconds);
    let warmup = run_for / 4;
    let mut chat = Binary::start(&["--example", "chat", "--stall-timeout", "2"]);
    let mut echo = Binary::start(&["--example", "echo"]);
    let servers = [("chat", chat.pid()), ("echo", echo.pid())];
    // The baseline once each server is in its loop (the signal thread's descriptors are made
    // after the banner is printed): after a first client has been served and has gone.
    for addr in [chat.addr, echo.addr] {
        let mut client = connect(addr);
        client.send(Message::text("warm")).unwrap();
        let _ = client.close(None);
        while client.read().is_ok() {}
    }
    std::thread::sleep(Duration::from_millis(500));
    let fds_before: Vec<usize> = servers.iter().map(|(_, pid)| fds(*pid)).collect();
    let stop: Stop = Arc::new(AtomicBool::new(false));

    let echoed = Arc::new(AtomicU64::new(0));
    let mut workers: Vec<JoinHandle<()>> = (0..4)
        .map(|i| echo_client(echo.addr, stop.clone(), echoed.clone(), 16 << (i * 3)))
        .collect();

    // The chat room: readers first, so they see every line from the first.
    let sent = Arc::new(AtomicU64::new(0));
    let mut readers: Vec<JoinHandle<u64>> = (0..3)
        .map(|_| {
            chat_reader(
                connect(chat.addr),
                sent.clone(),
                stop.clone(),
                Duration::ZERO,
            )
        })
        .collect();
    readers.push(chat_reader(
        connect(chat.addr),
        sent.clone(),
        stop.clone(),
        Duration::from_micros(300),
    ));
    {
        // The sender: small lines, and every 50th a 64 KB one, paced by the server.
        let (stop, sent) = (stop.clone(), sent.clone());
        let mut sender = connect(chat.addr);
        // The sender hears the room too (joins, leaves, the churn clients' lines): it reads
        // them between sends, or it would be the reader that stalls.
        sender
            .get_mut()
            .set_read_timeout(Some(Duration::from_micros(500)))
            .unwrap();
        let big = "b".repeat(64_000);
        workers.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let body = if n.is_multiple_of(50) {
                    big.as_str()
                } else {
                    "line"
                };
                sender
                    .send(Message::text(format!("seq {n} {body}")))
                    .unwrap();
                n += 1;
                sent.store(n, Ordering::Release);
                // Reads what came (the pause between sends is the read's timeout).
                while sender.read().is_ok() {}
            }
        }));
    }
    // A client that never reads: closed by the stall timeout, then another takes its place.
    workers.push(spawn_loop(stop.clone(), {
        let addr = chat.addr;
        move || {
            let stream = raw_upgrade(addr);
            std::thread::sleep(Duration::from_secs(4));
            drop(stream);
        }
    }));
    // Clients joining, saying something, leaving.
    workers.push(spawn_loop(stop.clone(), {
        let addr = chat.addr;
        move || {
            let mut client = connect(addr);
            client.send(Message::text("hello")).unwrap();
            let _ = client.close(None);
            std::thread::sleep(Duration::from_millis(50));
        }
    }));
    // Garbage: random bytes instead of a handshake, and bad frames after one.
    workers.push(spawn_loop(stop.clone(), {
        let (chat, echo) = (chat.addr, echo.addr);
        let mut rng = Rng::new(11);
        move || {
            let addr = if rng.below(2) == 0 { chat } else { echo };
            let mut stream = if rng.below(2) == 0 {
                tcp(addr)
            } else {
                raw_upgrade(addr)
            };
            let len = 1 + rng.below(3000) as usize;
            let _ = stream.write_all(&rng.bytes(len));
            drop(stream);
            std::thread::sleep(Duration::from_millis(20));
        }
    }));

    let start = Instant::now();
    let mut samples: Vec<(Duration, Vec<u64>)> = Vec::new();
    while start.elapsed() < run_for {
        std::thread::sleep(Duration::from_secs(1).min(run_for / 20));
        assert!(chat.is_running() && echo.is_running(), "a server died");
        samples.push((
            start.elapsed(),
            servers.iter().map(|(_, pid)| rss_kib(*pid)).collect(),
        ));
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a load client failed");
    }
    let lines = sent.load(Ordering::Acquire);
    for reader in readers {
        let got = reader.join().expect("a chat reader missed a line");
        assert_eq!(got, lines);
    }

    // Memory after the warm-up: the last third of the run against the first third after it.
    let steady: Vec<&(Duration, Vec<u64>)> = samples.iter().filter(|(t, _)| *t >= warmup).collect();
    let third = (steady.len() / 3).max(1);
    let mut report = format!(
        "soak {seconds} s: {} echoes, {lines} chat lines to each of 4 readers",
        echoed.load(Ordering::Relaxed)
    );
    for (i, (name, pid)) in servers.iter().enumerate() {
        let mean = |part: &[&(Duration, Vec<u64>)]| {
            part.iter().map(|(_, rss)| rss[i]).sum::<u64>() / part.len().max(1) as u64
        };
        let early = mean(&steady[..third]);
        let late = mean(&steady[steady.len() - third..]);
        let peak = steady.iter().map(|(_, rss)| rss[i]).max().unwrap_or(0);
        // Settle: every client is gone once the server has closed them; a connection the
        // server is closing may take the stall and close timeouts (5 s each) to go.
        let settled = wait_until(Duration::from_secs(20), || fds(*pid) <= fds_before[i]);
        report += &format!(
            "; {name}: RSS {early} KiB early, {late} KiB late, peak {peak} KiB, fds {} before, {} after",
            fds_before[i],
            fds(*pid)
        );
        assert!(
            late <= early + early / 5 + 2048,
            "{name}: RSS drifted from {early} KiB to {late} KiB"
        );
        assert!(settled, "{name}: file descriptors leaked: {report}");
    }
    eprintln!("{report}");
    assert!(chat.is_running() && echo.is_running());
}
