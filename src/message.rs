//! Messages as the handler sees them, and why a connection ended.

use std::fmt;

use bytes::Bytes;

use crate::text::Text;

/// A whole WebSocket message: fragmented messages arrive reassembled, control frames (ping, pong,
/// close) are answered by the server and never reach the handler.
///
/// Cloning is cheap (a reference count), so one message can be sent to many clients.
///
/// Exhaustive on purpose: RFC 6455 (5.6) defines exactly two kinds of data frame, text and binary,
/// so a `match` with these two arms stays complete.
///
/// ```
/// use simple_ws_server::Message;
///
/// let text = Message::from("hello");
/// assert_eq!(text.as_text(), Some("hello"));
/// let binary = Message::from(vec![1u8, 2, 3]);
/// assert_eq!(binary.as_bytes(), &[1, 2, 3]);
/// assert!(binary.as_text().is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8, checked by the server before the handler sees it.
    Text(Text),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The text of a text message, `None` for a binary one.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            Message::Binary(_) => None,
        }
    }

    /// The payload's bytes, for either kind.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// The payload, shared (no copy), for either kind.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Text(text) => f.debug_tuple("Text").field(&text.as_str()).finish(),
            Message::Binary(bytes) => write!(f, "Binary({} bytes)", bytes.len()),
        }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.into())
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text.into())
    }
}

impl From<Text> for Message {
    fn from(text: Text) -> Self {
        Message::Text(text)
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Self {
        Message::Binary(Bytes::copy_from_slice(bytes))
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(bytes.into())
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Message::Binary(bytes)
    }
}

/// Why a client's connection ended, as told to [`Handler::on_close`](crate::Handler::on_close).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent a close frame with this code (1005 when it gave none) and reason.
    ByClient {
        /// The close code the client sent.
        code: u16,
        /// The reason text the client sent.
        reason: String,
    },
    /// The handler (or a [`Handle`](crate::Handle)) closed the client with this code.
    ByServer {
        /// The close code sent to the client.
        code: u16,
    },
    /// The TCP connection ended without a close frame (EOF or reset).
    Disconnected,
    /// The client broke RFC 6455 (bad frame, invalid UTF-8, message over the size limit); it was
    /// sent this close code (1002, 1007 or 1009).
    ProtocolError {
        /// The close code sent to the client.
        code: u16,
    },
    /// The client did not answer a ping in time, or sent nothing for too long.
    Timeout,
    /// The client read too slowly: its outgoing backlog passed the limit, so it was closed with
    /// 1008 (policy violation).
    SlowConsumer,
    /// The server is shutting down; the client was sent 1001 (going away).
    Shutdown,
}

/// One piece of a message sent in fragments, so that large or live data streams out without
/// being held whole (the original's `sendFragmentStart`, `sendFragment` and `sendFragmentEnd`).
///
/// A fragmented message is a [`Start`](Fragment::Start), any number of
/// [`Continue`](Fragment::Continue)s, then an [`End`](Fragment::End); each piece goes out as one
/// WebSocket frame as soon as the loop applies it, and the client receives one whole message.
/// Send the pieces with [`ClientContext::send_fragment`](crate::ClientContext::send_fragment), [`Context::send_fragment_to`](crate::Context::send_fragment_to) or
/// [`Handle::send_fragment`](crate::Handle::send_fragment).
///
/// - One fragmented message at a time per client: a `Start` while one is open, or a `Continue`
///   or `End` with none open, is dropped (and logged as a warning). Pieces carry no stream
///   identity, so let one sender at a time (the handler, or one thread) stream to a client:
///   the pieces of two streams to the same client would end up in one message.
/// - Other messages sent to that client while it is open (a [`send`](crate::ClientContext::send), a
///   broadcast) wait and go out right after its `End`, in the order they were sent, since
///   RFC 6455 (5.4) forbids interleaving another message's frames. They count against the
///   client's backlog limit ([`Config::max_backlog`](crate::Config::max_backlog)). Pings and
///   close frames may go out between pieces, as the RFC allows.
/// - The pieces of a text message must together be valid UTF-8 (one piece may end inside a
///   character); the server does not check them, and a client closes the connection on invalid
///   text.
///
/// ```
/// use simple_ws_server::{ClientContext, Fragment, Handler, Message};
///
/// /// Answers every message with a count from 1 to 1000, streamed in ten pieces.
/// struct Counter;
///
/// impl Handler for Counter {
///     type State = ();
///
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), _message: Message) {
///         ctx.send_fragment(Fragment::Start("counting:".into()));
///         for tens in 0..10 {
///             let piece: String = (tens * 100 + 1..=tens * 100 + 100)
///                 .map(|n| format!(" {n}"))
///                 .collect();
///             ctx.send_fragment(Fragment::Continue(piece.into()));
///         }
///         ctx.send_fragment(Fragment::End(" done".into()));
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fragment {
    /// The first piece. Its kind, text or binary, is the kind of the whole message.
    Start(Message),
    /// A piece in the middle.
    Continue(Bytes),
    /// The last piece (it may be empty).
    End(Bytes),
}
