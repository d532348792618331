//! Timers set by a handler: they fire in the order of their deadlines and never early, a
//! cancelled timer never fires, and 10,000 pending timers cost the loop no CPU while they wait.
//!
//! The servers run in threads of the test process on 127.0.0.1 port 0 (tests/common), the
//! clients are tungstenite clients, and every wait is bounded.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use simple_ws_server::{ClientContext, ClientId, Config, Context, Handler, Message, TimerId};

type Shared<T> = Arc<Mutex<T>>;

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
