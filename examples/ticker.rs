//! Pushing from another thread: a worker thread sends the time to every client once a second
//! through the server's [`Handle`], and answers each new client personally.
//!
//! Run it with `cargo run --example ticker`, then open `http://localhost:8000/` and press
//! Connect. `cargo run --example ticker -- 127.0.0.1:0 5` picks a free port and stops the server
//! after five ticks.

use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use simple_ws_server::{ClientContext, ClientId, Config, Error, Handle, Handler, Message, Server};

/// The handler only tells the worker thread who connected and echoes messages; everything else
/// comes from the worker.
struct Registrar {
    new_clients: mpsc::Sender<ClientId>,
}

impl Handler for Registrar {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        // The worker may have stopped; then there is nobody to tell.
        let _ = self.new_clients.send(ctx.id());
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        ctx.send(message);
    }
}

/// Once a second, sends the time to every client; greets each new client as it is told of it.
/// Stops the server after `ticks` ticks, if given.
fn worker(handle: Handle, new_clients: mpsc::Receiver<ClientId>, ticks: Option<u64>) {
    let mut tick = 0;
    loop {
        // Wait a second, greeting the clients that connect meanwhile.
        match new_clients.recv_timeout(Duration::from_secs(1)) {
            Ok(client) => {
                let _ = handle.send(client, format!("hello {client}, ticks follow"));
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        tick += 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        match handle.broadcast(format!("tick {tick}: {} s since 1970", now.as_secs())) {
            Ok(()) => {}
            // The loop is behind: skip this tick rather than block or queue without end.
            Err(Error::QueueFull) => eprintln!("tick {tick} skipped: the server is busy"),
            Err(_) => return, // The server has stopped.
        }
        if ticks == Some(tick) {
            println!("{tick} ticks sent; stopping");
            let _ = handle.stop();
            return;
        }
    }
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8000".into());
    let ticks = args.next().and_then(|n| n.parse().ok());
    let server = Server::bind(addr.as_str(), Config::default())?;
    println!("listening on ws://{}/", server.local_addr());
    let (tx, rx) = mpsc::channel();
    let handle = server.handle();
    let worker = std::thread::spawn(move || worker(handle, rx, ticks));
    server.run(Registrar { new_clients: tx })?;
    let _ = worker.join();
    Ok(())
}
