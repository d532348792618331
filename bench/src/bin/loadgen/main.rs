//! Load generator for simple-ws-server and its peers: one thread, one mio loop, frames
//! pre-encoded (and pre-masked) once, so the generator stays cheaper per message than the
//! servers it drives.
//!
//! Modes:
//! - `echo`: N connections, each keeping K messages of S bytes in flight.
//! - `broadcast`: N receivers plus 1 sender against a chat server (all but the sender get each
//!   message); the sender keeps K messages in flight, a message being done once every receiver
//!   got it. Counts deliveries/s.
//! - `idle`: opens N connections (from source addresses 127.0.0.2.. to pass the port range) and
//!   reports the server's VmRSS growth per connection.
//! - `handshake`: C concurrent connect + upgrade + close cycles; handshakes/s and per server
//!   CPU-second.
//! - `upgrade`: the same without the close handshake (the TCP close follows the 101): one round
//!   trip, like the raw cycle's connect + one byte echoed + TCP close.
//!
//! `--deflate` offers permessage-deflate (no context takeover either way), refuses a server
//! that declines it, and sends each message as one frame compressed once up front (RSV1 set);
//! server frames are counted, not inflated. `--payload-file F` sends the bytes of F instead of
//! `--size` bytes of `x` (a realistic message; it need not end in `#`). Echo and broadcast
//! report wire bytes per message each way (WebSocket frames, headers included; not TCP/IP).
//!
//! `--browser-offer` offers what browsers do (context takeover allowed both ways) instead.
//!
//! `--proto raw` drives the raw mio TCP echo/chat server with fixed-size messages and no
//! framing. Output: one JSON line on stdout, a human-readable line on stderr.

mod broadcast;
mod conn;
mod cpu;
mod echo;
mod handshake;
mod idle;
mod opts;
mod payload;
mod report;

use broadcast::broadcast;
use echo::echo;
use handshake::handshake;
use idle::idle;
use opts::{parse_opts, usage};
use report::{base_report, human};
use serde_json::json;

fn main() {
    let o = parse_opts();
    let r = match o.mode.as_str() {
        "echo" => echo(&o),
        "broadcast" => broadcast(&o),
        "idle" => idle(&o),
        "handshake" | "upgrade" => handshake(&o),
        _ => usage(),
    };
    let (v, code) = match r {
        Ok(r) => (r.v, 0),
        Err(e) => {
            let mut m = base_report(&o);
            m.insert("error".into(), json!(e));
            (serde_json::Value::Object(m), 1)
        }
    };
    eprintln!("{}", human(&v));
    println!("{v}");
    std::process::exit(code);
}
