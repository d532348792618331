//! Peer: tokio-tungstenite on a current-thread runtime, 4 KiB read buffer, written the way its
//! users write it. `--mode echo` echoes; `--mode chat` relays `<ip> - <text>` to all but the
//! sender (with join/leave notices), like simple-ws-server's chat example.
//! Prints `listening on ws://IP:PORT/` once bound.

use futures_util::{SinkExt, StreamExt};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

type Peers = Rc<RefCell<HashMap<u64, mpsc::UnboundedSender<Message>>>>;

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20))
}

async fn echo(s: TcpStream) {
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(s, Some(config())).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            break;
        }
    }
}

fn relay(peers: &Peers, from: u64, text: String) {
    let m = Message::text(text);
    for (id, tx) in peers.borrow().iter() {
        if *id != from {
            let _ = tx.send(m.clone());
        }
    }
}

async fn chat(s: TcpStream, id: u64, peers: Peers) {
    let ip = match s.peer_addr() {
        Ok(a) => a.ip().to_string(),
        Err(_) => return,
    };
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(s, Some(config())).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    relay(&peers, id, format!("{ip} - connected"));
    peers.borrow_mut().insert(id, tx);
    let writer = tokio::task::spawn_local(async move {
        while let Some(m) = rx.recv().await {
            if sink.feed(m).await.is_err() {
                return;
            }
            while let Ok(m) = rx.try_recv() {
                if sink.feed(m).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        if let Message::Text(t) = msg {
            relay(&peers, id, format!("{ip} - {}", t.as_str()));
        }
    }
    peers.borrow_mut().remove(&id);
    writer.abort();
    relay(&peers, id, format!("{ip} - disconnected"));
}

fn main() -> std::io::Result<()> {
    let mut host = "127.0.0.1".to_string();
    let mut port = "0".to_string();
    let mut is_chat = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for w in args.chunks(2) {
        match (w[0].as_str(), w.get(1)) {
            ("--host", Some(v)) => host = v.clone(),
            ("--port", Some(v)) => port = v.clone(),
            ("--mode", Some(v)) => is_chat = v == "chat",
            _ => {
                eprintln!(
                    "usage: peer_tokio_tungstenite [--host IP] [--port P] [--mode echo|chat]"
                );
                std::process::exit(2);
            }
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = TcpListener::bind(format!("{host}:{port}")).await?;
        println!("listening on ws://{}/", listener.local_addr()?);
        let peers: Peers = Rc::default();
        let mut next_id = 0u64;
        loop {
            let (s, _) = match listener.accept().await {
                Ok(x) => x,
                Err(_) => continue,
            };
            let _ = s.set_nodelay(true);
            if is_chat {
                next_id += 1;
                tokio::task::spawn_local(chat(s, next_id, peers.clone()));
            } else {
                tokio::task::spawn_local(echo(s));
            }
        }
    })
}
