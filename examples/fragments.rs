//! Fragmented sends: a large answer streamed in pieces, one piece per timer tick, so the server
//! never holds it whole; messages sent to the client meanwhile wait until its last piece.
//!
//! Run it with `cargo run --example fragments`, open `http://localhost:8000/`, press Connect and
//! send `count 100000`: the numbers from 1 to 100,000 arrive as one message, sent as 100
//! frames of 1,000 numbers. Any other message is echoed (after the count, if one is running).

use std::collections::HashMap;
use std::time::Duration;

use simple_ws_server::{
    ClientContext, ClientId, CloseReason, Config, Context, Error, Fragment, Handler, Message,
    Server, TimerId,
};

/// Numbers per piece.
const PIECE: u64 = 1_000;

/// A count being streamed to one client: the next number and the last.
struct Count {
    client: ClientId,
    next: u64,
    last: u64,
}

impl Count {
    /// The next piece's text: up to `PIECE` numbers, each followed by a space.
    fn piece(&mut self) -> String {
        let end = (self.next + PIECE - 1).min(self.last);
        let text: String = (self.next..=end).map(|n| format!("{n} ")).collect();
        self.next = end + 1;
        text
    }

    fn done(&self) -> bool {
        self.next > self.last
    }
}

#[derive(Default)]
struct Counter {
    counts: HashMap<TimerId, Count>,
}

impl Handler for Counter {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        let count = message
            .as_text()
            .and_then(|text| text.strip_prefix("count "))
            .and_then(|n| n.trim().parse::<u64>().ok());
        let busy = self.counts.values().any(|count| count.client == ctx.id());
        match count {
            // One fragmented message at a time per client: this answer waits for the running one.
            Some(_) if busy => ctx.send("a count is already running; wait for it"),
            Some(last) if last >= 1 => {
                let mut count = Count {
                    client: ctx.id(),
                    next: 1,
                    last,
                };
                ctx.send_fragment(Fragment::Start(count.piece().into()));
                if count.done() {
                    ctx.send_fragment(Fragment::End(Default::default()));
                } else {
                    let timer = ctx.set_timer(Duration::from_millis(1));
                    self.counts.insert(timer, count);
                }
                // Sent now, delivered after the count's last piece.
                ctx.send(format!("that was 1 to {last}"));
            }
            // Echoed at once, or after the count when one is being sent to this client.
            _ => ctx.send(message),
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _: (), _reason: CloseReason) {
        let id = ctx.id();
        self.counts.retain(|timer, count| {
            let theirs = count.client == id;
            if theirs {
                ctx.cancel_timer(*timer);
            }
            !theirs
        });
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        let Some(mut count) = self.counts.remove(&timer) else {
            return;
        };
        let piece = count.piece();
        if count.done() {
            ctx.send_fragment_to(count.client, Fragment::End(piece.into()));
        } else {
            ctx.send_fragment_to(count.client, Fragment::Continue(piece.into()));
            let next = ctx.set_timer(Duration::from_millis(1));
            self.counts.insert(next, count);
        }
    }
}

fn main() -> Result<(), Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".into());
    let server = Server::bind(addr.as_str(), Config::default())?;
    println!("listening on ws://{}/", server.local_addr());
    server.run(Counter::default())?;
    Ok(())
}
