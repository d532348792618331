//! The payload of a text message: UTF-8 checked once, then shared by reference count.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::str::Utf8Error;

use bytes::Bytes;

/// The text of a text message: a string known to be valid UTF-8, over [`Bytes`], so that
/// cloning it (to send one message to many clients) costs a reference count, not a copy.
///
/// It reads as a `&str` (through [`Deref`], [`as_str`](Text::as_str) or `AsRef<str>`), and is made
/// from a `&str`, a `String` or, checked, from bytes.
///
/// ```
/// use simple_ws_server::Text;
///
/// let text = Text::from("héllo");
/// assert_eq!(text.as_str(), "héllo");
/// assert_eq!(text.len(), 6); // bytes, as for `str`
/// assert!(text.starts_with("hé")); // any `str` method
/// assert!(Text::try_from(vec![0xff, 0xfe]).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
// The UTF-8 invariant is kept by tungstenite's `Utf8Bytes`, a private detail: turning bytes into
// a `&str` without checking them again needs `unsafe`, which this crate forbids.
pub struct Text(tungstenite::Utf8Bytes);

impl Text {
    /// A text from a string known at compile time, without allocating.
    pub fn from_static(text: &'static str) -> Self {
        Text(tungstenite::Utf8Bytes::from_static(text))
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The text's UTF-8 bytes, shared (no copy).
    pub fn into_bytes(self) -> Bytes {
        self.0.into()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(text.into())
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(text.into())
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Text(text.as_str().into())
    }
}

impl From<Text> for Bytes {
    fn from(text: Text) -> Self {
        text.into_bytes()
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.as_str().to_owned()
    }
}

impl TryFrom<Bytes> for Text {
    type Error = Utf8Error;

    /// Checks that the bytes are UTF-8; no copy.
    fn try_from(bytes: Bytes) -> Result<Self, Utf8Error> {
        tungstenite::Utf8Bytes::try_from(bytes).map(Text)
    }
}

impl TryFrom<Vec<u8>> for Text {
    type Error = Utf8Error;

    /// Checks that the bytes are UTF-8; no copy.
    fn try_from(bytes: Vec<u8>) -> Result<Self, Utf8Error> {
        Text::try_from(Bytes::from(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_checked_shared_and_reads_as_str() {
        let text = Text::try_from(Bytes::from_static("ünïcode".as_bytes())).unwrap();
        assert_eq!(text, "ünïcode");
        assert_eq!(&*text, "ünïcode");
        assert_eq!(format!("{text:?}"), "\"ünïcode\"");
        let bytes = text.clone().into_bytes();
        assert_eq!(&bytes[..], "ünïcode".as_bytes());
        // A cut inside a character is not text.
        assert!(Text::try_from(bytes.slice(..1)).is_err());
        assert!(Text::try_from(vec![b'a', 0xc3]).is_err());
        assert_eq!(Text::default(), "");
    }
}
