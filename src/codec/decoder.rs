//! The incoming side: bytes in, events out.

use super::head::{self, Head, MAX_HEAD};
use super::{close, opcode, Failure, Inflate, Limits};

/// What a client said, frame by frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A whole text message (valid UTF-8).
    Text(String),
    /// A whole binary message.
    Binary(Vec<u8>),
    /// A ping and its payload, for the pong.
    Ping(Vec<u8>),
    /// A pong and its payload.
    Pong(Vec<u8>),
    /// A close frame: its code and reason, `None` when it had no payload (1005).
    Close(Option<(u16, String)>),
}

/// The decoder's state between reads: a partial frame header, the frame being read, the message
/// being assembled. Idle, it owns no heap memory.
#[derive(Default)]
pub(crate) struct Decoder {
    /// Bytes of a header that arrived without the rest.
    head: [u8; MAX_HEAD],
    head_len: u8,
    /// A frame's payload is being read.
    in_frame: bool,
    frame_fin: bool,
    frame_op: u8,
    key: [u8; 4],
    /// Payload bytes of the frame already read, modulo 4: where the mask stands.
    phase: u8,
    /// Payload bytes of the frame not read yet.
    left: u64,
    /// The data message being assembled: 0 when none, else its opcode (text or binary).
    message_op: u8,
    /// Its first frame had RSV1 set: the extension's [`Inflate`] gets its payload.
    compressed: bool,
    /// The text message's bytes checked as UTF-8 so far (the rest may end inside a character).
    checked: usize,
    message: Vec<u8>,
    /// The payload of the control frame being read (at most 125 bytes). Boxed: 8 bytes in every
    /// idle connection's state instead of a vector's 24, for frames that come a few per minute.
    #[allow(
        clippy::box_collection,
        reason = "the box is the point: 8 bytes per idle connection instead of 24"
    )]
    control: Option<Box<Vec<u8>>>,
}

impl Decoder {
    /// Whether a frame or message has begun and not ended: bytes are owed.
    pub(crate) fn is_mid_frame(&self) -> bool {
        self.head_len > 0 || self.in_frame || self.message_op != 0
    }

    /// Decodes from `input`, advancing it past what was used, until one event is complete
    /// (`Ok(Some)`) or `input` is used up (`Ok(None)`: all of it was taken). RSV1 on a data
    /// message's first frame is accepted only with an `inflate` step. After an error the decoder
    /// must not be used again.
    pub(crate) fn decode(
        &mut self,
        input: &mut &[u8],
        limits: &Limits,
        mut inflate: Option<&mut dyn Inflate>,
    ) -> Result<Option<Event>, Failure> {
        let extension = inflate.is_some();
        loop {
            if !self.in_frame {
                let Some(head) = self.take_head(input) else {
                    return Ok(None);
                };
                self.start_frame(head, limits, extension)?;
            }
            let take = usize::try_from(self.left)
                .unwrap_or(usize::MAX)
                .min(input.len());
            let (chunk, rest) = input.split_at(take);
            *input = rest;
            self.left -= take as u64;
            let done = self.left == 0;
            if self.frame_op & 0x8 != 0 {
                let control = self.control.get_or_insert_with(Box::default);
                head::unmask_into(control, chunk, self.key, self.phase.into());
            } else {
                if self.message.is_empty() && done && self.frame_fin {
                    // A whole message in one piece: allocate exactly its size.
                    self.message = Vec::with_capacity(take);
                }
                head::unmask_into(&mut self.message, chunk, self.key, self.phase.into());
                if self.message_op == opcode::TEXT && !self.compressed && !(done && self.frame_fin)
                {
                    self.check_utf8()?;
                }
            }
            self.phase = ((usize::from(self.phase) + take) & 3) as u8;
            if !done {
                return Ok(None);
            }
            self.in_frame = false;
            if let Some(event) = self.end_frame(limits, &mut inflate)? {
                return Ok(Some(event));
            }
        }
    }

    /// The next header, from the bytes kept and `input`; `None` once `input` is used up
    /// without completing it (its start is kept).
    fn take_head(&mut self, input: &mut &[u8]) -> Option<Head> {
        if self.head_len == 0 {
            // Most headers arrive whole: parse them where they are.
            if let Some(&second) = input.get(1) {
                let len = head::head_len(second);
                if input.len() >= len {
                    let parsed = head::parse(&input[..len]);
                    *input = &input[len..];
                    return parsed;
                }
            }
        }
        loop {
            let have = usize::from(self.head_len);
            let need = if have < 2 {
                2
            } else {
                head::head_len(self.head[1])
            };
            if have == need {
                self.head_len = 0;
                return head::parse(&self.head[..need]);
            }
            if input.is_empty() {
                return None;
            }
            let n = (need - have).min(input.len());
            self.head[have..have + n].copy_from_slice(&input[..n]);
            self.head_len += n as u8;
            *input = &input[n..];
        }
    }

    /// Checks a header against the rules and the state, and starts reading its payload.
    fn start_frame(&mut self, head: Head, limits: &Limits, extension: bool) -> Result<(), Failure> {
        head.check(limits)?;
        if head.rsv1 && !extension {
            return Err(Failure::protocol("reserved bits set"));
        }
        if !head.is_control() {
            match (head.opcode, self.message_op) {
                // "a continuation frame ... with nothing to continue" (RFC 6455, 5.4)
                (opcode::CONTINUATION, 0) => {
                    return Err(Failure::protocol("continuation frame without a message"))
                }
                (opcode::CONTINUATION, _) => {}
                // "the fragments of one message MUST NOT be interleaved between the fragments
                // of another message" (RFC 6455, 5.4)
                (_, 0) => {}
                _ => return Err(Failure::protocol("new message inside a fragmented one")),
            }
            // The message limit, from the header: the payload is never buffered past it.
            let total = (self.message.len() as u64).saturating_add(head.len);
            if total > limits.max_message as u64 {
                return Err(Failure::too_big("message too big"));
            }
            if head.opcode != opcode::CONTINUATION {
                self.message_op = head.opcode;
                self.compressed = head.rsv1;
                self.checked = 0;
            }
        } else {
            self.control = Some(Box::new(Vec::with_capacity(head.len as usize)));
        }
        self.in_frame = true;
        self.frame_fin = head.fin;
        self.frame_op = head.opcode;
        // `check` refused unmasked frames.
        self.key = head.mask.unwrap_or_default();
        self.phase = 0;
        self.left = head.len;
        Ok(())
    }

    /// Checks the text received so far: fails at the first byte that cannot start or continue
    /// a character, even inside a frame not yet whole (Autobahn 6.4.3, 6.4.4); a character cut
    /// at the end waits for its next bytes. Each byte is checked once (plus at most three of a
    /// cut character).
    fn check_utf8(&mut self) -> Result<(), Failure> {
        match std::str::from_utf8(&self.message[self.checked..]) {
            Ok(_) => self.checked = self.message.len(),
            Err(e) if e.error_len().is_some() => return Err(Failure::utf8()),
            Err(e) => self.checked += e.valid_up_to(),
        }
        Ok(())
    }

    /// The control frame's payload, read whole.
    fn take_control(&mut self) -> Vec<u8> {
        self.control
            .take()
            .map(|control| *control)
            .unwrap_or_default()
    }

    /// A frame's payload is all in: an event if it ended a message or was a control frame.
    fn end_frame(
        &mut self,
        limits: &Limits,
        inflate: &mut Option<&mut dyn Inflate>,
    ) -> Result<Option<Event>, Failure> {
        match self.frame_op {
            opcode::PING => Ok(Some(Event::Ping(self.take_control()))),
            opcode::PONG => Ok(Some(Event::Pong(self.take_control()))),
            opcode::CLOSE => {
                let payload = self.take_control();
                Ok(Some(Event::Close(close::parse(&payload)?)))
            }
            _ if !self.frame_fin => Ok(None),
            _ => {
                let mut bytes = std::mem::take(&mut self.message);
                let op = std::mem::replace(&mut self.message_op, 0);
                if std::mem::take(&mut self.compressed) {
                    let mut inflated = Vec::new();
                    match inflate {
                        Some(step) => step.inflate(&bytes, &mut inflated, limits.max_message)?,
                        None => return Err(Failure::protocol("reserved bits set")),
                    }
                    if inflated.len() > limits.max_message {
                        return Err(Failure::too_big("message too big"));
                    }
                    bytes = inflated;
                }
                if op == opcode::TEXT {
                    // "When an endpoint is to interpret a byte stream as UTF-8 but finds that
                    // the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST
                    // _Fail the WebSocket Connection_." (RFC 6455, 8.1)
                    let text = String::from_utf8(bytes).map_err(|_| Failure::utf8())?;
                    Ok(Some(Event::Text(text)))
                } else {
                    Ok(Some(Event::Binary(bytes)))
                }
            }
        }
    }
}
