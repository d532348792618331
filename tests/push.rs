//! Pushing data over real sockets: the [`Handle`] from other threads (latency, a bounded queue,
//! graceful stop), timers (order, cancelling, 10,000 pending at no cost), and fragmented sends.
//!
//! The servers run in threads of the test process on 127.0.0.1 port 0 (tests/common), the
//! clients are tungstenite clients or raw TCP sockets with read timeouts, and every wait is
//! bounded.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use simple_ws_server::{
    Bytes, ClientContext, ClientId, CloseReason, Config, Context, Error, Fragment, Handle, Handler,
    Message, Server, TimerId,
};
use tungstenite::Message as WsMessage;

type Shared<T> = Arc<Mutex<T>>;

/// Remembers the ids of the clients that opened, and why each one closed.
#[derive(Default, Clone)]
struct Registry {
    opened: Shared<Vec<ClientId>>,
    closed: Shared<Vec<CloseReason>>,
}

impl Registry {
    /// Waits (bounded) until `n` clients have opened; returns their ids in order.
    fn wait_for(&self, n: usize) -> Vec<ClientId> {
        assert!(
            wait_until(IO_TIMEOUT, || self.opened.lock().unwrap().len() >= n),
            "{n} clients did not open"
        );
        self.opened.lock().unwrap().clone()
    }
}

impl Handler for Registry {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        self.opened.lock().unwrap().push(ctx.id());
    }

    fn on_message(&mut self, _ctx: &mut ClientContext<'_>, _: &mut (), _message: Message) {}

    fn on_close(&mut self, _ctx: &mut ClientContext<'_>, _: (), reason: CloseReason) {
        self.closed.lock().unwrap().push(reason);
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

// ---------------------------------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------------------------------

#[test]
fn a_message_sent_through_the_handle_reaches_its_client_at_once() {
    let registry = Registry::default();
    let server = TestServer::start(registry.clone(), Config::default());
    let mut client = connect(server.addr);
    let id = registry.wait_for(1)[0];

    const SENDS: usize = 200;
    let mut latencies = Vec::with_capacity(SENDS);
    for i in 0..SENDS {
        // Let the loop go back to sleep in poll, so every send has to wake it.
        std::thread::sleep(Duration::from_millis(2));
        let text = format!("push {i}");
        let start = Instant::now();
        server.handle.send(id, text.as_str()).expect("queue a send");
        let got = recv_text(&mut client);
        latencies.push(start.elapsed());
        assert_eq!(got, text);
    }
    latencies.sort();
    let (p50, p99, max) = (
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies[SENDS - 1],
    );
    eprintln!("handle.send -> client read, {SENDS} sends: p50 {p50:?}, p99 {p99:?}, max {max:?}");
    // The issue asks for 1 ms at p99 on an idle server; the bound is generous so that a loaded
    // CI machine does not fail it, while the old 100 ms tick of the original would.
    assert!(p99 < Duration::from_millis(20), "p99 {p99:?} (p50 {p50:?})");
}

/// Sends from several threads coalesce their wake-ups (one per loop turn, not one per command):
/// none may be left in the queue without a wake-up on its way, in particular the last one.
#[test]
fn sends_queued_while_a_wake_up_is_pending_all_arrive_in_order() {
    let registry = Registry::default();
    let server = TestServer::start(registry.clone(), Config::default());
    let mut client = connect(server.addr);
    let id = registry.wait_for(1)[0];

    const THREADS: usize = 4;
    const EACH: usize = 2_500;
    let senders: Vec<_> = (0..THREADS)
        .map(|t| {
            let handle = server.handle.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let text = format!("{t} {i}");
                    // A full queue is refused, never blocks: wait for the loop to drain it.
                    while let Err(Error::QueueFull) = handle.send(id, text.as_str()) {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    let mut next = [0usize; THREADS];
    for _ in 0..THREADS * EACH {
        let text = recv_text(&mut client);
        let (t, i) = text.split_once(' ').expect("a numbered message");
        let (t, i): (usize, usize) = (t.parse().unwrap(), i.parse().unwrap());
        assert_eq!(i, next[t], "thread {t}'s messages out of order");
        next[t] += 1;
    }
    for sender in senders {
        sender.join().unwrap();
    }
    assert_eq!(next, [EACH; THREADS]);
}

#[test]
fn the_handle_sends_broadcasts_and_closes() {
    let registry = Registry::default();
    let server = TestServer::start(registry.clone(), Config::default());
    let mut a = connect(server.addr);
    let mut b = connect(server.addr);
    let ids = registry.wait_for(2);
    let (id_a, id_b) = (ids[0], ids[1]);

    server.handle.broadcast("to all").unwrap();
    assert_eq!(recv_text(&mut a), "to all");
    assert_eq!(recv_text(&mut b), "to all");

    server.handle.broadcast_except(id_a, "not to a").unwrap();
    assert_eq!(recv_text(&mut b), "not to a");
    server.handle.send(id_a, vec![1u8, 2, 3]).unwrap();
    assert_eq!(recv(&mut a), WsMessage::binary(vec![1u8, 2, 3]));

    server
        .handle
        .close(id_b, 4000, "closed by a thread")
        .unwrap();
    match b.read() {
        Ok(WsMessage::Close(Some(frame))) => {
            assert_eq!(u16::from(frame.code), 4000);
            assert_eq!(frame.reason.as_str(), "closed by a thread");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    assert!(wait_until(IO_TIMEOUT, || !registry
        .closed
        .lock()
        .unwrap()
        .is_empty()));
    assert_eq!(
        registry.closed.lock().unwrap()[0],
        CloseReason::ByServer { code: 4000 }
    );

    // A send to a client that has gone is skipped; the others go on as before.
    server.handle.send(id_b, "to nobody").unwrap();
    server.handle.send(id_a, "still here").unwrap();
    assert_eq!(recv_text(&mut a), "still here");
}

#[test]
fn a_full_command_queue_refuses_instead_of_blocking_and_stop_still_works() {
    let server = Server::bind("127.0.0.1:0", Config::default().command_queue(3)).unwrap();
    let handle = server.handle();
    // The loop is not running yet, so nothing drains the queue: fill it.
    for i in 0..3 {
        handle
            .broadcast(format!("queued {i}"))
            .expect("room in the queue");
    }
    let start = Instant::now();
    assert!(matches!(
        handle.broadcast("one too many"),
        Err(Error::QueueFull)
    ));
    assert!(
        start.elapsed() < Duration::from_millis(100),
        "a full queue answers at once"
    );
    // Stopping does not go through the queue, so a full queue cannot prevent it.
    handle.stop().expect("stop with a full queue");
    let running = TestServer::run(server, Registry::default());
    running.join().expect("run returns Ok after a stop");
    // The loop is gone: the handle says so.
    assert!(matches!(handle.broadcast("late"), Err(Error::Stopped)));
}

#[test]
fn the_loop_drains_a_full_queue_once_it_runs() {
    let server = Server::bind("127.0.0.1:0", Config::default().command_queue(1)).unwrap();
    let handle = server.handle();
    handle.broadcast("fills the queue").unwrap();
    assert!(matches!(handle.broadcast("refused"), Err(Error::QueueFull)));
    let _running = TestServer::run(server, Registry::default());
    assert!(
        wait_until(IO_TIMEOUT, || handle.broadcast("accepted again").is_ok()),
        "the running loop empties the queue"
    );
}

#[test]
fn stopping_through_the_handle_is_a_graceful_shutdown() {
    let registry = Registry::default();
    let server = TestServer::start(registry.clone(), Config::default());
    let mut clients = [connect(server.addr), connect(server.addr)];
    registry.wait_for(2);
    let handle = server.handle.clone();
    std::thread::spawn(move || handle.stop().expect("stop from another thread"))
        .join()
        .unwrap();
    for client in &mut clients {
        match client.read() {
            Ok(WsMessage::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1001),
            other => panic!("expected close 1001, got {other:?}"),
        }
        // tungstenite has answered the close; reading on ends the connection.
        assert!(matches!(
            client.read(),
            Err(tungstenite::Error::ConnectionClosed)
        ));
    }
    let start = Instant::now();
    server.join().expect("run returns Ok");
    eprintln!(
        "run returned {:?} after the clients' close",
        start.elapsed()
    );
    assert_eq!(
        *registry.closed.lock().unwrap(),
        [CloseReason::Shutdown, CloseReason::Shutdown]
    );
}

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

/// On open, sets a timer for each delay in `delays_ms` (named by its index); on each firing,
/// sends the index to the client and checks the timer was not early. Cancels the indices in
/// `cancel_at_open` at once and, when index `trigger` fires, cancels `cancel_on_fire`.
struct Timers {
    delays_ms: Vec<u64>,
    cancel_at_open: Vec<usize>,
    trigger: Option<(usize, usize)>,
    set: Vec<(TimerId, Instant)>,
    client: Option<ClientId>,
}

impl Timers {
    fn new(delays_ms: &[u64]) -> Timers {
        Timers {
            delays_ms: delays_ms.to_vec(),
            cancel_at_open: Vec::new(),
            trigger: None,
            set: Vec::new(),
            client: None,
        }
    }
}

impl Handler for Timers {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        self.client = Some(ctx.id());
        for &ms in &self.delays_ms {
            let due = Instant::now() + Duration::from_millis(ms);
            let id = ctx.set_timer(Duration::from_millis(ms));
            self.set.push((id, due));
        }
        for &i in &self.cancel_at_open {
            ctx.cancel_timer(self.set[i].0);
        }
    }

    fn on_message(&mut self, _ctx: &mut ClientContext<'_>, _: &mut (), _message: Message) {}

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        let fired = Instant::now();
        let index = self.set.iter().position(|(id, _)| *id == timer).unwrap();
        let early = fired < self.set[index].1;
        if let Some((trigger, cancel)) = self.trigger {
            if trigger == index {
                ctx.cancel_timer(self.set[cancel].0);
                // Cancelling a timer that has already fired does nothing.
                ctx.cancel_timer(timer);
            }
        }
        let client = self.client.unwrap();
        ctx.send_to(
            client,
            format!("{index}{}", if early { " early" } else { "" }),
        );
    }
}

#[test]
fn timers_fire_in_the_order_of_their_deadlines_and_never_early() {
    let delays = [120, 20, 80, 40, 100, 60, 10, 140];
    let server = TestServer::start(Timers::new(&delays), Config::default());
    let start = Instant::now();
    let mut client = connect(server.addr);
    let mut order: Vec<usize> = (0..delays.len()).collect();
    order.sort_by_key(|&i| delays[i]);
    let got: Vec<String> = (0..delays.len()).map(|_| recv_text(&mut client)).collect();
    let expected: Vec<String> = order.iter().map(|i| i.to_string()).collect();
    assert_eq!(got, expected);
    assert!(start.elapsed() >= Duration::from_millis(140));
    assert_silent(&mut client, Duration::from_millis(200));
}

#[test]
fn a_cancelled_timer_never_fires() {
    let mut timers = Timers::new(&[30, 60, 90, 120, 150]);
    // Timer 1 is cancelled as soon as it is set; timer 0, firing, cancels timer 3.
    timers.cancel_at_open = vec![1];
    timers.trigger = Some((0, 3));
    let server = TestServer::start(timers, Config::default());
    let mut client = connect(server.addr);
    assert_eq!(recv_text(&mut client), "0");
    assert_eq!(recv_text(&mut client), "2");
    assert_eq!(recv_text(&mut client), "4");
    assert_silent(&mut client, Duration::from_millis(250));
}

/// The CPU time a thread of this process has used: `/proc/self/task/TID/schedstat` (in
/// nanoseconds) where the kernel keeps it, else `stat`'s ticks of 10 ms.
fn thread_cpu_time(tid: u32) -> Duration {
    let task = format!("/proc/self/task/{tid}");
    if let Ok(schedstat) = std::fs::read_to_string(format!("{task}/schedstat")) {
        if let Some(Ok(ns)) = schedstat.split_whitespace().next().map(str::parse::<u64>) {
            return Duration::from_nanos(ns);
        }
    }
    let stat = std::fs::read_to_string(format!("{task}/stat")).expect("read the thread's stat");
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// Sets 10,000 timers when a client opens; records the loop thread's id; when they fire, checks
/// that they come in deadline order and tells the client.
struct ManyTimers {
    tid: Shared<Option<u32>>,
    deadlines: std::collections::HashMap<TimerId, Instant>,
    last: Option<Instant>,
    fired: usize,
    in_order: bool,
    client: Option<ClientId>,
    wait: Duration,
}

const MANY: usize = 10_000;

impl Handler for ManyTimers {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        let link = std::fs::read_link("/proc/thread-self").expect("read /proc/thread-self");
        let tid = link.file_name().unwrap().to_str().unwrap().parse().unwrap();
        *self.tid.lock().unwrap() = Some(tid);
        self.client = Some(ctx.id());
        for i in 0..MANY {
            // Deadlines spread over 10 ms after `wait`, set out of order.
            let after = self.wait + Duration::from_micros((i as u64 * 7919) % 10_000);
            let due = Instant::now() + after;
            let id = ctx.set_timer(after);
            self.deadlines.insert(id, due);
        }
        ctx.send("set");
    }

    fn on_message(&mut self, _ctx: &mut ClientContext<'_>, _: &mut (), _message: Message) {}

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        let due = self.deadlines.remove(&timer).expect("a timer we set, once");
        // `due` is our own reading of the clock next to the server's, a few hundred nanoseconds
        // apart, and the deadlines are about a microsecond apart: allow for that. Out of order
        // (a queue instead of a heap) would be off by up to 10 ms.
        if self
            .last
            .is_some_and(|last| due + Duration::from_micros(200) < last)
        {
            self.in_order = false;
        }
        if Instant::now() < due {
            self.in_order = false;
        }
        self.last = Some(self.last.map_or(due, |last| last.max(due)));
        self.fired += 1;
        if self.fired == MANY {
            let client = self.client.unwrap();
            ctx.send_to(
                client,
                format!("fired {} in order: {}", self.fired, self.in_order),
            );
        }
    }
}

#[test]
fn ten_thousand_pending_timers_cost_nothing_while_they_wait() {
    let tid = Shared::default();
    let wait = Duration::from_millis(2500);
    let handler = ManyTimers {
        tid: tid.clone(),
        deadlines: Default::default(),
        last: None,
        fired: 0,
        in_order: true,
        client: None,
        wait,
    };
    let server = TestServer::start(handler, Config::default());
    let mut client = connect(server.addr);
    assert_eq!(recv_text(&mut client), "set");
    let set_at = Instant::now();
    let tid = tid.lock().unwrap().expect("the loop's thread id");

    // The timers are pending: measure the loop thread's CPU time over a second of waiting.
    std::thread::sleep(Duration::from_millis(100));
    let cpu_before = thread_cpu_time(tid);
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let cpu = thread_cpu_time(tid) - cpu_before;
    let window = window.elapsed();
    assert!(
        set_at.elapsed() < wait,
        "the machine was too slow to measure before the timers fired"
    );
    eprintln!("loop thread CPU time with {MANY} timers pending: {cpu:?} in {window:?}");
    assert!(
        cpu < Duration::from_millis(20),
        "the loop used {cpu:?} of CPU in {window:?} while {MANY} timers waited"
    );

    // And they all fire, in deadline order, once due.
    assert_eq!(
        recv_text(&mut client),
        format!("fired {MANY} in order: true")
    );
    assert!(set_at.elapsed() >= wait);
}

// ---------------------------------------------------------------------------------------------
// Fragmented sends
// ---------------------------------------------------------------------------------------------

/// On "go", sends a text message in pieces in this one call, with other messages sent while it
/// is open; on "bad", sends pieces out of place.
struct Pieces;

impl Handler for Pieces {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        match message.as_text() {
            Some("go") => {
                ctx.send_fragment(Fragment::Start("Hello".into()));
                ctx.send("sent while open");
                ctx.send_fragment(Fragment::Continue(", ".into()));
                ctx.broadcast("broadcast while open");
                // A piece may end inside a character: "wörld" split inside the "ö".
                let world = "wörld".as_bytes();
                ctx.send_fragment(Fragment::Continue(Bytes::copy_from_slice(&world[..2])));
                ctx.send_fragment(Fragment::End(Bytes::copy_from_slice(&world[2..])));
                ctx.send("after");
            }
            Some("bad") => {
                ctx.send_fragment(Fragment::Continue("no start".into()));
                ctx.send_fragment(Fragment::End("no start".into()));
                ctx.send_fragment(Fragment::Start(vec![1u8].into()));
                ctx.send_fragment(Fragment::Start("second start".into()));
                ctx.send_fragment(Fragment::End(vec![2u8].into()));
                ctx.send("fine");
            }
            _ => {}
        }
    }
}

#[test]
fn a_fragmented_message_arrives_whole_and_nothing_is_interleaved() {
    let server = TestServer::start(Pieces, Config::default());
    let mut client = connect(server.addr);
    client.send(WsMessage::text("go")).unwrap();
    assert_eq!(recv_text(&mut client), "Hello, wörld");
    assert_eq!(recv_text(&mut client), "sent while open");
    assert_eq!(recv_text(&mut client), "broadcast while open");
    assert_eq!(recv_text(&mut client), "after");
}

#[test]
fn fragments_go_out_as_frames_with_held_messages_after_the_last() {
    let server = TestServer::start(Pieces, Config::default());
    let mut stream = raw_upgrade(server.addr);
    stream.write_all(&frame(0x1, true, b"go", true)).unwrap();
    let frames: Vec<(bool, u8, Vec<u8>)> = (0..7).map(|_| read_frame_fin(&mut stream)).collect();
    let world = "wörld".as_bytes();
    assert_eq!(
        frames,
        [
            (false, 0x1, b"Hello".to_vec()),
            (false, 0x0, b", ".to_vec()),
            (false, 0x0, world[..2].to_vec()),
            (true, 0x0, world[2..].to_vec()),
            (true, 0x1, b"sent while open".to_vec()),
            (true, 0x1, b"broadcast while open".to_vec()),
            (true, 0x1, b"after".to_vec()),
        ]
    );
}

#[test]
fn pieces_out_of_place_are_dropped() {
    let server = TestServer::start(Pieces, Config::default());
    let mut client = connect(server.addr);
    client.send(WsMessage::text("bad")).unwrap();
    // Continue and End with none open are dropped, and so is the second Start.
    assert_eq!(recv(&mut client), WsMessage::binary(vec![1u8, 2]));
    assert_eq!(recv_text(&mut client), "fine");
}

/// Streams `total` bytes to a client as one binary message, one 64 KiB piece per millisecond
/// timer, so the whole message is never held by the server.
struct Streamer {
    total: usize,
    sent: usize,
    client: Option<ClientId>,
}

const PIECE: usize = 64 << 10;

fn pattern(from: usize, len: usize) -> Vec<u8> {
    (from..from + len).map(|i| (i % 251) as u8).collect()
}

impl Handler for Streamer {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        self.client = Some(ctx.id());
        ctx.send_fragment(Fragment::Start(pattern(0, PIECE).into()));
        self.sent = PIECE;
        ctx.set_timer(Duration::from_millis(1));
    }

    fn on_message(&mut self, _ctx: &mut ClientContext<'_>, _: &mut (), _message: Message) {}

    fn on_timer(&mut self, ctx: &mut Context<'_>, _timer: TimerId) {
        let client = self.client.unwrap();
        let len = PIECE.min(self.total - self.sent);
        let piece = Bytes::from(pattern(self.sent, len));
        self.sent += len;
        if self.sent == self.total {
            ctx.send_fragment_to(client, Fragment::End(piece));
        } else {
            ctx.send_fragment_to(client, Fragment::Continue(piece));
            ctx.set_timer(Duration::from_millis(1));
        }
    }
}

#[test]
fn a_large_message_streamed_from_timers_arrives_whole() {
    let total = 4 << 20; // Above the default 1 MiB message limit, which limits only clients.
    let handler = Streamer {
        total,
        sent: 0,
        client: None,
    };
    let server = TestServer::start(handler, Config::default());
    let mut client = connect(server.addr);
    match recv(&mut client) {
        WsMessage::Binary(bytes) => {
            assert_eq!(bytes.len(), total);
            assert!(bytes == pattern(0, total), "the streamed bytes differ");
        }
        other => panic!("expected binary, got {other:?}"),
    }
}

#[test]
fn a_thread_streams_a_fragmented_message_through_the_handle() {
    let registry = Registry::default();
    let server = TestServer::start(registry.clone(), Config::default());
    let mut client = connect(server.addr);
    let id = registry.wait_for(1)[0];
    let handle = server.handle.clone();
    let pieces = 100;
    let producer = std::thread::spawn(move || {
        let send = |fragment: Fragment| {
            // Bounded retries while the queue is full.
            for _ in 0..10_000 {
                match handle.send_fragment(id, fragment.clone()) {
                    Err(Error::QueueFull) => std::thread::sleep(Duration::from_millis(1)),
                    result => return result,
                }
            }
            Err(Error::QueueFull)
        };
        send(Fragment::Start("0".into()))?;
        for i in 1..pieces {
            if i == pieces / 2 {
                // Sent from the same thread while the message is open: it waits for the end.
                handle.send(id, "held")?;
            }
            send(Fragment::Continue(format!(",{i}").into()))?;
        }
        send(Fragment::End(Bytes::new()))
    });
    producer.join().unwrap().expect("every piece queued");
    let expected: Vec<String> = (0..pieces).map(|i| i.to_string()).collect();
    assert_eq!(recv_text(&mut client), expected.join(","));
    assert_eq!(recv_text(&mut client), "held");
}

#[test]
fn the_handle_is_clone_send_and_sync() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Handle>();
    shareable::<Fragment>();
}
