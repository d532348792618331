//! Messages borrowed from the read buffer, and what the send methods take.

use crate::message::Message;

/// A whole message lent to [`Handler::on_message_ref`](crate::Handler::on_message_ref) for the
/// length of the call: its payload, unmasked and (for text) checked as UTF-8, where the server
/// read it, with no allocation or copy.
///
/// The send methods take it as it is ([`IntoMessage`]): a send the server can encode at once
/// copies the payload straight into the client's outgoing buffer; one that has to wait, and
/// every broadcast, makes an owned [`Message`] of it first. To keep it past the call, take
/// [`to_message`](MessageRef::to_message).
///
/// Exhaustive, like [`Message`]: text and binary are the only kinds of data frame.
///
/// ```
/// use simple_ws_server::{Message, MessageRef};
///
/// let message = MessageRef::Text("hello");
/// assert_eq!(message.as_text(), Some("hello"));
/// assert_eq!(message.len(), 5);
/// assert_eq!(message.to_message(), Message::from("hello"));
/// assert_eq!(Message::from("hello").as_message_ref(), message);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRef<'a> {
    /// A text message: valid UTF-8, checked by the server before the handler sees it.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

impl<'a> MessageRef<'a> {
    /// The text of a text message, `None` for a binary one.
    pub fn as_text(&self) -> Option<&'a str> {
        match *self {
            MessageRef::Text(text) => Some(text),
            MessageRef::Binary(_) => None,
        }
    }

    /// The payload's bytes, for either kind.
    pub fn as_bytes(&self) -> &'a [u8] {
        match *self {
            MessageRef::Text(text) => text.as_bytes(),
            MessageRef::Binary(bytes) => bytes,
        }
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, MessageRef::Text(_))
    }

    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An owned copy, to keep or to queue: one allocation and one copy of the payload.
    pub fn to_message(&self) -> Message {
        match *self {
            MessageRef::Text(text) => Message::from(text),
            MessageRef::Binary(bytes) => Message::from(bytes),
        }
    }
}

impl Message {
    /// The message borrowed as a [`MessageRef`], with no copy.
    pub fn as_message_ref(&self) -> MessageRef<'_> {
        match self {
            Message::Text(text) => MessageRef::Text(text.as_str()),
            Message::Binary(bytes) => MessageRef::Binary(bytes),
        }
    }
}

mod sealed {
    use super::{Message, MessageRef};

    /// Keeps [`IntoMessage`](super::IntoMessage) to this crate's implementations.
    pub trait Sealed {}

    /// A message as a send method was handed it: owned, or borrowed.
    #[derive(Debug)]
    pub enum Outgoing<'a> {
        /// Converted from an owned value.
        Owned(Message),
        /// Lent by the handler.
        Borrowed(MessageRef<'a>),
    }

    impl Outgoing<'_> {
        /// The message borrowed, whichever it is.
        pub fn view(&self) -> MessageRef<'_> {
            match self {
                Outgoing::Owned(message) => message.as_message_ref(),
                Outgoing::Borrowed(message) => *message,
            }
        }

        /// The message owned (a borrowed one copied).
        pub fn into_message(self) -> Message {
            match self {
                Outgoing::Owned(message) => message,
                Outgoing::Borrowed(message) => message.to_message(),
            }
        }
    }
}

pub(crate) use sealed::Outgoing;

/// What the send, broadcast and publish methods take: anything that converts into a
/// [`Message`] (`&str`, `String`, [`Text`](crate::Text), `Vec<u8>`, `&[u8]`, [`Bytes`](crate::Bytes),
/// a `Message`), and a borrowed [`MessageRef`], which a send made at once copies straight into
/// the client's outgoing buffer without an owned message in between.
///
/// Sealed: implemented for those types only. Code generic over `T: Into<Message>` passes its
/// values on as before.
///
/// ```
/// use simple_ws_server::{IntoMessage, Message, MessageRef};
///
/// assert_eq!("hi".into_message(), Message::from("hi"));
/// assert_eq!(MessageRef::Binary(&[1, 2]).into_message(), Message::from(vec![1u8, 2]));
/// ```
pub trait IntoMessage: sealed::Sealed {
    /// The message, owned (a [`MessageRef`] is copied; the others convert as `Into` does).
    fn into_message(self) -> Message;

    /// The message as it came, owned or borrowed: a send encoded at once needs no owned copy.
    #[doc(hidden)]
    fn into_outgoing<'a>(self) -> Outgoing<'a>
    where
        Self: 'a;
}

impl<T: Into<Message>> sealed::Sealed for T {}

impl<T: Into<Message>> IntoMessage for T {
    fn into_message(self) -> Message {
        self.into()
    }

    fn into_outgoing<'a>(self) -> Outgoing<'a>
    where
        Self: 'a,
    {
        Outgoing::Owned(self.into())
    }
}

impl sealed::Sealed for MessageRef<'_> {}

impl IntoMessage for MessageRef<'_> {
    fn into_message(self) -> Message {
        self.to_message()
    }

    fn into_outgoing<'a>(self) -> Outgoing<'a>
    where
        Self: 'a,
    {
        Outgoing::Borrowed(self)
    }
}
