//! What goes over Redis: a message tagged with its instance, and the checks on what comes back.

use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use log::{debug, warn};

use crate::message::Message;
use crate::text::Text;

/// Bytes of a relayed message before its payload: the instance id (8) and its kind (1).
pub(super) const HEADER: usize = 9;

/// A message from the channel: delivered unless it is ours, not one of ours, or too large.
pub(super) fn receive(
    payload: &[u8],
    instance: u64,
    max_message_size: usize,
    dropped: &AtomicU64,
    deliver: &dyn Fn(Message),
) {
    if payload.len().saturating_sub(HEADER) > max_message_size {
        let n = dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let len = payload.len() - HEADER;
        if n == 0 {
            warn!("redis: dropped a message of {len} bytes from the channel, over max_message_size ({max_message_size}); further drops are logged at debug level");
        } else {
            debug!("redis: dropped a message of {len} bytes from the channel");
        }
        return;
    }
    match decode(payload) {
        Some((from, _)) if from == instance => {}
        Some((from, message)) => {
            debug!("redis: delivered a message from instance {from:016x}");
            deliver(message)
        }
        None => debug!("redis: ignored a message not from a simple-ws-server relay"),
    }
}

/// The wire form of a relayed message: the instance id (8 bytes), `T` or `B`, the payload.
pub(super) fn encode(instance: u64, message: &Message) -> Vec<u8> {
    let payload = message.as_bytes();
    let mut bytes = Vec::with_capacity(HEADER + payload.len());
    bytes.extend_from_slice(&instance.to_be_bytes());
    bytes.push(if message.is_text() { b'T' } else { b'B' });
    bytes.extend_from_slice(payload);
    bytes
}

/// The sender's id and the message, or `None` for something that is not one of ours.
pub(super) fn decode(bytes: &[u8]) -> Option<(u64, Message)> {
    let (id, rest) = bytes.split_first_chunk::<8>()?;
    let (&kind, payload) = rest.split_first()?;
    let payload = Bytes::copy_from_slice(payload);
    let message = match kind {
        b'T' => Message::Text(Text::try_from(payload).ok()?),
        b'B' => Message::Binary(payload),
        _ => return None,
    };
    Some((u64::from_be_bytes(*id), message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn payloads_round_trip_and_reject_strangers() {
        let text = Message::from("127.0.0.1 - hello");
        let (id, back) = decode(&encode(42, &text)).unwrap();
        assert_eq!((id, back), (42, text));
        let binary = Message::Binary(Bytes::from_static(&[0xde, 0xad]));
        assert_eq!(decode(&encode(7, &binary)).unwrap().1, binary);
        assert!(decode(b"short").is_none());
        let mut bad_utf8 = encode(1, &Message::Binary(Bytes::from_static(&[0xff])));
        bad_utf8[8] = b'T';
        assert!(decode(&bad_utf8).is_none());
    }

    #[test]
    fn a_message_from_the_channel_over_the_size_limit_is_dropped_and_counted() {
        let dropped = AtomicU64::new(0);
        let got = std::sync::Mutex::new(Vec::new());
        let deliver = |m: Message| got.lock().unwrap().push(m);
        receive(
            &encode(1, &Message::from("x".repeat(11))),
            2,
            10,
            &dropped,
            &deliver,
        );
        receive(
            &encode(1, &Message::from("x".repeat(10))),
            2,
            10,
            &dropped,
            &deliver,
        );
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
        assert_eq!(got.lock().unwrap().len(), 1);
    }
}
