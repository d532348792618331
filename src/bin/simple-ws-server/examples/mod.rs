//! The built-in handlers that `simple-ws-server --example NAME` runs; each is also a short
//! example of the [`Handler`](simple_ws_server::Handler) API.

mod chat;
mod echo;
mod rooms;
mod stream;

pub use chat::{Chat, RelayChat};
pub use echo::Echo;
pub use rooms::Rooms;
pub use stream::Stream;
