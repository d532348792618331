//! Negotiation (RFC 7692 section 7.1): pick the first offer the server supports and answer it.

use std::fmt::Write as _;

use super::header::{offers, Offer};
use super::DeflateConfig;

/// The extension's registered name (RFC 7692 section 7).
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The permessage-deflate parameters agreed with one client: what the server compresses with
/// and what the client may compress with. The handler can see it on the request; the
/// connection keeps it (in a [`DeflateSession`](super::DeflateSession)) for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeflateParams {
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
}

impl DeflateParams {
    /// The server resets its compressor after every message.
    pub fn server_no_context_takeover(&self) -> bool {
        self.server_no_context_takeover
    }

    /// The client resets its compressor after every message, so the server's inflater is
    /// reset too.
    pub fn client_no_context_takeover(&self) -> bool {
        self.client_no_context_takeover
    }

    /// The server's compression window, 8 to 15 (with 8 the server compresses with a 9-bit
    /// zlib window whose matches never reach back more than 250 bytes: see [`negotiate`]).
    pub fn server_max_window_bits(&self) -> u8 {
        self.server_max_window_bits
    }

    /// The client's compression window, 8 to 15 (15 when the client was not limited).
    pub fn client_max_window_bits(&self) -> u8 {
        self.client_max_window_bits
    }
}

/// An accepted offer: the agreed parameters and the `Sec-WebSocket-Extensions` value of the
/// 101 response that states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    params: DeflateParams,
    response: String,
}

impl Agreement {
    /// The agreed parameters.
    pub fn params(&self) -> DeflateParams {
        self.params
    }

    /// The value for the response's `Sec-WebSocket-Extensions` header, e.g.
    /// `permessage-deflate; server_no_context_takeover; client_max_window_bits=12`.
    pub fn response_header(&self) -> &str {
        &self.response
    }
}

/// What one offer asks for, once its parameters are known to be valid.
#[derive(Default)]
struct Asked {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: offered without a value.
    client_max_window_bits: Option<Option<u8>>,
}

/// "a decimal integer value in the range of 8 to 15 without leading zeros" (RFC 7692 sections
/// 7.1.2.1 and 7.1.2.2).
fn window_bits(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + d - b'0'),
        _ => None,
    }
}

/// Reads an offer's parameters; `None` declines it: "an unknown parameter, a duplicated
/// parameter, or a parameter with an invalid value" each make an offer one the server must not
/// accept (RFC 7692 section 7.1: "A server MUST decline an extension negotiation offer for this
/// extension if any of the following conditions are met").
fn asked(offer: &Offer) -> Option<Asked> {
    let mut a = Asked::default();
    for (key, value) in &offer.params {
        let value = value.as_deref();
        match key.as_str() {
            "server_no_context_takeover" if !a.server_no_context_takeover && value.is_none() => {
                a.server_no_context_takeover = true;
            }
            "client_no_context_takeover" if !a.client_no_context_takeover && value.is_none() => {
                a.client_no_context_takeover = true;
            }
            "server_max_window_bits" if a.server_max_window_bits.is_none() => {
                a.server_max_window_bits = Some(window_bits(value?)?);
            }
            "client_max_window_bits" if a.client_max_window_bits.is_none() => {
                a.client_max_window_bits = Some(match value {
                    Some(v) => Some(window_bits(v)?),
                    None => None,
                });
            }
            _ => return None,
        }
    }
    Some(a)
}

/// The server's answer to one valid offer, or `None` to decline it.
fn answer(config: &DeflateConfig, a: &Asked) -> Option<Agreement> {
    // 7.1.2.1: the response's server_max_window_bits must be "the same or smaller value as the
    // offer", so an offer of 8 can only be answered with 8. zlib (since 1.2.9) and zlib-rs
    // refuse to compress raw deflate with an 8-bit window, but their matches never reach back
    // further than the window size minus 262 bytes of lookahead (`MAX_DIST`): a 9-bit
    // compressor only refers to the last 250 bytes, which an 8-bit (256-byte) inflater holds.
    // So 8 is agreed and compressed with 9 bits (what Node's zlib binding does). Pinned by the
    // test `server_window_8_stays_within_256_bytes`. Python websockets declines instead, which
    // Autobahn 13.3 and 13.5 report as UNIMPLEMENTED.
    let server_bits = a
        .server_max_window_bits
        .map_or(config.server_max_window_bits, |b| {
            b.min(config.server_max_window_bits)
        });
    // 7.1.1.1: an offered server_no_context_takeover must be accepted by echoing it; a server
    // may also send it unasked.
    let server_nct = a.server_no_context_takeover || !config.server_context_takeover;
    // 7.1.1.2: the server may send client_no_context_takeover whether offered or not; a client
    // that offered it resets its context anyway.
    let client_nct = a.client_no_context_takeover || !config.client_context_takeover;
    // 7.1.2.2: client_max_window_bits may only be answered if offered (with or without a value),
    // with "a value equal to or smaller than the received value". Without an answer the client
    // may use up to 15 bits whatever hint it sent, so the agreed value is always stated.
    let client_bits = a.client_max_window_bits.map(|hint| {
        hint.unwrap_or(15)
            .min(config.client_max_window_bits.unwrap_or(15))
    });

    let mut response = String::from(EXTENSION_NAME);
    if server_nct {
        response.push_str("; server_no_context_takeover");
    }
    if client_nct {
        response.push_str("; client_no_context_takeover");
    }
    if a.server_max_window_bits.is_some() || server_bits < 15 {
        // 7.1.2.1: a server may state its window even if the offer did not ask.
        let _ = write!(response, "; server_max_window_bits={server_bits}");
    }
    if let Some(bits) = client_bits {
        let _ = write!(response, "; client_max_window_bits={bits}");
    }
    Some(Agreement {
        params: DeflateParams {
            server_no_context_takeover: server_nct,
            client_no_context_takeover: client_nct,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits.unwrap_or(15),
        },
        response,
    })
}

/// Negotiates permessage-deflate from the values of every `Sec-WebSocket-Extensions` header
/// of a handshake request, in order: the first `permessage-deflate` offer the server can honour
/// is accepted (RFC 7692 section 5: "the server ... accepts the first one it supports"). Offers
/// that are malformed or carry an unknown, duplicated or invalid parameter are declined and the
/// next one is tried (RFC 7692 section 7.1). An offer of `server_max_window_bits=8` is accepted
/// with 8 (the compressor then never refers back more than 250 bytes). `None`: no
/// offer accepted, answer without the extension (never an error).
///
/// ```
/// use simple_ws_server::deflate::{negotiate, DeflateConfig};
///
/// let offers = ["permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits"];
/// let agreed = negotiate(&DeflateConfig::default(), offers).expect("the second offer");
/// assert_eq!(
///     agreed.response_header(),
///     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=15"
/// );
/// assert_eq!(agreed.params().server_max_window_bits(), 15);
/// ```
pub fn negotiate<I, V>(config: &DeflateConfig, header_values: I) -> Option<Agreement>
where
    I: IntoIterator<Item = V>,
    V: AsRef<[u8]>,
{
    for value in header_values {
        for offer in offers(value.as_ref()).flatten() {
            if offer.name != EXTENSION_NAME {
                continue;
            }
            if let Some(agreement) = asked(&offer).and_then(|a| answer(config, &a)) {
                return Some(agreement);
            }
        }
    }
    None
}
