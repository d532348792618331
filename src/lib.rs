//! # simple-ws-server
//!
//! A WebSocket server in the spirit of Python's SimpleWebSocketServer: one thread, one
//! `mio::Poll` loop owning every socket, its own RFC 6455 frame codec ([tungstenite] checks the
//! handshakes), and one [`Handler`] that owns the application's state and is told about every
//! client.
//!
//! ```no_run
//! use std::collections::HashMap;
//! use simple_ws_server::{ClientContext, ClientId, CloseReason, Config, Handler, Message, Request, Server};
//!
//! /// A chat that greets each client by the name in its URL (`ws://host:8000/?name=ada`).
//! #[derive(Default)]
//! struct NamedChat {
//!     names: HashMap<ClientId, String>,
//! }
//!
//! impl Handler for NamedChat {
//!     fn on_open(&mut self, ctx: &mut ClientContext<'_>, request: &Request) {
//!         let name = request.query_param("name").unwrap_or("anonymous").to_owned();
//!         ctx.broadcast_others(format!("{name} joined"));
//!         ctx.send(format!("welcome, {name}; {} here", ctx.client_count()));
//!         self.names.insert(ctx.id(), name);
//!     }
//!
//!     fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message) {
//!         let name = &self.names[&ctx.id()];
//!         if let Some(text) = message.as_text() {
//!             ctx.broadcast_others(format!("{name}: {text}"));
//!         }
//!     }
//!
//!     fn on_close(&mut self, ctx: &mut ClientContext<'_>, _reason: CloseReason) {
//!         if let Some(name) = self.names.remove(&ctx.id()) {
//!             ctx.broadcast(format!("{name} left"));
//!         }
//!     }
//! }
//!
//! let server = Server::bind("127.0.0.1:8000", Config::default())?;
//! server.run(NamedChat::default())?;
//! # Ok::<(), simple_ws_server::Error>(())
//! ```
//!
//! ## How it works
//!
//! - The loop accepts, reads and writes without ever blocking; edge-triggered, it drains every
//!   socket until it would block. A handshake in progress is resumed on the next event.
//! - Handler methods never touch a socket. What they queue through their [`Context`] (send to
//!   one, to all, to all but one, close) is applied after they return, and each connection's
//!   output is written once per batch of events.
//! - [`ClientId`]s carry a generation, so a message for a client that has left never reaches a
//!   newer client in its slot.
//! - [`Handler::on_close`] is called exactly once for each [`Handler::on_open`], whatever ended
//!   the connection, and never for a client whose handshake did not finish.
//! - Every limit has a safe default ([`Config`]); bad input gets an HTTP status or a close code
//!   and ends only its own connection.
//! - A plain HTTP `GET /` is answered with the built-in test page `websocket.html`.
//!
//! ## Cargo features
//!
//! - `tls` (default): wss:// with rustls and its ring provider (`Config::tls`, the `tls`
//!   module, and `rustls` re-exported).
//! - `cli` (default): what only the `simple-ws-server` command needs (argh, env_logger,
//!   signal-hook); the library does not use it.
//! - `redis`: `redis_bridge::RedisBridge`, chat between instances through Redis pub/sub.
//!
//! With `default-features = false` the library needs none of rustls, ring, argh, env_logger,
//! signal-hook or redis.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod cluster;
mod codec;
mod config;
mod conn;
mod context;
#[cfg(feature = "deflate")]
pub mod deflate;
mod dispatch;
mod error;
mod event_loop;
mod flow;
mod handle;
mod handler;
mod http;
mod message;
mod outgoing;
mod read_ahead;
#[cfg(feature = "redis")]
pub mod redis_bridge;
mod relay;
mod request;
mod server;
mod stream;
mod timeouts;
mod timer;
#[cfg(feature = "tls")]
pub mod tls;

pub use client::ClientId;
pub use cluster::Cluster;
pub use config::Config;
pub use context::{ClientContext, Context, Fragment};
pub use error::{Error, Result};
pub use flow::{Backpressure, FlowStats};
pub use handle::Handle;
pub use handler::Handler;
pub use message::{CloseReason, Message};
pub use relay::{Broker, Relay};
pub use request::{Decision, Request};
#[cfg(feature = "tls")]
pub use rustls;
pub use server::Server;
pub use timer::TimerId;
pub use tungstenite::{self, Bytes, Utf8Bytes};

/// How many times the server parsed an HTTP request head in this process (for the tests that
/// check a request dribbled a byte at a time is parsed a few times, not once per byte).
#[doc(hidden)]
pub fn handshake_parse_count() -> usize {
    http::PARSES.load(std::sync::atomic::Ordering::Relaxed)
}

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
