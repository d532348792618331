//! The server inside a tokio application: the WebSocket loop runs on a thread of its own (it is
//! a blocking `mio` loop, not a future), its handler forwards events to the async side through a
//! channel, and the async side answers and pushes through the server's [`Handle`], whose calls
//! never block.
//!
//! Run it with `cargo run --example tokio_embed`, open `http://localhost:8000/` and press
//! Connect: every message comes back upper-cased by a tokio task, and a tick arrives every
//! second. `cargo run --example tokio_embed -- 127.0.0.1:0 3` picks a free port and stops the
//! server after three answers.

use std::time::Duration;

use simple_ws_server::{
    ClientContext, ClientId, CloseReason, Config, Error, Handler, Message, Server,
};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// What the server thread tells the async side.
enum Event {
    Open(ClientId),
    Text(ClientId, String),
    Close(ClientId),
}

/// The loop's handler: forwards every event to tokio (an unbounded send never blocks the loop).
struct Forward {
    events: UnboundedSender<Event>,
    messages: u64,
}

impl Handler for Forward {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        let _ = self.events.send(Event::Open(ctx.id()));
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        self.messages += 1;
        if let Some(text) = message.as_text() {
            let _ = self.events.send(Event::Text(ctx.id(), text.to_owned()));
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _: (), _reason: CloseReason) {
        let _ = self.events.send(Event::Close(ctx.id()));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8000".into());
    let stop_after: Option<u64> = args.next().and_then(|n| n.parse().ok());

    let server = Server::bind(addr.as_str(), Config::default())?;
    println!("listening on ws://{}/", server.local_addr());
    let handle = server.handle();
    let (events, mut incoming) = unbounded_channel();
    let handler = Forward {
        events,
        messages: 0,
    };
    // `run` gives the handler back once the server stops; dropping it here closes the channel,
    // which ends the async loop below.
    let loop_thread = std::thread::Builder::new()
        .name("websocket".into())
        .spawn(move || server.run(handler).map(|forward| forward.messages))
        .map_err(|source| Error::EventLoop {
            context: "starting the server thread",
            source,
        })?;

    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut answered = 0;
    loop {
        tokio::select! {
            event = incoming.recv() => match event {
                Some(Event::Open(client)) => {
                    let _ = handle.send(client, "hello from tokio");
                }
                Some(Event::Text(client, text)) => {
                    // Stands for async work: a database query, an HTTP call.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    let _ = handle.send(client, format!("tokio says: {}", text.to_uppercase()));
                    answered += 1;
                    if stop_after == Some(answered) {
                        // Every client gets close 1001; `run` returns on the server thread.
                        let _ = handle.stop();
                    }
                }
                Some(Event::Close(client)) => eprintln!("client {client} left"),
                None => break,
            },
            _ = ticks.tick() => {
                // A full queue or a stopped server: skip this tick.
                let _ = handle.broadcast("tick");
            }
        }
    }
    let messages = loop_thread.join().map_err(|_| Error::EventLoop {
        context: "running the server thread",
        source: std::io::Error::other("the server thread panicked"),
    })??;
    println!("server stopped after {messages} message(s)");
    Ok(())
}
