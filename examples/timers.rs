//! Timers: each client can ask for reminders, and cancel them; a repeating timer tells everyone
//! the server's uptime every ten seconds while anyone is connected.
//!
//! Run it with `cargo run --example timers`, open `http://localhost:8000/`, press Connect and
//! send `remind 3 tea is ready`, then `cancel`, or `help`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use simple_ws_server::{
    ClientContext, ClientId, CloseReason, Config, Context, Error, Handler, Message, Server, TimerId,
};

const HELP: &str = "send `remind SECONDS TEXT` to get TEXT back later, `cancel` to cancel yours";
const UPTIME_EVERY: Duration = Duration::from_secs(10);

struct Reminders {
    started: Instant,
    /// What each pending reminder says, and to whom.
    pending: HashMap<TimerId, (ClientId, String)>,
    /// The repeating uptime timer, while it runs.
    uptime: Option<TimerId>,
}

impl Reminders {
    fn cancel_all_of(&mut self, ctx: &mut Context<'_>, client: ClientId) -> usize {
        let theirs: Vec<TimerId> = self
            .pending
            .iter()
            .filter(|(_, (owner, _))| *owner == client)
            .map(|(timer, _)| *timer)
            .collect();
        for timer in &theirs {
            ctx.cancel_timer(*timer);
            self.pending.remove(timer);
        }
        theirs.len()
    }
}

impl Handler for Reminders {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        if self.uptime.is_none() {
            self.uptime = Some(ctx.set_timer(UPTIME_EVERY));
        }
        ctx.send(HELP);
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        let text = message.as_text().unwrap_or("").trim();
        let mut words = text.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("remind"), Some(seconds), Some(what)) => match seconds.parse::<f64>() {
                Ok(s) if (0.0..=86_400.0).contains(&s) => {
                    let timer = ctx.set_timer(Duration::from_secs_f64(s));
                    self.pending.insert(timer, (ctx.id(), what.to_owned()));
                    ctx.send(format!("reminder {} set for {s} s", timer.as_u64()));
                }
                _ => ctx.send("SECONDS must be a number from 0 to 86400"),
            },
            (Some("cancel"), None, None) => {
                let id = ctx.id();
                let cancelled = self.cancel_all_of(ctx, id);
                ctx.send(format!("{cancelled} reminder(s) cancelled"));
            }
            _ => ctx.send(HELP),
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _: (), _reason: CloseReason) {
        // Nobody is left to remind: cancel the client's timers instead of letting them fire.
        let id = ctx.id();
        self.cancel_all_of(ctx, id);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        if self.uptime == Some(timer) {
            if ctx.client_count() == 0 {
                // Stop repeating while nobody listens; the next client starts it again.
                self.uptime = None;
                return;
            }
            let up = self.started.elapsed().as_secs();
            ctx.broadcast(format!("server up for {up} s"));
            self.uptime = Some(ctx.set_timer(UPTIME_EVERY));
        } else if let Some((client, what)) = self.pending.remove(&timer) {
            ctx.send_to(client, format!("reminder: {what}"));
        }
    }
}

fn main() -> Result<(), Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".into());
    let server = Server::bind(addr.as_str(), Config::default())?;
    println!("listening on ws://{}/", server.local_addr());
    server.run(Reminders {
        started: Instant::now(),
        pending: HashMap::new(),
        uptime: None,
    })?;
    Ok(())
}
