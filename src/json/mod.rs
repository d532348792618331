//! Typed, validated messages (feature `json`): a checked protocol on top of WebSockets.
//!
//! WebSockets give no message structure and no validation: a plain [`Handler`](crate::Handler)
//! gets whatever text or bytes a client sent. Here the protocol names its message types instead,
//! and a message that is not one of them never reaches it:
//!
//! - Implement [`JsonHandler`]: name an input type `In` (serde `Deserialize`) and an output type
//!   `Out` (serde `Serialize`), typically enums tagged by a `type` field, and write
//!   `on_message(ctx, state, msg: In)`.
//! - Run it wrapped in [`Json`], which implements [`Handler`](crate::Handler): it parses each
//!   message as `In` with serde_json and hands the handler a [`JsonClientContext`] whose
//!   `send`, `send_to`, `broadcast`, `broadcast_others`, `broadcast_except`, `publish` and
//!   `publish_except` (to a topic's subscribers) take `&Out`.
//!   Each call serializes its value once, whatever the number of recipients, and the server
//!   encodes the frame once and shares it.
//! - A message that does not parse as `In` (not JSON, another shape, an unknown variant, a
//!   missing field, a number out of its type's range such as 256 for a `u8`) goes to
//!   [`JsonHandler::on_invalid`] with an [`InvalidInput`]. By default the client is closed with
//!   1007 ("data within a message that was not consistent with the type of the message", RFC
//!   6455 7.4.1) and a reason naming the first error, cut to the 123 bytes a close frame holds;
//!   a protocol that answers errors in-band returns an `Out` there and the connection stays
//!   open.
//! - Binary messages are refused the same way, with 1003 ("a type of data it cannot accept",
//!   RFC 6455 7.4.1), unless [`Json::binary`] is set to [`BinaryInput::Json`], which parses
//!   their bytes as JSON.
//!
//! ## Limits and cost
//!
//! - The server's limits apply before anything is parsed:
//!   [`Config::max_message_size`](crate::Config::max_message_size) (1 MiB by default; past it,
//!   close 1009) and UTF-8 validity of text (close 1007).
//! - Parsing is linear in the message's size: serde_json reads the input once and has no
//!   backtracking. Nesting is limited to a depth of 128 arrays and objects (serde_json's default
//!   recursion limit, kept on): deeper input, such as 100,000 `[`, fails at the 129th level with
//!   [`InvalidKind::TooDeep`], so no message can exhaust the stack.
//! - A parsed value's memory is proportional to the message's size (a few dozen bytes per input
//!   byte at worst, e.g. `serde_json::Value` numbers), and the size limit bounds that.
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//! use simple_ws_server::json::{Json, JsonClientContext, JsonHandler};
//! use simple_ws_server::{Config, Server};
//!
//! #[derive(Deserialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum In {
//!     Say { text: String },
//! }
//!
//! #[derive(Serialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum Out {
//!     Said { text: String },
//! }
//!
//! struct Chat;
//!
//! impl JsonHandler for Chat {
//!     type In = In;
//!     type Out = Out;
//!     type State = ();
//!
//!     fn on_message(&mut self, ctx: &mut JsonClientContext<'_, '_, Out>, _: &mut (), msg: In) {
//!         match msg {
//!             In::Say { text } => ctx.broadcast(&Out::Said { text }), // serialized once
//!         }
//!     }
//! }
//!
//! Server::bind("127.0.0.1:8000", Config::default())?.run(Json::new(Chat))?;
//! # Ok::<(), simple_ws_server::Error>(())
//! ```
//!
//! `examples/typed_chat.rs` is a chat protocol on topics built this way.

mod adapter;
mod context;
mod handler;
mod invalid;
mod topics;

pub use adapter::{BinaryInput, Json};
pub use context::{encode, JsonClientContext, JsonContext};
pub use handler::JsonHandler;
pub use invalid::{
    InvalidInput, InvalidKind, CLOSE_INVALID_DATA, CLOSE_UNACCEPTED_TYPE, MAX_REASON_BYTES,
};
