//! Negotiation cases: the offers Autobahn 13.* sends, declines, duplicates, bad values,
//! `client_max_window_bits` without a value, and the 8-bit window.

use super::*;

/// The offer string Autobahn's client builds (`PerMessageDeflateOffer` with its defaults
/// acceptNoContextTakeover and acceptMaxWindowBits on).
fn autobahn(server_nct: bool, server_bits: u8) -> String {
    let mut s =
        String::from("permessage-deflate; client_no_context_takeover; client_max_window_bits");
    if server_nct {
        s.push_str("; server_no_context_takeover");
    }
    if server_bits != 0 {
        s.push_str(&format!("; server_max_window_bits={server_bits}"));
    }
    s
}

fn params(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    }
}

fn accept(config: &DeflateConfig, offers: &[&str]) -> (DeflateParams, String) {
    let a = negotiate(config, offers).expect("an offer is accepted");
    (a.params(), a.response_header().to_owned())
}

#[test]
fn autobahn_13_offers_with_the_shared_default() {
    let c = DeflateConfig::default();
    let both = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    for (server_nct, bits, want_bits, tail) in [
        (false, 0, 15, ""),                             // 13.1
        (true, 0, 15, ""),                              // 13.2
        (false, 8, 8, "; server_max_window_bits=8"),    // 13.3
        (false, 15, 15, "; server_max_window_bits=15"), // 13.4
        (true, 8, 8, "; server_max_window_bits=8"),     // 13.5
        (true, 15, 15, "; server_max_window_bits=15"),  // 13.6
    ] {
        let (p, r) = accept(&c, &[&autobahn(server_nct, bits)]);
        assert_eq!(p, params(true, true, want_bits, 15));
        assert_eq!(r, format!("{both}{tail}; client_max_window_bits=15"));
    }
    // 13.7: three offers, the first is accepted.
    let list = [autobahn(true, 8), autobahn(true, 0), autobahn(false, 0)].join(", ");
    assert_eq!(accept(&c, &[&list]).0, params(true, true, 8, 15));
}

#[test]
fn autobahn_13_offers_with_context_takeover() {
    let c = DeflateConfig::default()
        .server_context_takeover(true)
        .client_context_takeover(true);
    // 13.1: the client itself offers client_no_context_takeover, which stays agreed.
    assert_eq!(
        accept(&c, &[&autobahn(false, 0)]),
        (
            params(false, true, 15, 15),
            "permessage-deflate; client_no_context_takeover; client_max_window_bits=15".into()
        )
    );
    // 13.2: an offered server_no_context_takeover must be echoed and honoured.
    let (p, r) = accept(&c, &[&autobahn(true, 0)]);
    assert!(p.server_no_context_takeover());
    assert!(r.contains("; server_no_context_takeover"));
    // 13.4 against a dedicated 10-bit server: the smaller window wins.
    let d = DeflateConfig::dedicated(10).expect("valid");
    let (p, r) = accept(
        &d,
        &["permessage-deflate; client_max_window_bits; server_max_window_bits=15"],
    );
    assert_eq!(p, params(false, false, 10, 10));
    assert_eq!(
        r,
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10"
    );
}

#[test]
fn plain_offer_without_parameters() {
    let (p, r) = accept(
        &DeflateConfig::default()
            .server_context_takeover(true)
            .client_context_takeover(true),
        &["permessage-deflate"],
    );
    assert_eq!(p, params(false, false, 15, 15));
    assert_eq!(r, "permessage-deflate");
    // A smaller server window is stated even unasked (RFC 7692 section 7.1.2.1).
    let c = DeflateConfig::default()
        .server_max_window_bits(12)
        .expect("valid");
    let (p, r) = accept(&c, &["permessage-deflate"]);
    assert_eq!(p.server_max_window_bits(), 12);
    assert!(r.ends_with("; server_max_window_bits=12"), "{r}");
}

#[test]
fn client_max_window_bits_with_and_without_a_value() {
    let c = DeflateConfig::default()
        .client_max_window_bits(Some(10))
        .expect("valid");
    // Without a value: the server's request is sent.
    let (p, r) = accept(&c, &["permessage-deflate; client_max_window_bits"]);
    assert_eq!(p.client_max_window_bits(), 10);
    assert!(r.ends_with("; client_max_window_bits=10"), "{r}");
    // With a smaller hint: the hint is kept; with a larger one: the server's limit.
    assert_eq!(
        accept(&c, &["permessage-deflate; client_max_window_bits=8"])
            .0
            .client_max_window_bits(),
        8
    );
    assert_eq!(
        accept(&c, &["permessage-deflate; client_max_window_bits=12"])
            .0
            .client_max_window_bits(),
        10
    );
    // Not offered: must not be answered (7.1.2.2), and the inflater allows 15 bits.
    let (p, r) = accept(&c, &["permessage-deflate"]);
    assert_eq!(p.client_max_window_bits(), 15);
    assert!(!r.contains("client_max_window_bits"), "{r}");
}

#[test]
fn declined_offers_fall_through_to_the_next() {
    let c = DeflateConfig::default();
    for bad in [
        "permessage-deflate; unknown_param",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; client_max_window_bits=1a",
        "permessage-deflate; client_max_window_bits=\"\"",
        "permessage-deflate; client_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover=\"true\"",
        "permessage-deflate;",
        "x-webkit-deflate-frame",
    ] {
        assert_eq!(negotiate(&c, [bad]), None, "{bad}");
        let second = format!("{bad}, permessage-deflate; server_max_window_bits=11");
        assert_eq!(
            accept(&c, &[&second]).0.server_max_window_bits(),
            11,
            "{bad}"
        );
    }
}

#[test]
fn offers_across_several_headers_and_quoted_values() {
    let c = DeflateConfig::default();
    let headers = [
        "foo, permessage-deflate; bogus",
        "permessage-deflate; server_max_window_bits=\"9\"",
    ];
    assert_eq!(accept(&c, &headers).0.server_max_window_bits(), 9);
    assert_eq!(negotiate(&c, Vec::<&[u8]>::new()), None);
    assert_eq!(
        negotiate(
            &c,
            [&b"permessage-deflate; client_max_window_bits=\xff"[..]]
        ),
        None
    );
}

#[test]
fn settings_out_of_range_are_refused_with_their_name() {
    let c = DeflateConfig::default();
    let err = c
        .server_max_window_bits(8)
        .expect_err("8 cannot be compressed");
    assert_eq!(
        err,
        DeflateError::InvalidSetting {
            name: "server_max_window_bits",
            value: 8,
            allowed: "9 to 15"
        }
    );
    assert!(
        err.to_string().contains("server_max_window_bits = 8"),
        "{err}"
    );
    assert!(c.server_max_window_bits(16).is_err());
    assert!(c.client_max_window_bits(Some(7)).is_err());
    assert!(c.client_max_window_bits(Some(8)).is_ok());
    assert!(c.compression_level(10).is_err());
    assert!(c.mem_level(0).is_err() && c.mem_level(10).is_err());
    assert!(DeflateConfig::dedicated(8).is_err());
    assert_eq!(err.close_code(), None);
}
