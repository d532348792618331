//! A chat protocol of typed JSON messages on topics (feature `json`).
//!
//! A client sends `{"type":"join","room":"lobby"}`, `{"type":"say","text":"hi"}` (optionally
//! with `"reply_to": N`, a `u32`) and `{"type":"leave"}`; the server answers `joined`, `said`,
//! `left` (each with `who` and `room`; `said` with `text`) to everyone in the room, and `error`
//! to the sender alone. A client's name is `?name=` in its URL (`guest-N` without one).
//!
//! Anything else a client sends never reaches the handler: by default it is closed with 1007
//! and the first error (1003 for a binary message, 1009 past 16 KiB). With `--errors-in-band`
//! it is answered `{"type":"error","message":"..."}` instead and stays connected.
//!
//! ```sh
//! cargo run --features json --example typed_chat [ADDRESS] [--errors-in-band]
//! ```
//!
//! then, in a browser console on any page:
//!
//! ```js
//! ws = new WebSocket("ws://localhost:8000/?name=ada");
//! ws.onmessage = (e) => console.log(JSON.parse(e.data));
//! ws.send(JSON.stringify({type: "join", room: "lobby"}));
//! ws.send(JSON.stringify({type: "say", text: "hi"}));
//! ```

use serde::{Deserialize, Serialize};
use simple_ws_server::json::{InvalidInput, Json, JsonClientContext, JsonHandler};
use simple_ws_server::{CloseReason, Config, Error, Server};

/// The longest room name, in bytes.
const MAX_ROOM: usize = 64;

/// What a client sends.
#[derive(Deserialize, Debug)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum In {
    /// Enter a room (leaving the current one).
    Join { room: String },
    /// Say something to the room, perhaps in reply to message `reply_to`.
    Say {
        text: String,
        #[serde(default)]
        reply_to: Option<u32>,
    },
    /// Leave the current room.
    Leave,
}

/// What the server sends.
#[derive(Serialize, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Out {
    /// `who` entered `room` (sent to the room, `who` included).
    Joined { who: String, room: String },
    /// `who` said `text` in `room`; `id` numbers the messages of the server.
    Said {
        id: u32,
        who: String,
        room: String,
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reply_to: Option<u32>,
    },
    /// `who` left `room` (sent to the room, and to `who` when it asked).
    Left { who: String, room: String },
    /// A request that could not be served (sent to its sender only).
    Error { message: String },
}

/// A client's name and current room.
#[derive(Default)]
struct Member {
    name: String,
    room: Option<String>,
}

/// The chat; the rooms themselves are the server's topics.
#[derive(Default)]
struct TypedChat {
    guests: u64,
    said: u32,
    errors_in_band: bool,
}

/// The topic of a room.
fn topic(room: &str) -> String {
    format!("room/{room}")
}

impl TypedChat {
    /// Takes `member` out of its room, telling the room and the member.
    fn leave(&mut self, ctx: &mut JsonClientContext<'_, '_, Out>, member: &mut Member) {
        if let Some(room) = member.room.take() {
            let topic = topic(&room);
            // Unsubscribing takes effect at once, before the queued publish is delivered: the
            // member is told on its own.
            ctx.unsubscribe(&topic);
            let left = Out::Left {
                who: member.name.clone(),
                room,
            };
            ctx.publish(&topic, &left);
            ctx.send(&left);
        }
    }
}

impl JsonHandler for TypedChat {
    type In = In;
    type Out = Out;
    type State = Member;

    fn on_open(&mut self, ctx: &mut JsonClientContext<'_, '_, Out>, member: &mut Member) {
        member.name = match ctx.request().query_param("name") {
            Some(name) if !name.is_empty() && name.len() <= 32 => name.to_owned(),
            _ => {
                self.guests += 1;
                format!("guest-{}", self.guests)
            }
        };
    }

    fn on_message(
        &mut self,
        ctx: &mut JsonClientContext<'_, '_, Out>,
        member: &mut Member,
        msg: In,
    ) {
        match msg {
            In::Join { room } => {
                if room.is_empty() || room.len() > MAX_ROOM {
                    let message = format!("a room name has 1 to {MAX_ROOM} bytes");
                    return ctx.send(&Out::Error { message });
                }
                self.leave(ctx, member);
                ctx.subscribe(&topic(&room));
                let joined = Out::Joined {
                    who: member.name.clone(),
                    room: room.clone(),
                };
                ctx.publish(&topic(&room), &joined);
                member.room = Some(room);
            }
            In::Say { text, reply_to } => {
                let Some(room) = &member.room else {
                    let message = "join a room first".to_owned();
                    return ctx.send(&Out::Error { message });
                };
                self.said = self.said.wrapping_add(1);
                let said = Out::Said {
                    id: self.said,
                    who: member.name.clone(),
                    room: room.clone(),
                    text,
                    reply_to,
                };
                ctx.publish(&topic(room), &said);
            }
            In::Leave => {
                if member.room.is_none() {
                    let message = "not in a room".to_owned();
                    return ctx.send(&Out::Error { message });
                }
                self.leave(ctx, member);
            }
        }
    }

    fn on_invalid(
        &mut self,
        _: &mut JsonClientContext<'_, '_, Out>,
        _: &mut Member,
        error: &InvalidInput,
    ) -> Option<Out> {
        self.errors_in_band.then(|| Out::Error {
            message: error.reason().to_owned(),
        })
    }

    fn on_close(
        &mut self,
        ctx: &mut JsonClientContext<'_, '_, Out>,
        member: Member,
        _: CloseReason,
    ) {
        if let Some(room) = member.room {
            let left = Out::Left {
                who: member.name,
                room: room.clone(),
            };
            ctx.publish(&topic(&room), &left);
        }
    }
}

fn main() -> Result<(), Error> {
    let mut addr = "127.0.0.1:8000".to_owned();
    let mut chat = TypedChat::default();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--errors-in-band" => chat.errors_in_band = true,
            _ => addr = arg,
        }
    }
    // Chat lines are short: refuse (1009) anything over 16 KiB before it is parsed.
    let config = Config::default().max_message_size(16 << 10);
    let server = Server::bind(addr.as_str(), config)?;
    println!("listening on ws://{}/", server.local_addr());
    server.run(Json::new(chat))?;
    Ok(())
}
