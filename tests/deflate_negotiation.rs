//! permessage-deflate negotiation (RFC 7692 section 7.1) over real sockets: the 101 answers
//! the first acceptable offer, or names no extension (and RSV1 stays a protocol error) when the
//! server has deflate off or the offers are bad; the handler sees what was agreed.

mod common;
#[path = "common/deflate.rs"]
mod deflate_client;

use std::io::Write;

use common::*;
use deflate_client::*;
use simple_ws_server::deflate::DeflateConfig;
use simple_ws_server::{ClientContext, Config, Handler, Message};

#[test]
fn an_offer_is_answered_in_the_101_when_deflate_is_on() {
    let server = Binary::start(&["--example", "echo", "--deflate"]);
    let (_s, head) = upgrade_offering(server.addr, &["permessage-deflate; client_max_window_bits"]);
    assert_eq!(
        extensions_of(&head),
        Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             client_max_window_bits=15"
        ),
        "{head}"
    );
    // Several header lines and offers: the first acceptable one wins.
    let (_s, head) = upgrade_offering(
        server.addr,
        &[
            "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=10, permessage-deflate",
        ],
    );
    assert_eq!(
        extensions_of(&head),
        Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10"
        ),
        "{head}"
    );
}

/// Whether a frame with RSV1 gets 1002 on this socket.
fn rsv1_is_refused(stream: &mut std::net::TcpStream) -> bool {
    let text = json_text(200);
    stream
        .write_all(&frame_rsv1(0x1, true, true, &compress(text.as_bytes())))
        .unwrap();
    read_close_code(stream) == 1002
}

#[test]
fn no_extension_and_rsv1_refused_when_deflate_is_off() {
    let server = Binary::start(&["--example", "echo"]);
    let (mut s, head) = upgrade_offering(server.addr, &["permessage-deflate"]);
    assert_eq!(extensions_of(&head), None, "{head}");
    assert!(rsv1_is_refused(&mut s));
}

#[test]
fn bad_offers_are_declined_and_rsv1_stays_a_protocol_error() {
    let server = Binary::start(&["--example", "echo", "--deflate"]);
    for offer in [
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; unknown_param",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=1",
        "x-webkit-deflate-frame",
    ] {
        let (mut s, head) = upgrade_offering(server.addr, &[offer]);
        assert_eq!(extensions_of(&head), None, "{offer}: {head}");
        assert!(rsv1_is_refused(&mut s), "{offer}");
    }
    // And no offer at all.
    let (mut s, head) = upgrade_offering(server.addr, &[]);
    assert_eq!(extensions_of(&head), None, "{head}");
    assert!(rsv1_is_refused(&mut s));
}

#[test]
fn the_dedicated_mode_keeps_context_takeover_and_asks_for_a_smaller_client_window() {
    let server = Binary::start(&[
        "--example",
        "echo",
        "--deflate",
        "--deflate-mode",
        "dedicated",
    ]);
    let (_s, head) = upgrade_offering(server.addr, &["permessage-deflate; client_max_window_bits"]);
    assert_eq!(
        extensions_of(&head),
        Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
        "{head}"
    );
    // A client that asks the server not to keep its context is honoured.
    let (_s, head) = upgrade_offering(
        server.addr,
        &["permessage-deflate; server_no_context_takeover"],
    );
    assert_eq!(
        extensions_of(&head),
        Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=12"),
        "{head}"
    );
}

/// Tells each client what the request said was agreed.
struct ShowAgreement;

impl Handler for ShowAgreement {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        let shown = match ctx.request().deflate() {
            Some(p) => format!(
                "deflate server_nct={} client_nct={} server_bits={} client_bits={}",
                p.server_no_context_takeover(),
                p.client_no_context_takeover(),
                p.server_max_window_bits(),
                p.client_max_window_bits()
            ),
            None => "no deflate".into(),
        };
        ctx.send(shown);
    }

    fn on_message(&mut self, _ctx: &mut ClientContext<'_>, _: &mut (), _message: Message) {}
}

#[test]
fn the_handler_sees_the_agreed_parameters_on_the_request() {
    let config = Config::default().deflate(DeflateConfig::default());
    let server = TestServer::start(ShowAgreement, config);
    let (mut s, _) = upgrade_offering(
        server.addr,
        &["permessage-deflate; server_max_window_bits=11; client_max_window_bits=9"],
    );
    let (b0, payload) = read_frame_head(&mut s);
    // 69 bytes, over the 64-byte minimum: sent compressed, with the agreed 11-bit window.
    assert_eq!(b0, 0xc1);
    let text = Inflater::new(11).message(&payload).unwrap();
    assert_eq!(
        String::from_utf8(text).unwrap(),
        "deflate server_nct=true client_nct=true server_bits=11 client_bits=9"
    );
    let (mut s, _) = upgrade_offering(server.addr, &[]);
    assert_eq!(read_frame_head(&mut s).1, b"no deflate");
}
