//! Parsing `Sec-WebSocket-Extensions` (RFC 6455 section 9.1):
//!
//! ```text
//! extension-list = 1#extension
//! extension      = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//!     ; When using the quoted-string syntax variant, the value after
//!     ; quoted-string unescaping MUST conform to the 'token' ABNF.
//! ```
//!
//! One element of the list is one offer. An element that does not parse is skipped (declined),
//! never an error: the other offers may still be good. Work is linear in the header's length.

/// One extension offer: its name and its parameters in order (a value is already unquoted).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Offer {
    pub(crate) name: String,
    pub(crate) params: Vec<(String, Option<String>)>,
}

/// RFC 7230 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Splits one header value at the commas that are not inside a quoted string.
fn elements(value: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, &b) in value.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == b',' && !quoted {
            out.push(&value[start..i]);
            start = i + 1;
        }
    }
    out.push(&value[start..]);
    out
}

/// A cursor over one list element.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn skip_ows(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.bytes.get(self.at) == Some(&b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(|&b| is_tchar(b)) {
            self.at += 1;
        }
        // tchar is ASCII, so this is valid UTF-8.
        (self.at > start).then(|| String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned())
    }

    /// A quoted string whose unescaped content must be a token (RFC 6455 section 9.1).
    fn quoted_token(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let mut value = String::new();
        loop {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let escaped = *self.bytes.get(self.at)?;
                    self.at += 1;
                    value.push(char::from(is_tchar(escaped).then_some(escaped)?));
                }
                b if is_tchar(b) => value.push(char::from(b)),
                _ => return None,
            }
        }
        (!value.is_empty()).then_some(value)
    }
}

/// Parses one list element; `None` if it is malformed (or empty).
fn offer(element: &[u8]) -> Option<Offer> {
    let mut c = Cursor {
        bytes: element,
        at: 0,
    };
    c.skip_ows();
    let name = c.token()?;
    let mut params = Vec::new();
    loop {
        c.skip_ows();
        if c.at == element.len() {
            return Some(Offer { name, params });
        }
        if !c.eat(b';') {
            return None;
        }
        c.skip_ows();
        let key = c.token()?;
        c.skip_ows();
        let value = if c.eat(b'=') {
            c.skip_ows();
            Some(c.token().or_else(|| c.quoted_token())?)
        } else {
            None
        };
        params.push((key, value));
    }
}

/// Every offer in one header value, in order; `None` for an element that does not parse.
/// Empty elements (`a, , b`, allowed by RFC 7230's list rule) are skipped.
pub(crate) fn offers(value: &[u8]) -> impl Iterator<Item = Option<Offer>> + '_ {
    elements(value)
        .into_iter()
        .filter(|e| e.iter().any(|b| !matches!(b, b' ' | b'\t')))
        .map(offer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Vec<Option<Offer>> {
        offers(value.as_bytes()).collect()
    }

    fn o(name: &str, params: &[(&str, Option<&str>)]) -> Option<Offer> {
        Some(Offer {
            name: name.into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).into(), v.map(Into::into)))
                .collect(),
        })
    }

    #[test]
    fn lists_params_and_quoted_values() {
        assert_eq!(
            parse("permessage-deflate; client_max_window_bits, permessage-deflate ;server_max_window_bits = \"10\" ; x"),
            vec![
                o("permessage-deflate", &[("client_max_window_bits", None)]),
                o("permessage-deflate", &[("server_max_window_bits", Some("10")), ("x", None)]),
            ]
        );
    }

    #[test]
    fn quoted_commas_and_escapes_stay_inside_their_value() {
        // A comma inside quotes does not split the list; the unquoted value is no token, so
        // the element is malformed, and the next one is still read.
        assert_eq!(
            parse("a; p=\"1,2\", b; q=\"\\9\""),
            vec![None, o("b", &[("q", Some("9"))])]
        );
    }

    #[test]
    fn malformed_elements_are_none_and_empty_ones_skipped() {
        assert_eq!(
            parse("a;;b, , c=1, \"d\", e; p=, f; p=\"\", g; p=\"unterminated"),
            vec![None, None, None, None, None, None]
        );
        assert_eq!(parse(""), vec![]);
        assert_eq!(parse("\u{e9}t\u{e9}"), vec![None]);
    }
}
