//! Embedding: a listener made by the caller, the loop turned one step at a time, and the handler
//! given back once the server stops.

mod common;

use std::time::Duration;

use common::*;
use simple_ws_server::{ClientContext, Config, Handler, Message, Server};

/// Echoes and counts.
#[derive(Default)]
struct Counter {
    messages: usize,
}

impl Handler for Counter {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        self.messages += 1;
        ctx.send(message);
    }
}

#[test]
fn a_listener_made_by_the_caller_is_served_and_run_gives_the_handler_back() {
    // Blocking, as std makes it: from_std must make it non-blocking or the loop would hang.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::from_std(listener, Config::default()).unwrap();
    assert_eq!(server.local_addr(), addr);
    let handle = server.handle();
    let thread = std::thread::spawn(move || server.run(Counter::default()));
    let mut a = connect(addr);
    let mut b = connect(addr);
    assert_echoes(&mut a, "one");
    assert_echoes(&mut b, "two");
    assert_echoes(&mut a, "three");
    handle.stop().unwrap();
    let counter = thread.join().unwrap().unwrap();
    assert_eq!(counter.messages, 3);
}

#[test]
fn the_loop_turns_one_step_at_a_time_until_stopped() {
    let server = Server::bind("127.0.0.1:0", Config::default()).unwrap();
    let addr = server.local_addr();
    let mut running = server.start(Counter::default()).unwrap();
    assert_eq!(running.local_addr(), addr);
    // Nothing happens: a step returns after at most the time asked for.
    assert!(running.run_once(Some(Duration::from_millis(1))).unwrap());

    let handle = running.handle();
    let client = std::thread::spawn(move || {
        let mut client = connect(addr);
        assert_echoes(&mut client, "stepped");
        assert_echoes(&mut client, "again");
        handle.stop().unwrap();
        // Answer the server's close so that it need not wait out its grace period.
        while client.read().is_ok() {}
    });
    let mut steps = 0;
    while running.run_once(Some(Duration::from_millis(20))).unwrap() {
        steps += 1;
        // Between steps the caller has the handler.
        assert!(running.handler().messages <= 2);
        assert!(steps < 10_000, "the server did not stop");
    }
    client.join().unwrap();
    // Stopped: a further step does nothing and says so.
    assert!(!running.run_once(Some(Duration::from_millis(1))).unwrap());
    assert_eq!(running.into_handler().messages, 2);
}
