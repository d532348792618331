//! Shared pieces of the benchmark harness: WebSocket client frame encoding and a streaming
//! decoder for server frames, a log-linear latency histogram, and /proc readers for CPU time
//! and resident memory.

use std::time::Duration;

/// The fixed `Sec-WebSocket-Key` every benchmark client sends (RFC 6455's sample nonce).
pub const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// Masking key used for every client frame. Any non-zero key costs the server the same.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The HTTP upgrade request, pre-encoded.
pub fn upgrade_request(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// The offer the load generator makes with `--deflate`: no context takeover either way, so one
/// pre-compressed frame is valid on every connection and for every message.
pub const DEFLATE_OFFER: &str =
    "permessage-deflate; client_no_context_takeover; server_no_context_takeover";

/// A browser's offer (Chrome, Firefox): context takeover allowed both ways. Frames compressed
/// with a fresh context are still valid under it (taking over the context is allowed, not
/// required), so the generator can send the same pre-compressed frame.
pub const DEFLATE_OFFER_BROWSER: &str = "permessage-deflate; client_max_window_bits";

/// The HTTP upgrade request offering permessage-deflate (`offer`, e.g. [`DEFLATE_OFFER`]),
/// pre-encoded.
pub fn upgrade_request_deflate(host: &str, path: &str, offer: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {offer}\r\n\r\n"
    )
    .into_bytes()
}

/// Compresses one message as RFC 7692 section 7.2.1 says: raw deflate, a fresh context (no
/// context takeover), flushed with a sync flush whose trailing `00 00 ff ff` is removed.
pub fn deflate_message(payload: &[u8]) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut c = Compress::new(Compression::default(), false);
    // Room for the worst case (stored blocks: 5 bytes per 64 KiB) and the flush marker, so
    // one call consumes all the input.
    let mut out = Vec::with_capacity(payload.len() + payload.len() / 1024 * 8 + 64);
    c.compress_vec(payload, &mut out, FlushCompress::Sync)
        .expect("deflate of an in-memory buffer");
    assert_eq!(
        c.total_in(),
        payload.len() as u64,
        "deflate left input behind"
    );
    if out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.truncate(out.len() - 4);
    }
    out
}

/// One masked client frame with FIN and RSV1 (a compressed message) set; `payload` is the
/// output of [`deflate_message`].
pub fn client_frame_compressed(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = client_frame(opcode, payload);
    f[0] |= 0x40;
    f
}

/// One masked client frame with FIN set.
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 14);
    f.push(0x80 | opcode);
    let n = payload.len();
    if n < 126 {
        f.push(0x80 | n as u8);
    } else if n <= 0xffff {
        f.push(0x80 | 126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    f.extend_from_slice(&MASK);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i & 3]));
    f
}

/// A masked close frame with status 1000.
pub fn close_frame() -> Vec<u8> {
    client_frame(0x8, &1000u16.to_be_bytes())
}

/// What the decoder saw when a frame ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameEnd {
    pub opcode: u8,
    pub fin: bool,
    pub len: u64,
    /// Last payload byte (0 for an empty payload).
    pub last: u8,
}

/// Streaming decoder for (unmasked) server frames. It keeps only a few bytes of state per
/// connection: payload bytes are skipped, never copied.
#[derive(Debug, Default, Clone)]
pub struct FrameDecoder {
    hdr: [u8; 14],
    hdr_len: usize,
    need: usize,
    left: u64,
    cur: FrameEnd0,
}

#[derive(Debug, Default, Clone, Copy)]
struct FrameEnd0 {
    opcode: u8,
    fin: bool,
    len: u64,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self {
            need: 2,
            ..Default::default()
        }
    }

    /// Feeds bytes; calls `on_frame` for every frame that ends inside `data`.
    pub fn feed(&mut self, mut data: &[u8], mut on_frame: impl FnMut(FrameEnd)) {
        while !data.is_empty() {
            if self.left > 0 {
                let take = (self.left.min(data.len() as u64)) as usize;
                self.left -= take as u64;
                if self.left == 0 {
                    let last = data[take - 1];
                    on_frame(self.end(last));
                }
                data = &data[take..];
                continue;
            }
            // The common case: an unmasked frame with a short or 16-bit length, header and
            // payload all in `data`, taken in one step (the byte-at-a-time path below cost the
            // generator ~5 % of its time in the chat figure).
            if self.hdr_len == 0 {
                if let Some((frame, used)) = whole_frame(data) {
                    on_frame(frame);
                    data = &data[used..];
                    continue;
                }
            }
            // Collecting a header.
            self.hdr[self.hdr_len] = data[0];
            self.hdr_len += 1;
            data = &data[1..];
            if self.hdr_len == 2 {
                let masked = self.hdr[1] & 0x80 != 0;
                let ext = match self.hdr[1] & 0x7f {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                };
                self.need = 2 + ext + if masked { 4 } else { 0 };
            }
            if self.hdr_len >= 2 && self.hdr_len == self.need {
                let len = match self.hdr[1] & 0x7f {
                    126 => u16::from_be_bytes([self.hdr[2], self.hdr[3]]) as u64,
                    127 => u64::from_be_bytes(self.hdr[2..10].try_into().unwrap()),
                    n => n as u64,
                };
                self.cur = FrameEnd0 {
                    opcode: self.hdr[0] & 0x0f,
                    fin: self.hdr[0] & 0x80 != 0,
                    len,
                };
                self.hdr_len = 0;
                self.need = 2;
                if len == 0 {
                    on_frame(self.end(0));
                } else {
                    self.left = len;
                }
            }
        }
    }

    fn end(&self, last: u8) -> FrameEnd {
        FrameEnd {
            opcode: self.cur.opcode,
            fin: self.cur.fin,
            len: self.cur.len,
            last,
        }
    }
}

/// An unmasked frame of up to 64 KiB whole at the start of `data`, and the bytes it takes.
#[inline]
fn whole_frame(data: &[u8]) -> Option<(FrameEnd, usize)> {
    let (first, second) = match *data {
        [first, second, ..] if second & 0x80 == 0 => (first, second),
        _ => return None,
    };
    let (head, len) = match second {
        126 => (
            4,
            usize::from(u16::from_be_bytes([*data.get(2)?, *data.get(3)?])),
        ),
        127 => return None,
        len => (2, usize::from(len)),
    };
    let used = head + len;
    if data.len() < used {
        return None;
    }
    let last = if len == 0 { 0 } else { data[used - 1] };
    let frame = FrameEnd {
        opcode: first & 0x0f,
        fin: first & 0x80 != 0,
        len: len as u64,
        last,
    };
    Some((frame, used))
}

/// Log-linear histogram of nanosecond values, about 1.6 % resolution.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Self {
        Self {
            counts: vec![0; (64 * SUB) as usize],
            total: 0,
        }
    }

    fn index(v: u64) -> usize {
        if v < SUB {
            return v as usize;
        }
        let e = 63 - v.leading_zeros() as u64;
        let m = v >> (e - SUB_BITS as u64);
        ((e - SUB_BITS as u64 + 1) * SUB + (m - SUB)) as usize
    }

    fn value(idx: usize) -> u64 {
        let idx = idx as u64;
        if idx < SUB {
            return idx;
        }
        let k = idx / SUB;
        let e = k + SUB_BITS as u64 - 1;
        let m = SUB + idx % SUB;
        // Middle of the bucket.
        (m << (e - SUB_BITS as u64)) + ((1u64 << (e - SUB_BITS as u64)) >> 1)
    }

    pub fn record(&mut self, d: Duration) {
        let v = d.as_nanos().min(u64::MAX as u128) as u64;
        self.counts[Self::index(v)] += 1;
        self.total += 1;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.total = 0;
    }

    /// Value (ns) at quantile `q` in 0..=1, or 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let target = ((self.total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return Self::value(i);
            }
        }
        Self::value(self.counts.len() - 1)
    }
}

/// Clock ticks per second used by /proc/PID/stat (USER_HZ; 100 on every Linux build that
/// matters here).
pub const CLK_TCK: f64 = 100.0;

/// utime + stime of a process, in seconds, from /proc/PID/stat (all its threads).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / CLK_TCK)
}

/// Time the process's main thread spent runnable but waiting for a CPU, in seconds, from
/// /proc/PID/schedstat (second field, ns).
pub fn runqueue_wait_seconds(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    let ns: f64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(ns / 1e9)
}

/// VmRSS of a process in bytes, from /proc/PID/status.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    status_bytes(pid, "VmRSS:")
}

/// The process's anonymous resident memory (its heap and stacks), without the file-backed
/// pages of its binary and libraries, whose count depends on the page cache (fault-around maps
/// what is cached near each fault), not on the connections.
pub fn anon_bytes(pid: u32) -> Option<u64> {
    status_bytes(pid, "RssAnon:")
}

fn status_bytes(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_splits_frames_at_any_boundary() {
        let mut stream = Vec::new();
        let sizes = [0usize, 1, 125, 126, 4096, 70_000];
        for (i, &n) in sizes.iter().enumerate() {
            stream.push(0x82);
            if n < 126 {
                stream.push(n as u8);
            } else if n <= 0xffff {
                stream.push(126);
                stream.extend_from_slice(&(n as u16).to_be_bytes());
            } else {
                stream.push(127);
                stream.extend_from_slice(&(n as u64).to_be_bytes());
            }
            stream.extend(std::iter::repeat_n(i as u8 + 1, n));
        }
        // Byte by byte, every frame goes through the header path; whole, the short and 16-bit
        // ones take the one-step path: both must see the same frames.
        let mut bytewise = Vec::new();
        for chunk in [1usize, 3, 7, 1000, stream.len()] {
            let mut d = FrameDecoder::new();
            let mut got = Vec::new();
            for c in stream.chunks(chunk) {
                d.feed(c, |f| got.push(f));
            }
            if chunk == 1 {
                bytewise = got.clone();
            }
            assert_eq!(got, bytewise);
            let lens: Vec<u64> = got.iter().map(|f| f.len).collect();
            assert_eq!(lens, sizes.iter().map(|&n| n as u64).collect::<Vec<_>>());
            assert_eq!(got[2].last, 3);
            assert!(got.iter().all(|f| f.fin && f.opcode == 2));
        }
    }

    #[test]
    fn client_frame_is_masked() {
        let f = client_frame(2, b"abcd");
        assert_eq!(f[0], 0x82);
        assert_eq!(f[1], 0x84);
        assert_eq!(&f[2..6], &MASK);
        let un: Vec<u8> = f[6..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ MASK[i & 3])
            .collect();
        assert_eq!(un, b"abcd");
    }

    #[test]
    fn histogram_quantiles() {
        let mut h = Histogram::new();
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us));
        }
        let p50 = h.quantile(0.5) as f64 / 1000.0;
        let p99 = h.quantile(0.99) as f64 / 1000.0;
        assert!((p50 - 500.0).abs() < 10.0, "{p50}");
        assert!((p99 - 990.0).abs() < 20.0, "{p99}");
    }
}
