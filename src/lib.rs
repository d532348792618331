//! # simple-ws-server
//!
//! A WebSocket server in the spirit of Python's SimpleWebSocketServer: one thread, one
//! `mio::Poll` loop owning every socket, [tungstenite] speaking RFC 6455, and one [`Handler`]
//! that owns the application's state and is told about every client.
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

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod cluster;
mod config;
mod conn;
mod context;
#[cfg(feature = "deflate")]
pub mod deflate;
mod dispatch;
mod error;
mod event_loop;
pub mod examples;
mod fast_path;
mod handle;
mod handler;
mod http;
mod message;
mod outgoing;
mod read_ahead;
pub mod redis_bridge;
mod relay;
mod request;
mod server;
mod stream;
mod timeouts;
mod timer;
pub mod tls;

pub use client::ClientId;
pub use cluster::Cluster;
pub use config::Config;
pub use context::{ClientContext, Context, Fragment};
pub use error::{Error, Result};
pub use handle::Handle;
pub use handler::Handler;
pub use message::{CloseReason, Message};
pub use redis_bridge::RedisBridge;
pub use relay::{Broker, Relay};
pub use request::{Decision, Request};
pub use rustls;
pub use server::Server;
pub use timer::TimerId;
pub use tungstenite::{self, Bytes, Utf8Bytes};

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
