//! Unit tests of the codec: each RFC rule it enforces, at every split of the input.

use super::*;

const LIMITS: Limits = Limits {
    max_frame: 1 << 16,
    max_message: 1 << 17,
};

/// A masked client frame with the first byte given whole (FIN, RSV, opcode).
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = Vec::new();
    encoder::encode_head(&mut out, false, false, 0, payload.len());
    out[0] = b0;
    out[1] |= 0x80;
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Decodes `bytes` fed in pieces of `step` bytes: the events, then the failure if any.
fn decode_in(bytes: &[u8], step: usize, limits: &Limits) -> (Vec<Event>, Option<Failure>) {
    let mut decoder = Decoder::default();
    let mut events = Vec::new();
    for piece in bytes.chunks(step.max(1)) {
        let mut input = piece;
        loop {
            match decoder.decode(&mut input, limits, None) {
                Ok(Some(event)) => events.push(event),
                Ok(None) => {
                    assert!(input.is_empty());
                    break;
                }
                Err(failure) => return (events, Some(failure)),
            }
        }
    }
    (events, None)
}

/// Decodes at every split size and checks they all agree; returns the answer.
fn decode(bytes: &[u8]) -> (Vec<Event>, Option<Failure>) {
    let whole = decode_in(bytes, bytes.len(), &LIMITS);
    for step in 1..bytes.len().min(40) {
        assert_eq!(decode_in(bytes, step, &LIMITS), whole, "step {step}");
    }
    whole
}

fn code(bytes: &[u8]) -> Option<u16> {
    decode(bytes).1.map(|f| f.code)
}

#[test]
fn whole_and_fragmented_messages_at_every_split() {
    let mut bytes = frame(0x81, b"hello");
    bytes.extend(frame(0x02, b"bi"));
    bytes.extend(frame(0x89, b"ping in the middle"));
    bytes.extend(frame(0x00, b"na"));
    bytes.extend(frame(0x80, b"ry"));
    bytes.extend(frame(0x8a, b""));
    bytes.extend(frame(0x81, "é😀".as_bytes()));
    let (events, failure) = decode(&bytes);
    assert_eq!(failure, None);
    assert_eq!(
        events,
        vec![
            Event::Text("hello".into()),
            Event::Ping(b"ping in the middle".to_vec()),
            Event::Binary(b"binary".to_vec()),
            Event::Pong(Vec::new()),
            Event::Text("é😀".into()),
        ]
    );
}

#[test]
fn every_length_form_and_a_length_with_the_top_bit_set() {
    for len in [0, 125, 126, 65535, 65536] {
        let payload = vec![7u8; len];
        let (events, failure) = decode_in(&frame(0x82, &payload), 1000, &LIMITS);
        assert_eq!((events, failure), (vec![Event::Binary(payload)], None));
    }
    // "the most significant bit MUST be 0": refused from the header alone, no payload needed.
    let mut huge = vec![0x82, 0xff];
    huge.extend_from_slice(&(1u64 << 63).to_be_bytes());
    huge.extend_from_slice(&[1, 2, 3, 4]);
    assert_eq!(code(&huge), Some(1002));
}

#[test]
fn limits_are_checked_from_the_header() {
    let limits = Limits {
        max_frame: 100,
        max_message: 150,
    };
    // Only the header of a frame over the limit: refused before any payload.
    let head = &frame(0x82, &[0; 101])[..6];
    assert_eq!(decode_in(head, 6, &limits).1.map(|f| f.code), Some(1009));
    // Two fragments each within the frame limit, together over the message limit.
    let mut bytes = frame(0x02, &[0; 100]);
    bytes.extend(&frame(0x80, &[0; 51])[..6]);
    assert_eq!(decode_in(&bytes, 7, &limits).1.map(|f| f.code), Some(1009));
}

#[test]
fn control_frames_over_125_bytes_or_fragmented_are_refused_from_the_header() {
    // A ping claiming 1 MiB: the header alone gets 1002 (not 1009, not a wait for the payload).
    let mut head = vec![0x89, 0xff];
    head.extend_from_slice(&(1u64 << 20).to_be_bytes());
    head.extend_from_slice(&[1, 2, 3, 4]);
    assert_eq!(code(&head), Some(1002));
    assert_eq!(code(&frame(0x89, &[0; 126])[..8]), Some(1002));
    assert_eq!(code(&frame(0x09, b"")), Some(1002));
    assert_eq!(code(&frame(0x88, b"")), None);
}

#[test]
fn masks_reserved_bits_opcodes_and_continuations() {
    let mut unmasked = frame(0x81, b"x");
    unmasked[1] &= 0x7f;
    assert_eq!(code(&unmasked[..2]), Some(1002));
    for b0 in [0xc1, 0xa1, 0x91, 0xc0, 0xc9] {
        assert_eq!(code(&frame(b0, b"x")), Some(1002), "{b0:#x}");
    }
    for op in [3u8, 7, 0xb, 0xf] {
        assert_eq!(code(&frame(0x80 | op, b"x")), Some(1002), "{op:#x}");
    }
    assert_eq!(code(&frame(0x80, b"x")), Some(1002));
    let mut interleaved = frame(0x01, b"a");
    interleaved.extend(frame(0x81, b"b"));
    assert_eq!(code(&interleaved), Some(1002));
}

#[test]
fn invalid_utf8_fails_before_the_frame_is_whole() {
    // Autobahn 6.4.3: a valid start, then bytes that can never be UTF-8, then a frame that has
    // not fully arrived. The failure comes from the bytes received so far.
    let mut payload = "κόσμε".as_bytes().to_vec();
    payload.extend_from_slice(&[0xf4, 0x90, 0x80, 0x80]);
    payload.extend_from_slice(b"edited");
    let bytes = frame(0x81, &payload);
    let partial = &bytes[..6 + payload.len() - 4];
    assert_eq!(
        decode_in(partial, partial.len(), &LIMITS).1,
        Some(Failure::utf8())
    );
    // A character cut between fragments is fine; cut at the end of the message it is not.
    let mut split = frame(0x01, &[0xf0, 0x9f]);
    split.extend(frame(0x80, &[0x98, 0x80]));
    assert_eq!(decode(&split).0, vec![Event::Text("😀".into())]);
    let mut cut = frame(0x01, b"ok");
    cut.extend(frame(0x80, &[0xf0, 0x9f]));
    assert_eq!(code(&cut), Some(1007));
}

#[test]
fn close_payload_rules() {
    let close = |payload: &[u8]| decode(&frame(0x88, payload));
    assert_eq!(close(b"").0, vec![Event::Close(None)]);
    assert_eq!(close(&[0x03]).1.map(|f| f.code), Some(1002));
    let mut good = 1000u16.to_be_bytes().to_vec();
    good.extend_from_slice(b"bye");
    assert_eq!(
        close(&good).0,
        vec![Event::Close(Some((1000, "bye".into())))]
    );
    for bad in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        assert_eq!(
            close(&bad.to_be_bytes()).1.map(|f| f.code),
            Some(1002),
            "{bad}"
        );
    }
    for ok in [1000u16, 1003, 1007, 1011, 1014, 3000, 4999] {
        assert!(close(&ok.to_be_bytes()).1.is_none(), "{ok}");
    }
    let mut bad_reason = 1000u16.to_be_bytes().to_vec();
    bad_reason.extend_from_slice(&[0xff]);
    assert_eq!(close(&bad_reason).1.map(|f| f.code), Some(1007));
}

#[test]
fn which_close_codes_may_be_sent() {
    for ok in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
    ] {
        assert!(may_send(ok), "{ok}");
    }
    for bad in [
        0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535,
    ] {
        assert!(!may_send(bad), "{bad}");
    }
}

/// The extension seam: reverses the payload, to show it runs before the UTF-8 check.
struct Reverse;

impl Inflate for Reverse {
    fn inflate(&mut self, payload: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), Failure> {
        if payload.len() > limit {
            return Err(Failure::too_big("message too big"));
        }
        out.extend(payload.iter().rev());
        Ok(())
    }
}

#[test]
fn rsv1_marks_a_compressed_message_only_with_an_extension() {
    // Reversed, these bytes are "é" (0xc3 0xa9); as received they are not UTF-8.
    let mut bytes = frame(0x41, &[0xa9]);
    bytes.extend(frame(0x80, &[0xc3]));
    let mut decoder = Decoder::default();
    let mut input = &bytes[..];
    let event = decoder.decode(&mut input, &LIMITS, Some(&mut Reverse));
    assert_eq!(event, Ok(Some(Event::Text("é".into()))));
    // Without the extension, RSV1 is a protocol error.
    assert_eq!(code(&bytes), Some(1002));
    // RSV1 on a continuation or a control frame is one even with it.
    for bad in [[0x01u8, 0xc0], [0x81, 0xc9]] {
        let mut bytes = frame(bad[0], b"a");
        bytes.extend(frame(bad[1], b"b"));
        let mut decoder = Decoder::default();
        let mut input = &bytes[..];
        let mut result = decoder.decode(&mut input, &LIMITS, Some(&mut Reverse));
        if let Ok(Some(_)) = result {
            result = decoder.decode(&mut input, &LIMITS, Some(&mut Reverse));
        }
        assert_eq!(result.map_err(|f| f.code), Err(1002), "{bad:x?}");
    }
}

#[test]
fn an_idle_decoder_owns_nothing() {
    let bytes = frame(0x81, b"hello");
    let mut decoder = Decoder::default();
    let mut input = &bytes[..3];
    assert_eq!(decoder.decode(&mut input, &LIMITS, None), Ok(None));
    assert!(decoder.is_mid_frame());
    let mut input = &bytes[3..];
    assert!(decoder.decode(&mut input, &LIMITS, None).unwrap().is_some());
    assert!(!decoder.is_mid_frame());
    assert!(
        std::mem::size_of::<Decoder>() <= 96,
        "{}",
        std::mem::size_of::<Decoder>()
    );
}

#[test]
fn unmasking_undoes_the_mask_at_any_length_and_phase() {
    let key = [0x12, 0x34, 0x56, 0x78];
    // Past 64: two 32-byte blocks and a remainder, cut anywhere (any phase).
    for len in (0..21).chain([31, 32, 33, 63, 64, 65, 97]) {
        let plain: Vec<u8> = (0..len as u8).collect();
        let masked: Vec<u8> = plain
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        assert_eq!(unmask(&masked, key), plain);
        for cut in 0..len {
            let mut out = Vec::new();
            head::unmask_into(&mut out, &masked[..cut], key, 0);
            head::unmask_into(&mut out, &masked[cut..], key, cut);
            assert_eq!(out, plain);
        }
    }
}

#[test]
fn server_frames_encode_as_tungstenite_reads_them() {
    let mut out = Vec::new();
    encode_message(&mut out, opcode::TEXT, b"hi");
    encode(&mut out, false, opcode::BINARY, &[1; 300]);
    encode(&mut out, true, opcode::CONTINUATION, &[2; 70000]);
    encode_close(&mut out, Some(1000), &"é".repeat(100));
    encode_close(&mut out, None, "ignored");
    assert_eq!(&out[..4], &[0x81, 2, b'h', b'i']);
    assert_eq!(&out[4..8], &[0x02, 126, 1, 44]);
    // The reason is cut at a character boundary within 123 bytes: 61 two-byte characters.
    let close = &out[out.len() - 2 - 124 - 2..out.len() - 2];
    assert_eq!(close[..4], [0x88, 124, 0x03, 0xe8]);
    assert!(std::str::from_utf8(&close[4..]).is_ok());
    assert_eq!(&out[out.len() - 2..], &[0x88, 0]);
}

#[test]
fn whole_frames_are_unmasked_in_place_and_the_rest_left_untouched() {
    use crate::message_ref::MessageRef;
    // Text and binary, 7-bit and 16-bit lengths, then what the decoder must take instead.
    let mut stream = frame(0x81, b"hello");
    stream.extend(frame(0x82, &[7u8; 300]));
    let mut buf = stream.clone();
    let first = whole_in_place(&mut buf, &LIMITS).expect("a whole text frame");
    assert_eq!(
        (first.text, first.start, first.len, first.used),
        (true, 6, 5, 11)
    );
    let payload = &buf[first.start..first.start + first.len];
    assert_eq!(checked(first.text, payload), Ok(MessageRef::Text("hello")));
    let rest = &mut buf[first.used..];
    let second = whole_in_place(rest, &LIMITS).expect("a whole binary frame");
    assert_eq!((second.text, second.start, second.len), (false, 8, 300));
    assert_eq!(
        checked(false, &rest[8..308]),
        Ok(MessageRef::Binary(&[7u8; 300][..]))
    );

    for other in [
        frame(0x01, b"not fin"),
        frame(0xc1, b"rsv1"),
        frame(0x89, b"ping"),
        frame(0x80, b"continuation"),
        frame(0x81, b"cut")[..8].to_vec(),
        frame(0x82, &vec![0; LIMITS.max_frame + 1]),
    ] {
        let mut buf = other.clone();
        assert_eq!(whole_in_place(&mut buf, &LIMITS), None);
        assert_eq!(
            buf, other,
            "bytes the decoder will read must not be unmasked"
        );
    }
    // Invalid UTF-8 is found by the check, with the decoder's close code.
    let mut bad = frame(0x81, &[0xff, 0xfe]);
    let whole = whole_in_place(&mut bad, &LIMITS).unwrap();
    assert_eq!(
        checked(whole.text, &bad[whole.start..whole.start + whole.len]),
        Err(Failure::utf8())
    );
}
