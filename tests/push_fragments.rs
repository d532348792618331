//! Fragmented sends from a handler: a message sent in pieces arrives whole with nothing
//! interleaved, the pieces go out as frames with the messages held until the last one, pieces
//! out of place are dropped, and a message larger than the message limit streams from timers.
//!
//! The servers run in threads of the test process on 127.0.0.1 port 0 (tests/common), the
//! clients are tungstenite clients or raw TCP sockets with read timeouts, and every wait is
//! bounded.

mod common;

use std::io::Write;
use std::time::Duration;

use common::*;
use simple_ws_server::{
    Bytes, ClientContext, ClientId, Config, Context, Fragment, Handler, Message, TimerId,
};
use tungstenite::Message as WsMessage;

/// On "go", sends a text message in pieces in this one call, with other messages sent while it
/// is open; on "bad", sends pieces out of place.
struct Pieces;

impl Handler for Pieces {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        match message.as_text() {
            Some("go") => {
                ctx.send_fragment(Fragment::Start("Hello".into()));
                ctx.send("sent while open");
                ctx.send_fragment(Fragment::Continue(", ".into()));
                ctx.broadcast("broadcast while open");
                // A piece may end inside a character: "wörld" split inside the "ö".
                let world = "wörld".as_bytes();
                ctx.send_fragment(Fragment::Continue(Bytes::copy_from_slice(&world[..2])));
                ctx.send_fragment(Fragment::End(Bytes::copy_from_slice(&world[2..])));
                ctx.send("after");
            }
            Some("bad") => {
                ctx.send_fragment(Fragment::Continue("no start".into()));
                ctx.send_fragment(Fragment::End("no start".into()));
                ctx.send_fragment(Fragment::Start(vec![1u8].into()));
                ctx.send_fragment(Fragment::Start("second start".into()));
                ctx.send_fragment(Fragment::End(vec![2u8].into()));
                ctx.send("fine");
            }
            _ => {}
        }
    }
}

#[test]
fn a_fragmented_message_arrives_whole_and_nothing_is_interleaved() {
    let server = TestServer::start(Pieces, Config::default());
    let mut client = connect(server.addr);
    client.send(WsMessage::text("go")).unwrap();
    assert_eq!(recv_text(&mut client), "Hello, wörld");
    assert_eq!(recv_text(&mut client), "sent while open");
    assert_eq!(recv_text(&mut client), "broadcast while open");
    assert_eq!(recv_text(&mut client), "after");
}

#[test]
fn fragments_go_out_as_frames_with_held_messages_after_the_last() {
    let server = TestServer::start(Pieces, Config::default());
    let mut stream = raw_upgrade(server.addr);
    stream.write_all(&frame(0x1, true, b"go", true)).unwrap();
    let frames: Vec<(bool, u8, Vec<u8>)> = (0..7).map(|_| read_frame_fin(&mut stream)).collect();
    let world = "wörld".as_bytes();
    assert_eq!(
        frames,
        [
            (false, 0x1, b"Hello".to_vec()),
            (false, 0x0, b", ".to_vec()),
            (false, 0x0, world[..2].to_vec()),
            (true, 0x0, world[2..].to_vec()),
            (true, 0x1, b"sent while open".to_vec()),
            (true, 0x1, b"broadcast while open".to_vec()),
            (true, 0x1, b"after".to_vec()),
        ]
    );
}

#[test]
fn pieces_out_of_place_are_dropped() {
    let server = TestServer::start(Pieces, Config::default());
    let mut client = connect(server.addr);
    client.send(WsMessage::text("bad")).unwrap();
    // Continue and End with none open are dropped, and so is the second Start.
    assert_eq!(recv(&mut client), WsMessage::binary(vec![1u8, 2]));
    assert_eq!(recv_text(&mut client), "fine");
}

/// Streams `total` bytes to a client as one binary message, one 64 KiB piece per millisecond
/// timer, so the whole message is never held by the server.
struct Streamer {
    total: usize,
    sent: usize,
    client: Option<ClientId>,
}

const PIECE: usize = 64 << 10;

fn pattern(from: usize, len: usize) -> Vec<u8> {
    (from..from + len).map(|i| (i % 251) as u8).collect()
}

impl Handler for Streamer {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        self.client = Some(ctx.id());
        ctx.send_fragment(Fragment::Start(pattern(0, PIECE).into()));
        self.sent = PIECE;
        ctx.set_timer(Duration::from_millis(1));
    }

    fn on_message(&mut self, _ctx: &mut ClientContext<'_>, _: &mut (), _message: Message) {}

    fn on_timer(&mut self, ctx: &mut Context<'_>, _timer: TimerId) {
        let client = self.client.unwrap();
        let len = PIECE.min(self.total - self.sent);
        let piece = Bytes::from(pattern(self.sent, len));
        self.sent += len;
        if self.sent == self.total {
            ctx.send_fragment_to(client, Fragment::End(piece));
        } else {
            ctx.send_fragment_to(client, Fragment::Continue(piece));
            ctx.set_timer(Duration::from_millis(1));
        }
    }
}

#[test]
fn a_large_message_streamed_from_timers_arrives_whole() {
    let total = 4 << 20; // Above the default 1 MiB message limit, which limits only clients.
    let handler = Streamer {
        total,
        sent: 0,
        client: None,
    };
    let server = TestServer::start(handler, Config::default());
    let mut client = connect(server.addr);
    match recv(&mut client) {
        WsMessage::Binary(bytes) => {
            assert_eq!(bytes.len(), total);
            assert!(bytes == pattern(0, total), "the streamed bytes differ");
        }
        other => panic!("expected binary, got {other:?}"),
    }
}
