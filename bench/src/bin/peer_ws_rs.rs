//! Peer: the `ws` crate (ws-rs, mio 0.6), written the way its users write it: one handler per
//! connection, a shared `Rc<RefCell<..>>` of senders for the chat. `--mode echo|chat` as for
//! simple-ws-server's examples. Prints `listening on ws://IP:PORT/` once bound.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use ws::util::Token;
use ws::{Builder, CloseCode, Handler, Handshake, Message, Result, Sender, Settings};

type Peers = Rc<RefCell<HashMap<Token, Sender>>>;

struct Echo {
    out: Sender,
}

impl Handler for Echo {
    fn on_message(&mut self, msg: Message) -> Result<()> {
        self.out.send(msg)
    }
}

struct Chat {
    out: Sender,
    ip: String,
    peers: Peers,
}

impl Chat {
    // ws::Error is the crate's own (large) type; the Handler trait returns it anyway.
    #[allow(clippy::result_large_err)]
    fn relay(&self, text: String) -> Result<()> {
        for (t, s) in self.peers.borrow().iter() {
            if *t != self.out.token() {
                s.send(text.clone())?;
            }
        }
        Ok(())
    }
}

impl Handler for Chat {
    fn on_open(&mut self, hs: Handshake) -> Result<()> {
        self.ip = hs.peer_addr.map(|a| a.ip().to_string()).unwrap_or_default();
        self.relay(format!("{} - connected", self.ip))?;
        self.peers
            .borrow_mut()
            .insert(self.out.token(), self.out.clone());
        Ok(())
    }

    fn on_message(&mut self, msg: Message) -> Result<()> {
        if let Message::Text(t) = msg {
            self.relay(format!("{} - {t}", self.ip))?;
        }
        Ok(())
    }

    fn on_close(&mut self, _: CloseCode, _: &str) {
        self.peers.borrow_mut().remove(&self.out.token());
        let _ = self.relay(format!("{} - disconnected", self.ip));
    }
}

fn main() {
    let mut host = "127.0.0.1".to_string();
    let mut port = "0".to_string();
    let mut chat = false;
    let mut max_conns = 2_000usize;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for w in args.chunks(2) {
        match (w[0].as_str(), w.get(1)) {
            ("--host", Some(v)) => host = v.clone(),
            ("--port", Some(v)) => port = v.clone(),
            ("--mode", Some(v)) => chat = v == "chat",
            ("--max-connections", Some(v)) => max_conns = v.parse().expect("number"),
            _ => {
                eprintln!("usage: peer_ws_rs [--host IP] [--port P] [--mode echo|chat] [--max-connections N]");
                std::process::exit(2);
            }
        }
    }
    let settings = Settings {
        max_connections: max_conns,
        // Per-connection command queue (the event loop's channel holds max_connections x
        // queue_size). The default 5 overflows in the chat: 1000 receivers x 16 messages in
        // flight, and every join notifies everyone.
        queue_size: if chat { 1024 } else { 64 },
        tcp_nodelay: true,
        max_fragment_size: 64 << 20,
        ..Settings::default()
    };
    let addr = format!("{host}:{port}");
    if chat {
        let peers: Peers = Rc::default();
        run(settings, &addr, move |out: Sender| Chat {
            out,
            ip: String::new(),
            peers: peers.clone(),
        });
    } else {
        run(settings, &addr, |out: Sender| Echo { out });
    }
}

fn run<F: ws::Factory>(settings: Settings, addr: &str, factory: F) {
    let ws = Builder::new()
        .with_settings(settings)
        .build(factory)
        .expect("build");
    let ws = ws.bind(addr).expect("bind");
    println!(
        "listening on ws://{}/",
        ws.local_addr().expect("local_addr")
    );
    ws.run().expect("run");
}
