//! The fuzzer's generator: client frame streams, valid and broken, and where to cut them.

use super::super::Limits;

/// A small seeded generator (xorshift64*), so every case reproduces from its seed.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Text with characters of every UTF-8 length, sometimes with a bad byte.
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    const PIECES: &[&str] = &["a", "z", " ", "é", "κ", "€", "😀", "\u{10ffff}", "\u{fffd}"];
    let mut out = Vec::new();
    while out.len() < len {
        out.extend_from_slice(PIECES[rng.below(PIECES.len() as u64) as usize].as_bytes());
    }
    if rng.chance(8) && !out.is_empty() {
        let at = rng.below(out.len() as u64) as usize;
        out[at] = [0xff, 0xc0, 0xed, 0xf4, 0x80, 0xf8][rng.below(6) as usize];
    }
    out
}

fn payload(rng: &mut Rng, op: u8) -> Vec<u8> {
    let len = match rng.below(10) {
        0 => 126 + rng.below(200),
        1 => rng.below(70_000),
        _ => rng.below(40),
    } as usize;
    match op {
        0x8 => match rng.below(6) {
            0 => Vec::new(),
            1 => rng.bytes(1),
            2 => {
                let n = 2 + rng.below(10) as usize;
                rng.bytes(n)
            }
            _ => {
                let codes = [
                    1000u16, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1011, 1012, 1014, 1015,
                    1016, 2999, 3000, 4999, 5000, 0, 999,
                ];
                let mut p = codes[rng.below(codes.len() as u64) as usize]
                    .to_be_bytes()
                    .to_vec();
                let n = rng.below(30) as usize;
                p.extend(text(rng, n));
                p
            }
        },
        0x9 | 0xA => {
            let max = if rng.chance(10) { 200 } else { 125 };
            rng.bytes(len.min(max))
        }
        0x1 | 0x0 if rng.chance(2) => text(rng, len),
        _ => rng.bytes(len),
    }
}

/// One client frame with random header choices (mostly valid ones).
fn frame(rng: &mut Rng, out: &mut Vec<u8>, op: u8, fin: bool, body: &[u8]) {
    let mut b0 = u8::from(fin) << 7 | op;
    if rng.chance(30) {
        b0 |= (rng.below(8) as u8) << 4;
    }
    out.push(b0);
    let masked = !rng.chance(40);
    let mask_bit = if masked { 0x80 } else { 0 };
    let len = body.len() as u64;
    match rng.below(40) {
        // A length with the top bit set, or a huge one.
        0 => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len | 1 << 63).to_be_bytes());
        }
        1 => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len + (1 << 20)).to_be_bytes());
        }
        // Longer length forms than needed: allowed on receipt here and by tungstenite.
        2 if len <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        3 => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
        _ if len < 126 => out.push(mask_bit | len as u8),
        _ if len <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if masked {
        let key = (rng.next() as u32).to_ne_bytes();
        out.extend_from_slice(&key);
        out.extend(body.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(body);
    }
}

/// A stream of frames: messages (some fragmented, with control frames between fragments),
/// pings, pongs, a close, and now and then a broken rule or a mutated byte.
pub(super) fn stream(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..1 + rng.below(6) {
        let op = match rng.below(20) {
            0..=6 => 0x1,
            7..=11 => 0x2,
            12 | 13 => 0x9,
            14 => 0xA,
            15 => 0x8,
            16 => 0x0,
            _ => rng.below(16) as u8,
        };
        let body = payload(rng, op);
        if (op == 0x1 || op == 0x2) && rng.chance(3) {
            // Fragmented, cut anywhere (inside characters too).
            let pieces = 1 + rng.below(4) as usize;
            let mut start = 0;
            for i in 0..pieces {
                let end = if i + 1 == pieces {
                    body.len()
                } else {
                    start + rng.below((body.len() - start) as u64 + 1) as usize
                };
                let piece_op = if i == 0 { op } else { 0 };
                frame(rng, &mut out, piece_op, i + 1 == pieces, &body[start..end]);
                start = end;
                if rng.chance(4) {
                    let ping = payload(rng, 0x9);
                    frame(rng, &mut out, 0x9, true, &ping);
                }
            }
        } else {
            let fin = !rng.chance(15);
            frame(rng, &mut out, op, fin, &body);
        }
    }
    // Mutations: flipped bits, inserted or deleted bytes, a cut.
    if rng.chance(4) && !out.is_empty() {
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(out.len() as u64) as usize;
            match rng.below(3) {
                0 => out[at] ^= 1 << rng.below(8),
                1 => out.insert(at, rng.next() as u8),
                _ => {
                    out.remove(at);
                }
            }
            if out.is_empty() {
                break;
            }
        }
    }
    if rng.chance(5) {
        let cut = rng.below(out.len() as u64 + 1) as usize;
        out.truncate(cut);
    }
    out
}

/// Random cut points.
pub(super) fn split<'a>(rng: &mut Rng, bytes: &'a [u8]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = match rng.below(4) {
            0 => 1,
            1 => 1 + rng.below(16),
            2 => 1 + rng.below(5000),
            _ => rest.len() as u64,
        } as usize;
        let (a, b) = rest.split_at(n.min(rest.len()));
        chunks.push(a);
        rest = b;
    }
    chunks
}

pub(super) fn limits(rng: &mut Rng) -> Limits {
    match rng.below(4) {
        0 => Limits {
            max_frame: 1 + rng.below(300) as usize,
            max_message: 1 + rng.below(600) as usize,
        },
        1 => Limits {
            max_frame: 200 + rng.below(70_000) as usize,
            max_message: 1 + rng.below(100_000) as usize,
        },
        _ => Limits {
            max_frame: 1 << 20,
            max_message: 1 << 20,
        },
    }
}
