//! A chat with rooms: a client joins the room named by its URL path (`ws://host:8000/lobby`) and
//! hears only the clients in the same room.
//!
//! Run it with `cargo run --example rooms`, then open `http://localhost:8000/` and connect to
//! `ws://localhost:8000/lobby` or any other path.

use std::collections::HashMap;

use simple_ws_server::{
    ClientContext, ClientId, CloseReason, Config, Handler, Message, Request, Server,
};

/// Which room each client is in. The handler owns this state; the server tells it about clients.
#[derive(Default)]
struct Rooms {
    room_of: HashMap<ClientId, String>,
}

impl Rooms {
    /// Sends `message` to everyone in `room` but `except`.
    fn tell_room(&self, ctx: &mut ClientContext<'_>, room: &str, except: ClientId, message: &str) {
        let members: Vec<ClientId> = self
            .room_of
            .iter()
            .filter(|(id, r)| r.as_str() == room && **id != except)
            .map(|(id, _)| *id)
            .collect();
        for id in members {
            ctx.send_to(id, message);
        }
    }
}

impl Handler for Rooms {
    fn on_open(&mut self, ctx: &mut ClientContext<'_>, request: &Request) {
        let room = request.path().trim_matches('/');
        let room = if room.is_empty() { "lobby" } else { room }.to_owned();
        let count = self.room_of.values().filter(|r| **r == room).count();
        ctx.send(format!("welcome to {room}; {count} others here"));
        self.tell_room(ctx, &room, ctx.id(), &format!("{} joined", ctx.peer().ip()));
        self.room_of.insert(ctx.id(), room);
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message) {
        let Some(room) = self.room_of.get(&ctx.id()).cloned() else {
            return;
        };
        if let Some(text) = message.as_text() {
            let line = format!("[{room}] {}: {text}", ctx.peer().ip());
            self.tell_room(ctx, &room, ctx.id(), &line);
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _reason: CloseReason) {
        if let Some(room) = self.room_of.remove(&ctx.id()) {
            self.tell_room(ctx, &room, ctx.id(), &format!("{} left", ctx.peer().ip()));
        }
    }
}

fn main() -> Result<(), simple_ws_server::Error> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let server = Server::bind("[::]:8000", Config::default())?;
    println!(
        "listening on ws://localhost:{}/",
        server.local_addr().port()
    );
    println!(
        "open http://localhost:{}/ in a browser",
        server.local_addr().port()
    );
    server.run(Rooms::default())
}
