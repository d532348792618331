//! Input that is not a valid `In`: what went wrong, and how the client is told.

use std::fmt;

use serde::de::DeserializeOwned;

use crate::message_ref::MessageRef;

/// RFC 6455, 7.4.1: "1007 indicates that an endpoint is terminating the connection because it
/// has received data within a message that was not consistent with the type of the message".
pub const CLOSE_INVALID_DATA: u16 = 1007;

/// RFC 6455, 7.4.1: "1003 indicates that an endpoint is terminating the connection because it
/// has received a type of data it cannot accept (e.g., an endpoint that understands only text
/// data MAY send this if it receives a binary message)".
pub const CLOSE_UNACCEPTED_TYPE: u16 = 1003;

/// RFC 6455, 5.5: "All control frames MUST have a payload length of 125 bytes or less"; a close
/// frame's payload is a 2-byte code and then the reason, so a reason has at most 123 bytes.
pub const MAX_REASON_BYTES: usize = 123;

/// What kind of wrong a message was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidKind {
    /// Not JSON at all (a syntax error, or the input ended early).
    Syntax,
    /// JSON, but not of the message type's shape: a missing or unknown field, an unknown
    /// variant, a value of the wrong type or out of its type's range (e.g. 256 for a `u8`).
    Data,
    /// Nested deeper than the parser allows (serde_json's limit of 128 arrays and objects).
    TooDeep,
    /// A binary message, and the adapter takes text only
    /// ([`BinaryInput::Refuse`](crate::json::BinaryInput::Refuse), the default).
    Binary,
}

/// A client message that did not parse as the handler's input type; it never reaches
/// [`on_message`](crate::json::JsonHandler::on_message).
///
/// Given to [`JsonHandler::on_invalid`](crate::json::JsonHandler::on_invalid), which either
/// answers it in the protocol or (the default) lets the adapter close the connection with
/// [`close_code`](InvalidInput::close_code) and [`reason`](InvalidInput::reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    kind: InvalidKind,
    detail: String,
}

impl InvalidInput {
    /// What kind of wrong it was.
    pub fn kind(&self) -> InvalidKind {
        self.kind
    }

    /// The parser's message, naming the first error and where it is (e.g. ``unknown variant
    /// `shout`, expected one of `join`, `say`, `leave` at line 1 column 16``). It may quote the
    /// client's input, so it can be long: [`reason`](InvalidInput::reason) is the short form.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The close code the adapter sends when the handler does not answer in the protocol: 1003
    /// (a type of data it cannot accept) for a refused binary message, 1007 (data not consistent
    /// with the type of the message) for everything else.
    pub fn close_code(&self) -> u16 {
        match self.kind {
            InvalidKind::Binary => CLOSE_UNACCEPTED_TYPE,
            _ => CLOSE_INVALID_DATA,
        }
    }

    /// The detail cut to what fits in a close frame's reason (123 bytes), at a character
    /// boundary.
    pub fn reason(&self) -> &str {
        truncate(&self.detail, MAX_REASON_BYTES)
    }

    /// A binary message refused because the adapter takes text only.
    pub(crate) fn binary() -> Self {
        InvalidInput {
            kind: InvalidKind::Binary,
            detail: "binary messages are not accepted: send JSON as text".to_owned(),
        }
    }

    fn from_json(error: &serde_json::Error) -> Self {
        let detail = error.to_string();
        let kind = match error.classify() {
            // serde_json reports its nesting limit as a syntax error; tell it apart by its text.
            serde_json::error::Category::Syntax if detail.starts_with("recursion limit") => {
                InvalidKind::TooDeep
            }
            serde_json::error::Category::Data => InvalidKind::Data,
            _ => InvalidKind::Syntax,
        };
        InvalidInput { kind, detail }
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for InvalidInput {}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Parses one message as `T`: text always, binary only when `binary_json` is on. serde_json's
/// parser is linear in the input and stops at a nesting depth of 128.
pub(crate) fn decode<T: DeserializeOwned>(
    message: MessageRef<'_>,
    binary_json: bool,
) -> Result<T, InvalidInput> {
    let parsed = match message {
        MessageRef::Text(text) => serde_json::from_str(text),
        MessageRef::Binary(bytes) if binary_json => serde_json::from_slice(bytes),
        MessageRef::Binary(_) => return Err(InvalidInput::binary()),
    };
    parsed.map_err(|error| InvalidInput::from_json(&error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    #[derive(serde::Deserialize, Debug)]
    #[serde(tag = "type", rename_all = "snake_case")]
    #[allow(dead_code)] // Only parsing is tested: the fields are there to be parsed, not read.
    enum In {
        Say { text: String },
        Volume { level: u8 },
    }

    fn err(input: &str) -> InvalidInput {
        decode::<In>(MessageRef::Text(input), false).unwrap_err()
    }

    #[test]
    fn each_kind_of_bad_input_is_named() {
        assert_eq!(err("{").kind(), InvalidKind::Syntax);
        assert_eq!(err("not json").kind(), InvalidKind::Syntax);
        let unknown = err(r#"{"type":"shout"}"#);
        assert_eq!(unknown.kind(), InvalidKind::Data);
        assert_eq!(
            unknown.reason(),
            "unknown variant `shout`, expected `say` or `volume` at line 1 column 15"
        );
        assert_eq!(err(r#"{"type":"say"}"#).kind(), InvalidKind::Data);
        let range = err(r#"{"type":"volume","level":256}"#);
        assert_eq!(range.kind(), InvalidKind::Data);
        assert!(range.detail().contains("256"), "{range}");
        // A tagged enum refuses a sequence at its first element; a type that takes any JSON
        // value (or a field of such a type) meets serde_json's nesting limit at depth 128.
        let deep = Message::from("[".repeat(100_000));
        assert_eq!(
            decode::<In>(deep.as_message_ref(), false)
                .unwrap_err()
                .close_code(),
            1007
        );
        let deep = decode::<serde_json::Value>(deep.as_message_ref(), false).unwrap_err();
        assert_eq!(deep.kind(), InvalidKind::TooDeep, "{deep}");
        assert_eq!(deep.close_code(), 1007);
        let nested = format!(
            r#"{{"type":"say","text":"hi","extra":{}}}"#,
            "[".repeat(200)
        );
        let nested = decode::<In>(Message::from(nested).as_message_ref(), false).unwrap_err();
        assert_eq!(nested.kind(), InvalidKind::TooDeep, "{nested}");
        let binary =
            decode::<In>(Message::from(vec![b'{', b'}']).as_message_ref(), false).unwrap_err();
        assert_eq!(
            (binary.kind(), binary.close_code()),
            (InvalidKind::Binary, 1003)
        );
        assert!(decode::<In>(
            Message::from(&br#"{"type":"say","text":"hi"}"#[..]).as_message_ref(),
            true
        )
        .is_ok());
    }

    #[test]
    fn the_reason_fits_a_close_frame_and_never_cuts_a_character() {
        // An unknown variant is quoted back: 200 two-byte characters make a 400+ byte detail.
        let name = "é".repeat(200);
        let long = err(&format!(r#"{{"type":"{name}"}}"#));
        assert!(long.detail().len() > MAX_REASON_BYTES);
        assert!(long.reason().len() <= MAX_REASON_BYTES);
        assert!(long.detail().starts_with(long.reason()));
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("abc", 123), "abc");
    }
}
