//! The one error type of the deflate module.

use std::fmt;

/// What can go wrong in permessage-deflate: a setting out of range (at configuration time) or
/// a bad or oversized compressed message from a peer (at run time).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeflateError {
    /// A [`DeflateConfig`](super::DeflateConfig) setting out of its range.
    InvalidSetting {
        /// The setting's name.
        name: &'static str,
        /// The value refused.
        value: usize,
        /// The values allowed.
        allowed: &'static str,
    },
    /// The inflated message passed `max_message_size`; inflating stopped there. Close 1009.
    TooBig {
        /// The limit, in inflated bytes.
        limit: usize,
    },
    /// The compressed payload is not a valid raw deflate stream. Close 1007.
    Corrupt {
        /// zlib's reason.
        reason: &'static str,
    },
}

impl DeflateError {
    /// The WebSocket close code for an error caused by a peer's message (RFC 6455 section
    /// 7.4.1): 1009 "message too big", 1007 "data inconsistent with the type of the message"
    /// for a stream that does not inflate; `None` for a configuration error.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            DeflateError::TooBig { .. } => Some(1009),
            DeflateError::Corrupt { .. } => Some(1007),
            DeflateError::InvalidSetting { .. } => None,
        }
    }
}

impl fmt::Display for DeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeflateError::InvalidSetting {
                name,
                value,
                allowed,
            } => {
                write!(
                    f,
                    "permessage-deflate setting {name} = {value} is out of range ({allowed})"
                )
            }
            DeflateError::TooBig { limit } => {
                write!(
                    f,
                    "inflated message is larger than max_message_size ({limit} bytes)"
                )
            }
            DeflateError::Corrupt { reason } => {
                write!(f, "compressed message does not inflate: {reason}")
            }
        }
    }
}

impl std::error::Error for DeflateError {}
