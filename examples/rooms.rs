//! A chat with rooms: a client joins the room named by its URL path (`ws://host:8000/lobby`) and
//! hears only the clients in the same room.
//!
//! Each room is a topic: a client [subscribes](ClientContext::subscribe) to its room when it
//! connects, and what it says is [published](ClientContext::publish_except) to the room's other
//! members. The server keeps the members (and forgets a client's rooms when it leaves), so the
//! handler keeps nothing; to span several loops or instances, build a
//! [`Relay`](simple_ws_server::Relay) over them (see `--example rooms` of the command).
//!
//! Run it with `cargo run --example rooms` (or `-- ADDRESS`; the default is `[::]:8000`), then open `http://localhost:8000/` and connect to
//! `ws://localhost:8000/lobby` or any other path.

use simple_ws_server::{ClientContext, CloseReason, Config, Handler, Message, Server};

/// The rooms: all their bookkeeping is the server's topics.
#[derive(Default)]
struct Rooms;

/// The room a client is in (its per-connection state).
#[derive(Default)]
struct Room(String);

impl Handler for Rooms {
    type State = Room;

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, room: &mut Room) {
        let name = ctx.request().path().trim_matches('/');
        room.0 = if name.is_empty() { "lobby" } else { name }.to_owned();
        let others = ctx.subscriber_count(&room.0);
        ctx.send(format!("welcome to {}; {others} others here", room.0));
        ctx.subscribe(&room.0);
        let line = format!("{} joined", ctx.peer().ip());
        ctx.publish_except(&room.0, line);
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, room: &mut Room, message: Message) {
        if let Some(text) = message.as_text() {
            let line = format!("[{}] {}: {text}", room.0, ctx.peer().ip());
            ctx.publish_except(&room.0, line);
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, room: Room, _reason: CloseReason) {
        // Still a member here (its subscriptions end right after), so "except" skips it.
        let line = format!("{} left", ctx.peer().ip());
        ctx.publish_except(&room.0, line);
    }
}

fn main() -> Result<(), simple_ws_server::Error> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "[::]:8000".into());
    let server = Server::bind(addr.as_str(), Config::default())?;
    println!("listening on ws://{}/", server.local_addr());
    println!(
        "open http://localhost:{}/ in a browser",
        server.local_addr().port()
    );
    server.run(Rooms)?;
    Ok(())
}
