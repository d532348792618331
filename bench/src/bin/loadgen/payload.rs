//! The benchmark message: its payload, its one pre-encoded frame and the markers used to
//! tell it from a chat's notices.

use crate::opts::Opts;
use simple_ws_bench::{client_frame, client_frame_compressed, deflate_message};

/// Last byte of every benchmark payload; chat notices ("... - connected") never end with it.
pub const MARK: u8 = b'#';

pub fn payload(o: &Opts) -> Vec<u8> {
    if let Some(p) = &o.payload_file {
        return p.clone();
    }
    let mut p = vec![b'x'; o.size];
    p[o.size - 1] = MARK;
    p
}

/// The one frame every message is sent as: compressed once here with `--deflate`.
pub fn ws_frame(o: &Opts, opcode: u8, p: &[u8]) -> Vec<u8> {
    if o.deflate {
        client_frame_compressed(opcode, &deflate_message(p))
    } else {
        client_frame(opcode, p)
    }
}

/// Shortest benchmark message frame when its length cannot be predicted (compressed, or a
/// payload file in a chat): the chat's join notices ("127.0.0.1 - connected") are shorter.
pub const MIN_COUNTED: u64 = 64;
