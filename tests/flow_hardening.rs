//! The loop against its own handler and settings (issue 11): a panicking handler method closes
//! only the client it was about; a timer of `Duration::MAX` and timeouts of `Duration::MAX` never
//! panic.

mod common;

use std::time::Duration;

use common::*;
use simple_ws_server::{
    ClientContext, CloseReason, Config, Context, Handler, Message as ServerMessage, TimerId,
};
use tungstenite::Message;

/// Echoes, but panics on "boom", sets a timer that panics on "timer boom", sets a timer of
/// `Duration::MAX` on "forever", and panics in `on_close` for a client that said "leave boom".
#[derive(Default)]
struct Fragile {
    boom_on_close: Vec<simple_ws_server::ClientId>,
    panicking_timer: Option<TimerId>,
}

impl Handler for Fragile {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: ServerMessage) {
        match message.as_text() {
            Some("boom") => panic!("a handler bug"),
            Some("forever") => {
                let timer = ctx.set_timer(Duration::MAX);
                ctx.cancel_timer(timer);
                ctx.set_timer(Duration::MAX);
                ctx.send("set");
            }
            Some("timer boom") => {
                self.panicking_timer = Some(ctx.set_timer(Duration::from_millis(1)));
                ctx.send("set");
            }
            Some("leave boom") => {
                self.boom_on_close.push(ctx.id());
                ctx.send("noted");
            }
            _ => ctx.send(message),
        }
    }

    fn on_timer(&mut self, _ctx: &mut Context<'_>, timer: TimerId) {
        if Some(timer) == self.panicking_timer {
            panic!("a timer bug");
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _: (), _reason: CloseReason) {
        if self.boom_on_close.contains(&ctx.id()) {
            panic!("a close bug");
        }
    }
}

/// Regression (issue 11): a panic in a handler method unwound out of `Server::run`, dropping
/// every client. Now the client the call was about is closed with 1011 and the rest are served.
#[test]
fn a_panicking_handler_closes_only_its_client() {
    let server = TestServer::start(Fragile::default(), Config::default());
    let mut bystander = connect(server.addr);
    let mut culprit = connect(server.addr);
    culprit.send(Message::text("boom")).unwrap();
    assert_eq!(recv_close_code(&mut culprit), 1011);
    assert_echoes(&mut bystander, "still served");

    // A panic in on_timer or on_close is logged and the loop goes on.
    bystander.send(Message::text("timer boom")).unwrap();
    assert_eq!(recv_text(&mut bystander), "set");
    std::thread::sleep(Duration::from_millis(50));
    assert_echoes(&mut bystander, "after the timer");
    let mut leaver = connect(server.addr);
    leaver.send(Message::text("leave boom")).unwrap();
    assert_eq!(recv_text(&mut leaver), "noted");
    leaver.close(None).unwrap();
    while leaver.read().is_ok() {}
    assert_echoes(&mut bystander, "after the close");
    assert!(server.is_running());
    server.stop().expect("run returns Ok");
}

/// Regression (issue 11): `set_timer(Duration::MAX)` panicked on `Instant` overflow, a remote
/// crash where a handler takes a delay from a client. It now means never.
#[test]
fn a_timer_of_duration_max_never_fires_and_never_panics() {
    let server = TestServer::start(Fragile::default(), Config::default());
    let mut client = connect(server.addr);
    client.send(Message::text("forever")).unwrap();
    assert_eq!(recv_text(&mut client), "set");
    assert_echoes(&mut client, "still here");
    assert!(server.is_running());
}

/// Regression (issue 11): timeouts too long for `Instant` (`Duration::MAX`) panicked where the
/// loop computed a deadline, e.g. at the first close. They are honoured as never.
#[test]
fn timeouts_of_duration_max_are_honoured() {
    let config = Config::default()
        .handshake_timeout(Duration::MAX)
        .idle_timeout(Some(Duration::MAX))
        .pong_timeout(Duration::MAX)
        .close_timeout(Duration::MAX)
        .stall_timeout(Duration::MAX);
    let server = TestServer::start(Fragile::default(), config);
    let mut first = connect(server.addr);
    assert_echoes(&mut first, "hello");
    first.close(None).unwrap();
    while first.read().is_ok() {}
    // A close initiated by the server sets a close deadline too.
    let mut second = connect(server.addr);
    second.send(Message::text("boom")).unwrap();
    assert_eq!(recv_close_code(&mut second), 1011);
    let mut third = connect(server.addr);
    assert_echoes(&mut third, "still serving");
    assert!(server.is_running());
    server.stop().expect("run returns Ok");
}
