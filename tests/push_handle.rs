//! Pushing from other threads through the [`Handle`]: a send reaches its client at once, sends
//! from several threads arrive in order, sends, broadcasts and closes by client id, a bounded
//! command queue that refuses instead of blocking, graceful stop, and a fragmented message
//! streamed by a thread.
//!
//! The servers run in threads of the test process on 127.0.0.1 port 0 (tests/common), the
//! clients are tungstenite clients, and every wait is bounded.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use simple_ws_server::{
    Bytes, ClientContext, ClientId, CloseReason, Config, Error, Fragment, Handle, Handler, Message,
    Server,
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
