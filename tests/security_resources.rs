//! The server's own resources under attack, measured on the binary: memory stays bounded when a
//! client stops reading (backpressure), and running out of file descriptors makes the loop back
//! off instead of spinning, then serve again.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tungstenite::Message;

const MESSAGE: usize = 64 * 1024;
const MESSAGES: usize = 1600; // 100 MiB in all
/// Messages a healthy reader may be behind the sender: the test's own flow control, so a healthy
/// client is never the one whose backlog fills.
const WINDOW: usize = 8;

struct ChatRun {
    peak_rss_kib: u64,
    /// Whether the reader that never read saw a 1008 close frame before its connection ended.
    slow_got_1008: bool,
    /// Bytes the never-reading client could still read once it looked: what the kernel and the
    /// server held for it.
    slow_bytes: usize,
}

/// In chat, one client never reads while another sends 100 MiB in total; two healthy clients
/// read everything.
fn chat_with_a_client_that_never_reads(extra_args: &[&str]) -> ChatRun {
    // The hard limit is what this measures: under the default policy (pace) the sender would be
    // slowed instead and the never-reader closed after the stall timeout (tests/flow_control.rs).
    let mut args = vec!["--example", "chat", "--backpressure", "close"];
    args.extend_from_slice(extra_args);
    let server = Binary::start(&args);
    let addr = server.addr;
    let mut slow = raw_upgrade(addr);
    let received: Vec<Arc<AtomicUsize>> = (0..2).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let readers: Vec<_> = received
        .iter()
        .map(|count| {
            let count = count.clone();
            let mut client = connect(addr);
            std::thread::spawn(move || {
                let mut expected = 0;
                while expected < MESSAGES {
                    let text = recv_text(&mut client);
                    // Notices of clients joining (after this one) and leaving (the one that never
                    // reads, once dropped) are skipped.
                    let Some(body) = text.strip_prefix("127.0.0.1 - ") else {
                        continue;
                    };
                    if body == "connected" || body == "disconnected" {
                        continue;
                    }
                    assert_eq!(body.len(), MESSAGE, "message {expected}");
                    assert_eq!(&body[..6], format!("{expected:05} "), "in order");
                    expected += 1;
                    count.store(expected, Ordering::Release);
                }
                client
            })
        })
        .collect();
    let mut sender = connect(addr);
    let start = Instant::now();
    for i in 0..MESSAGES {
        while received
            .iter()
            .any(|count| count.load(Ordering::Acquire) + WINDOW < i)
        {
            assert!(start.elapsed() < Duration::from_secs(60), "stalled at {i}");
            std::thread::sleep(Duration::from_micros(200));
        }
        let mut text = format!("{i:05} ");
        text.extend(std::iter::repeat_n('x', MESSAGE - text.len()));
        sender.send(Message::text(text)).unwrap();
    }
    for reader in readers {
        let mut client = reader.join().expect("a healthy client missed messages");
        assert_echoes_chat(&mut client);
    }
    let peak_rss_kib = server.peak_rss_kib();

    // What the client that never read finds when it finally looks.
    let mut slow_got_1008 = false;
    let mut slow_bytes = 0;
    slow.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut stream = std::io::BufReader::with_capacity(1 << 20, &mut slow);
    loop {
        match read_frame_or_end(&mut stream) {
            None => break,
            Some((opcode, payload)) => {
                slow_bytes += payload.len();
                if opcode == 0x8 {
                    slow_got_1008 = payload.len() >= 2 && payload[..2] == 1008u16.to_be_bytes();
                }
            }
        }
    }
    let _ = sender.close(None);
    ChatRun {
        peak_rss_kib,
        slow_got_1008,
        slow_bytes,
    }
}

/// In chat the sender gets nothing back; a healthy client still talks to itself through a second
/// connection: just check that it can still send.
fn assert_echoes_chat<S: std::io::Read + std::io::Write>(client: &mut tungstenite::WebSocket<S>) {
    client.send(Message::text("still here")).unwrap();
}

/// Reads one frame, or `None` at the end of the connection (EOF, reset, or a cut frame).
fn read_frame_or_end(stream: &mut impl std::io::Read) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).ok()?;
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            stream.read_exact(&mut b).ok()?;
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            stream.read_exact(&mut b).ok()?;
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mut payload = vec![0; len as usize];
    stream.read_exact(&mut payload).ok()?;
    Some((head[0] & 0x0f, payload))
}

/// The bound this test states for the server's peak memory while 100 MiB pass through it and one
/// client reads nothing (the default backlog limit is 2 MiB + 64 KiB per client).
const RSS_BOUND_KIB: u64 = 24 * 1024;

#[test]
fn a_client_that_never_reads_is_closed_and_memory_stays_bounded() {
    let run = chat_with_a_client_that_never_reads(&[]);
    eprintln!(
        "bounded backlog: peak RSS {} KiB, slow client got 1008: {}, {} bytes left for it",
        run.peak_rss_kib, run.slow_got_1008, run.slow_bytes
    );
    assert!(
        run.peak_rss_kib < RSS_BOUND_KIB,
        "peak RSS {} KiB over the bound {RSS_BOUND_KIB} KiB",
        run.peak_rss_kib
    );
    // It was dropped long before 100 MiB: what it can read is what kernel buffers and its
    // bounded backlog held.
    assert!(
        run.slow_bytes < 40 << 20,
        "{} bytes were kept for the client that never read",
        run.slow_bytes
    );

    // The control: with a backlog limit of 1 GiB the same run holds the whole 100 MiB for the
    // client that never reads, so the bound above is what the limit buys.
    let control = chat_with_a_client_that_never_reads(&["--max-backlog", "1073741824"]);
    eprintln!(
        "unbounded backlog: peak RSS {} KiB, {} bytes left for the slow client",
        control.peak_rss_kib, control.slow_bytes
    );
    assert!(
        control.peak_rss_kib > 2 * RSS_BOUND_KIB,
        "control peak RSS {} KiB",
        control.peak_rss_kib
    );
}

/// Connections that got their 101 within `wait`.
fn upgraded_within(streams: &mut [std::net::TcpStream], wait: Duration) -> usize {
    let mut upgraded = 0;
    for stream in streams.iter_mut() {
        stream.set_read_timeout(Some(wait)).unwrap();
        let mut byte = [0u8; 12];
        if std::io::Read::read_exact(stream, &mut byte).is_ok() && byte.starts_with(b"HTTP/1.1 101")
        {
            upgraded += 1;
        }
    }
    upgraded
}

fn open_clients(addr: SocketAddr, count: usize) -> Vec<std::net::TcpStream> {
    (0..count)
        .map(|_| {
            let mut stream = tcp(addr);
            stream.write_all(upgrade_request("/").as_bytes()).unwrap();
            stream
        })
        .collect()
}

#[test]
fn out_of_file_descriptors_the_loop_backs_off_and_recovers() {
    let mut server = Binary::start_with_nofile(64, &["--example", "echo"]);
    let addr = server.addr;
    let mut bystander = connect(addr);
    // Far more connections than descriptors: the rest wait in the listen queue.
    let mut held = open_clients(addr, 120);
    let upgraded = upgraded_within(&mut held, Duration::from_millis(100));
    assert!(
        (10..100).contains(&upgraded),
        "{upgraded} of 120 upgraded under a limit of 64 descriptors"
    );
    // While out of descriptors, the loop must not spin.
    let cpu_before = server.cpu_time();
    let wall = Instant::now();
    for i in 0..20 {
        assert_echoes(&mut bystander, &format!("while out of descriptors {i}"));
        std::thread::sleep(Duration::from_millis(100));
    }
    let cpu = server.cpu_time() - cpu_before;
    assert!(
        cpu < wall.elapsed() / 4,
        "the server used {cpu:?} of CPU in {:?} while out of descriptors",
        wall.elapsed()
    );
    assert!(server.is_running());
    // Descriptors free up: the server accepts again, new clients are served.
    drop(held);
    assert!(
        wait_until(Duration::from_secs(5), || {
            let mut stream = tcp(addr);
            stream.write_all(upgrade_request("/").as_bytes()).is_ok()
                && upgraded_within(std::slice::from_mut(&mut stream), Duration::from_secs(1)) == 1
        }),
        "the server did not serve again"
    );
    let mut fresh = connect(addr);
    assert_echoes(&mut fresh, "served again");
    assert_echoes(&mut bystander, "and the first client too");
}
