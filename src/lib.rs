//! # simple-ws-server
//!
//! A WebSocket server in the spirit of Python's SimpleWebSocketServer: one thread, one
//! `mio::Poll` loop owning every socket, its own RFC 6455 frame codec ([tungstenite] checks the
//! handshakes), and one [`Handler`] that owns the application's state and is told about every
//! client.
//!
//! ```no_run
//! use simple_ws_server::{ClientContext, CloseReason, Config, Handler, Message, Server};
//!
//! /// A chat that greets each client by the name in its URL (`ws://host:8000/?name=ada`).
//! struct NamedChat;
//!
//! impl Handler for NamedChat {
//!     /// Each client's name, kept by the server beside its connection.
//!     type State = String;
//!
//!     fn on_open(&mut self, ctx: &mut ClientContext<'_>, name: &mut String) {
//!         *name = ctx.request().query_param("name").unwrap_or("anonymous").to_owned();
//!         ctx.broadcast_others(format!("{name} joined"));
//!         ctx.send(format!("welcome, {name}; {} here", ctx.client_count()));
//!     }
//!
//!     fn on_message(&mut self, ctx: &mut ClientContext<'_>, name: &mut String, message: Message) {
//!         if let Some(text) = message.as_text() {
//!             ctx.broadcast_others(format!("{name}: {text}"));
//!         }
//!     }
//!
//!     fn on_close(&mut self, ctx: &mut ClientContext<'_>, name: String, _reason: CloseReason) {
//!         ctx.broadcast(format!("{name} left"));
//!     }
//! }
//!
//! let server = Server::bind("127.0.0.1:8000", Config::default())?;
//! server.run(NamedChat)?;
//! # Ok::<(), simple_ws_server::Error>(())
//! ```
//!
//! ## How it works
//!
//! - The loop accepts, reads and writes without ever blocking; edge-triggered, it drains every
//!   socket until it would block. A handshake in progress is resumed on the next event.
//! - Handler methods never touch a socket. What they ask through their [`Context`] (send to
//!   one, to all, to all but one, close) takes effect in order, a send at once into the client's
//!   outgoing buffer when nothing queued stands before it, the rest after they return; each
//!   connection's output is written to its socket once per batch of events.
//! - A message that came as one small, whole frame is lent to
//!   [`Handler::on_message_ref`] where it was read ([`MessageRef`], no allocation or copy);
//!   by default it is copied for [`Handler::on_message`], which gets every other message.
//! - [`ClientId`]s carry a generation, so a message for a client that has left never reaches a
//!   newer client in its slot.
//! - [`Handler::on_close`] is called exactly once for each [`Handler::on_open`], whatever ended
//!   the connection, and never for a client whose handshake did not finish.
//! - Every limit has a safe default ([`Config`]); bad input gets an HTTP status or a close code
//!   and ends only its own connection.
//! - Each connection has a [`Handler::State`] the server keeps beside it and hands to each of
//!   its events, and its handshake [`Request`] stays readable ([`ClientContext::request`]).
//! - A plain HTTP request goes to [`Handler::on_http`] (a health check, metrics); by default
//!   `GET /` is answered with the built-in test page `websocket.html` and the rest with 404.
//! - The types a handler touches are this crate's or stable crates' ([`Bytes`], `http`'s
//!   `HeaderMap`), never tungstenite's.
//!
//! ## Cargo features
//!
//! - `tls` (default): wss:// with rustls and its ring provider (`Config::tls`, the `tls`
//!   module, and `rustls` re-exported).
//! - `cli` (default): what only the `simple-ws-server` command needs (argh, env_logger,
//!   signal-hook); the library does not use it.
//! - `redis`: `redis_bridge::RedisBridge`, chat between instances through Redis pub/sub.
//! - `json`: the `json` module, typed and validated messages (serde, serde_json): a
//!   `json::JsonHandler` names its input and output types, and input that does not parse never
//!   reaches it.
//!
//! With `default-features = false` the library needs none of rustls, ring, argh, env_logger,
//! signal-hook or redis.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

// The vocabulary every layer shares: ids, settings, errors, messages, requests, counters.
mod client;
mod config;
mod error;
mod message;
mod message_ref;
mod request;
mod response;
mod stats;
mod text;
#[cfg(feature = "tls")]
pub mod tls;

// Pure protocol state, no I/O: RFC 6455 frames, and RFC 7692 compression.
mod codec;
#[cfg(feature = "deflate")]
pub mod deflate;

// One client's socket and its phases, from the HTTP request to the last close frame.
mod connection;
// What a handler implements and what it is handed.
mod handler;
// The loop: one mio::Poll, the slab of connections, dispatch, flow control, timers.
mod server;
// A checked protocol on top of the Handler: typed JSON messages (feature `json`).
#[cfg(feature = "json")]
pub mod json;
// More than one loop or instance: loops on one port, a relay between them, Redis.
mod scale;

#[cfg(feature = "redis")]
pub use scale::redis_bridge;

/// The byte buffer of binary messages and fragments: the `bytes` crate's, re-exported.
pub use bytes::Bytes;
pub use client::ClientId;
pub use client::TimerId;
pub use config::Backpressure;
pub use config::Config;
pub use error::{Error, Result};
pub use handler::client_context::ClientContext;
pub use handler::context::Context;
pub use handler::topic_api::MAX_TOPIC_LEN;
pub use handler::Handler;
pub use message::{CloseReason, Fragment, Message};
pub use message_ref::{IntoMessage, MessageRef};
pub use request::Request;
pub use response::{Decision, HttpResponse};
#[cfg(feature = "tls")]
/// The rustls crate whose `ServerConfig` [`Config::tls`] takes, re-exported.
pub use rustls;
pub use scale::cluster::Cluster;
pub use scale::relay::{Broker, Relay};
pub use server::handle::Handle;
pub use server::{Running, Server};
pub use stats::{FlowStats, Stats};
pub use text::Text;

/// How many times the server parsed an HTTP request head in this process (for the tests that
/// check a request dribbled a byte at a time is parsed a few times, not once per byte).
#[doc(hidden)]
pub fn handshake_parse_count() -> usize {
    connection::http::PARSES.load(std::sync::atomic::Ordering::Relaxed)
}

/// The cargo-fuzz target's entry point (`fuzz/`, `scripts/fuzz --long`): decodes libFuzzer's
/// input with this crate's codec and with tungstenite's and panics on any difference beyond the
/// documented ones. Only with the `fuzzing` feature; not a public API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_differential(data: &[u8]) {
    codec::fuzz::differential(data);
}

/// The README's examples, compiled as doc tests (with the `json` feature, which one of them
/// uses; `scripts/test` runs the tests with every feature).
#[cfg(all(doctest, feature = "json"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
