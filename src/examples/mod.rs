//! The built-in handlers that `simple-ws-server --example NAME` runs; each is also a short
//! example of the [`Handler`](crate::Handler) API.

mod chat;
mod echo;

pub use chat::Chat;
pub use echo::Echo;
