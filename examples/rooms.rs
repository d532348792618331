//! A chat with rooms: a client joins the room named by its URL path (`ws://host:8000/lobby`) and
//! hears only the clients in the same room.
//!
//! Each client's room is its per-connection state ([`Handler::State`]); the handler keeps only
//! the members of each room, to know whom to tell.
//!
//! Run it with `cargo run --example rooms` (or `-- ADDRESS`; the default is `[::]:8000`), then open `http://localhost:8000/` and connect to
//! `ws://localhost:8000/lobby` or any other path.

use std::collections::{HashMap, HashSet};

use simple_ws_server::{ClientContext, ClientId, CloseReason, Config, Handler, Message, Server};

/// Who is in each room.
#[derive(Default)]
struct Rooms {
    members: HashMap<String, HashSet<ClientId>>,
}

/// The room a client is in (its per-connection state).
#[derive(Default)]
struct Room(String);

impl Rooms {
    /// Sends `message` to everyone in `room` but the client `ctx` is about.
    fn tell_room(&self, ctx: &mut ClientContext<'_>, room: &str, message: &str) {
        let me = ctx.id();
        for &id in self.members.get(room).into_iter().flatten() {
            if id != me {
                ctx.send_to(id, message);
            }
        }
    }
}

impl Handler for Rooms {
    type State = Room;

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, room: &mut Room) {
        let name = ctx.request().path().trim_matches('/');
        room.0 = if name.is_empty() { "lobby" } else { name }.to_owned();
        let members = self.members.entry(room.0.clone()).or_default();
        ctx.send(format!(
            "welcome to {}; {} others here",
            room.0,
            members.len()
        ));
        members.insert(ctx.id());
        let line = format!("{} joined", ctx.peer().ip());
        self.tell_room(ctx, &room.0, &line);
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, room: &mut Room, message: Message) {
        if let Some(text) = message.as_text() {
            let line = format!("[{}] {}: {text}", room.0, ctx.peer().ip());
            self.tell_room(ctx, &room.0, &line);
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, room: Room, _reason: CloseReason) {
        if let Some(members) = self.members.get_mut(&room.0) {
            members.remove(&ctx.id());
            if members.is_empty() {
                self.members.remove(&room.0);
            }
        }
        let line = format!("{} left", ctx.peer().ip());
        self.tell_room(ctx, &room.0, &line);
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
    server.run(Rooms::default())?;
    Ok(())
}
