//! The differential fuzzer (`scripts/fuzz`): random and mutated client frame streams, cut at
//! random points, go to this codec and to tungstenite 0.30's `WebSocketContext` (server role,
//! reading an in-memory stream); any difference in the messages delivered, the errors or the
//! close codes fails, and so does any panic.
//!
//! Two drivers share the comparison ([`compare`]):
//! - a seeded generator (xorshift, `gen.rs`): a failure prints its seed and case number, and
//!   `FUZZ_SEED=<seed> FUZZ_CASES=<n>` reproduces it; `FUZZ_SECONDS` bounds a run;
//! - the coverage-guided cargo-fuzz target in `fuzz/` (`input.rs`, behind the `fuzzing`
//!   feature), whose corpus is seeded from the generator's streams.
//!
//! Where RFC 6455 asks for an answer tungstenite does not give, the comparison accepts ours in
//! exactly these documented cases (see [`agree`]):
//!
//! 1. **Earlier failure.** tungstenite checks a frame only once its whole payload has arrived;
//!    this codec refuses what the header already shows (limits, control frame rules, masking,
//!    reserved bits, continuation rules) and invalid UTF-8 as soon as the bytes arrive (RFC
//!    6455 8.1 lets an endpoint fail on the first bad byte; Autobahn 6.4.3/6.4.4 ask for it).
//!    So where tungstenite is still waiting for bytes at the end of the stream, ours may have
//!    failed, after the same events, with one of those reasons.
//! 2. **A length with the top bit set** is 1002 here (RFC 6455 5.2: "the most significant bit
//!    MUST be 0"); tungstenite answers 1009 (over its frame limit).
//! 3. **A control frame over 125 bytes or fragmented** is 1002 here, from its header (RFC 6455
//!    5.5); tungstenite answers 1009 when the frame is also over the frame limit, since it checks
//!    the limit first.
//! 4. **An invalid close code** fails the connection here with 1002 (RFC 6455 7.4, 7.1.7);
//!    tungstenite delivers the close as if it said 1002 "Protocol violation".
//! 5. **Close code 1014** (Bad Gateway, registered with IANA after RFC 6455) is valid here;
//!    tungstenite 0.30 does not know it and treats it like rule 4.

use std::io::{self, Read, Write};
#[cfg(test)]
use std::time::{Duration, Instant};

use tungstenite::error::Error as WsError;
use tungstenite::protocol::{Role, WebSocketConfig, WebSocketContext};
use tungstenite::Message as WsMessage;

use super::{Decoder, Event, Failure, Limits};
use crate::message_ref::MessageRef;

#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "the streams serve the seeded fuzzer (tests); cargo-fuzz uses only the cuts"
    )
)]
mod gen;
mod input;

#[cfg(test)]
use gen::{limits, split, stream, Rng};
#[cfg(feature = "fuzzing")]
pub(crate) use input::differential;

/// How a stream ended for one decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// Every byte taken, the last frame or message not complete (or nothing left).
    Waiting,
    /// A close frame was delivered (the last event).
    Closed,
    /// Failed with this close code and reason.
    Failed(u16, String),
}

#[derive(Debug)]
struct Outcome {
    events: Vec<Event>,
    end: End,
}

/// Failures this codec may report while tungstenite still waits for the rest of the frame.
const EARLY: &[&str] = &[
    "reserved opcode",
    "frame length with the top bit set",
    "fragmented control frame",
    "control frame over 125 bytes",
    "frame too big",
    "unmasked client frame",
    "reserved bits set",
    "RSV1 on a control or continuation frame",
    "continuation frame without a message",
    "new message inside a fragmented one",
    "message too big",
    "invalid UTF-8",
];

/// Our codec as the connection drives it (`lend`): a whole frame at a message boundary is
/// unmasked in place and checked (`whole.rs`), anything else goes through the decoder; or the
/// decoder alone (its general path then meets every frame).
fn ours(chunks: &[&[u8]], limits: &Limits, lend: bool) -> Outcome {
    let mut decoder = Decoder::default();
    let mut events = Vec::new();
    for chunk in chunks {
        let mut buf = chunk.to_vec();
        let mut at = 0;
        loop {
            let whole = if lend {
                lent(&decoder, &mut buf[at..], limits)
            } else {
                None
            };
            let step = match whole {
                Some((used, result)) => {
                    at += used;
                    result.map(Some)
                }
                None => {
                    let mut input = &buf[at..];
                    let before = input.len();
                    let result = decoder.decode(&mut input, limits, None);
                    at += before - input.len();
                    if let Ok(None) = result {
                        assert!(input.is_empty(), "Ok(None) with input left");
                    }
                    result
                }
            };
            match step {
                Ok(Some(event)) => {
                    let closed = matches!(event, Event::Close(_));
                    events.push(event);
                    if closed {
                        return Outcome {
                            events,
                            end: End::Closed,
                        };
                    }
                }
                Ok(None) => break,
                Err(Failure { code, reason }) => {
                    return Outcome {
                        events,
                        end: End::Failed(code, reason.into()),
                    }
                }
            }
        }
    }
    Outcome {
        events,
        end: End::Waiting,
    }
}

/// The in-place path, as `Conn` takes it: the bytes used and the message (as an event), or
/// `None` when the decoder must take the input.
fn lent(
    decoder: &Decoder,
    buf: &mut [u8],
    limits: &Limits,
) -> Option<(usize, Result<Event, Failure>)> {
    if decoder.is_mid_frame() {
        return None;
    }
    let whole = super::whole_in_place(buf, limits)?;
    let payload = &buf[whole.start..whole.start + whole.len];
    let event = super::checked(whole.text, payload).map(|message| match message {
        MessageRef::Text(text) => Event::Text(text.to_owned()),
        MessageRef::Binary(bytes) => Event::Binary(bytes.to_vec()),
    });
    Some((whole.used, event))
}

/// An in-memory socket: reads serve one chunk (or its rest) at a time, then `WouldBlock`;
/// writes (pongs, close replies) are dropped.
struct Chunks<'a> {
    chunks: &'a [&'a [u8]],
    at: usize,
    offset: usize,
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(chunk) = self.chunks.get(self.at) {
            let rest = &chunk[self.offset..];
            if rest.is_empty() {
                self.at += 1;
                self.offset = 0;
                continue;
            }
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.offset += n;
            return Ok(n);
        }
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Chunks<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn theirs(chunks: &[&[u8]], limits: &Limits) -> Outcome {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .max_frame_size(Some(limits.max_frame))
        .max_message_size(Some(limits.max_message));
    let mut ws = WebSocketContext::new(Role::Server, Some(config));
    let mut stream = Chunks {
        chunks,
        at: 0,
        offset: 0,
    };
    let mut events = Vec::new();
    loop {
        let event = match ws.read(&mut stream) {
            Ok(WsMessage::Text(text)) => Event::Text(text.as_str().to_owned()),
            Ok(WsMessage::Binary(bytes)) => Event::Binary(bytes.to_vec()),
            Ok(WsMessage::Ping(bytes)) => Event::Ping(bytes.to_vec()),
            Ok(WsMessage::Pong(bytes)) => Event::Pong(bytes.to_vec()),
            Ok(WsMessage::Close(frame)) => {
                let frame = frame.map(|f| (u16::from(f.code), f.reason.as_str().to_owned()));
                events.push(Event::Close(frame));
                return Outcome {
                    events,
                    end: End::Closed,
                };
            }
            Ok(WsMessage::Frame(_)) => continue,
            Err(err) => {
                let end = match err {
                    WsError::Io(e) if e.kind() == io::ErrorKind::WouldBlock => End::Waiting,
                    WsError::Capacity(e) => End::Failed(1009, e.to_string()),
                    WsError::Utf8(e) => End::Failed(1007, e),
                    WsError::Protocol(e) => End::Failed(1002, e.to_string()),
                    WsError::AttackAttempt => End::Failed(1002, "attack attempt".into()),
                    other => End::Failed(0, format!("unexpected: {other}")),
                };
                return Outcome { events, end };
            }
        };
        events.push(event);
    }
}

/// Whether the two outcomes agree, up to the documented rules (module docs).
fn agree(ours: &Outcome, theirs: &Outcome) -> Result<(), String> {
    let same_events = |a: &[Event], b: &[Event]| a == b;
    let mismatch = || Err(format!("ours {ours:?}\ntheirs {theirs:?}"));
    // Rules 4 and 5: tungstenite's stand-in close for a code it refuses.
    let refused_close =
        |e: &Event| matches!(e, Event::Close(Some((1002, r))) if r == "Protocol violation");
    if let (Some(their_last), End::Closed) = (theirs.events.last(), &theirs.end) {
        if refused_close(their_last)
            && same_events(&ours.events, &theirs.events[..theirs.events.len() - 1])
            && matches!(&ours.end, End::Failed(1002, r) if r == "invalid close code")
        {
            return Ok(());
        }
        if refused_close(their_last) && ours.end == End::Closed {
            let n = ours.events.len();
            if n == theirs.events.len()
                && same_events(&ours.events[..n - 1], &theirs.events[..n - 1])
                && matches!(
                    &ours.events[n - 1],
                    Event::Close(Some((1014, _)) | Some((1002, _)))
                )
            {
                return Ok(());
            }
        }
    }
    if !same_events(&ours.events, &theirs.events) {
        return mismatch();
    }
    match (&ours.end, &theirs.end) {
        (End::Waiting, End::Waiting) | (End::Closed, End::Closed) => Ok(()),
        (End::Failed(a, _), End::Failed(b, _)) if a == b => Ok(()),
        // Rules 2 and 3.
        (End::Failed(1002, r), End::Failed(1009, _))
            if r == "frame length with the top bit set"
                || r == "control frame over 125 bytes"
                || r == "fragmented control frame" =>
        {
            Ok(())
        }
        // Rule 1.
        (End::Failed(_, r), End::Waiting) if EARLY.contains(&r.as_str()) => Ok(()),
        _ => mismatch(),
    }
}

/// Decodes the same stream, cut into `our_chunks` for this codec and `their_chunks` for
/// tungstenite, under `limits`; returns how the case ended (tungstenite's side) or the
/// difference. A panic in either decoder propagates.
fn compare(
    our_chunks: &[&[u8]],
    their_chunks: &[&[u8]],
    limits: &Limits,
) -> Result<String, String> {
    let b = theirs(their_chunks, limits);
    let a = ours(our_chunks, limits, true);
    agree(&a, &b)?;
    let a = ours(our_chunks, limits, false);
    let kind = match &b.end {
        End::Failed(code, _) => format!("failed {code}"),
        End::Closed => "closed".into(),
        End::Waiting if b.events.is_empty() => "waiting, no event".into(),
        End::Waiting => "waiting after events".into(),
    };
    agree(&a, &b).map(|()| kind)
}

#[cfg(test)]
fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| {
        let v = v.trim();
        match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        }
    })
}

#[cfg(test)]
/// Runs cases from `seed` until `cases` or `time` is reached; returns how the cases ended
/// (tungstenite's side), to show the run reaches every outcome.
fn run(seed: u64, cases: u64, time: Duration) -> std::collections::BTreeMap<String, u64> {
    let start = Instant::now();
    let mut ran = 0;
    let mut tally = std::collections::BTreeMap::new();
    while ran < cases && start.elapsed() < time {
        let case_seed = seed ^ ran.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut rng = Rng(case_seed.max(1));
        let bytes = stream(&mut rng);
        let limits = limits(&mut rng);
        let our_chunks = split(&mut rng, &bytes);
        let their_chunks = split(&mut rng, &bytes);
        let result = std::panic::catch_unwind(|| compare(&our_chunks, &their_chunks, &limits));
        let report = |what: String| {
            let hex: String = bytes.iter().take(400).map(|b| format!("{b:02x}")).collect();
            panic!(
                "case {ran} (FUZZ_SEED={seed:#x}, case seed {case_seed:#x}), {limits:?}, {} bytes {hex}...\n{what}",
                bytes.len()
            );
        };
        match result {
            Ok(Ok(kind)) => *tally.entry(kind).or_insert(0) += 1,
            Ok(Err(diff)) => report(diff),
            Err(_) => report("a decoder panicked".into()),
        }
        ran += 1;
    }
    tally
}

/// A quick pass on every `cargo test`.
#[test]
fn our_codec_agrees_with_tungstenite_on_generated_streams() {
    let tally = run(0x5eed_c0de, 3000, Duration::from_secs(60));
    for kind in [
        "failed 1002",
        "failed 1007",
        "failed 1009",
        "closed",
        "waiting after events",
    ] {
        assert!(
            tally.get(kind).is_some_and(|&n| n > 10),
            "{kind}: {tally:?}"
        );
    }
}

/// The run `scripts/fuzz` makes: `FUZZ_SEED`, `FUZZ_CASES`, `FUZZ_SECONDS` (defaults: a seed
/// from the clock, no case limit, 20 seconds).
#[test]
#[ignore = "run by scripts/fuzz"]
fn differential_fuzz() {
    let seed = env("FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let cases = env("FUZZ_CASES").unwrap_or(u64::MAX);
    let time = Duration::from_secs(env("FUZZ_SECONDS").unwrap_or(20));
    eprintln!("differential fuzz: FUZZ_SEED={seed:#x}, up to {cases} cases, {time:?}");
    let tally = run(seed, cases, time);
    let ran: u64 = tally.values().sum();
    eprintln!(
        "differential fuzz: {ran} cases agreed (FUZZ_SEED={seed:#x}); how they ended: {tally:?}"
    );
}
