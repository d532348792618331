//! Handing a client's message to the handler: owned, or lent where it was read.

use crate::client::ClientId;
use crate::codec;
use crate::connection::incoming::frame_limits;
use crate::connection::read_ahead::ReadAhead;
use crate::handler::Handler;
use crate::message::Message;
use crate::server::event_loop::EventLoop;

impl<H: Handler> EventLoop<H> {
    /// A message assembled by the decoder (fragmented, compressed, or split across reads).
    pub(crate) fn on_owned_message(&mut self, id: ClientId, message: Message) {
        self.stats.messages_in += 1;
        self.stats.bytes_in += message.len() as u64;
        self.call(id, "on_message", |handler, ctx, state| {
            handler.on_message(ctx, state, message)
        });
    }

    /// A whole message unmasked in the read buffer, `len` bytes at `start`, lent to
    /// [`Handler::on_message_ref`] once its text is checked; then, within the same handler call
    /// (one context, one panic guard), each whole frame after it in the buffer, while `budget`
    /// lasts and nothing waits to be applied first (see
    /// [`lends_more`](crate::handler::client_context::ClientContext::lends_more)). Returns
    /// whether the connection still exists.
    pub(crate) fn on_message_in_place(
        &mut self,
        slot: usize,
        id: ClientId,
        (text, start, len): (bool, usize, usize),
        budget: &mut u32,
    ) -> bool {
        // Lent out of the loop for the call: the handler's context borrows the loop's other
        // fields, and nothing reads a socket until the call returns.
        let mut ahead = std::mem::replace(&mut self.ahead, ReadAhead::lent());
        let limits = frame_limits(&self.config);
        let outcome = self.call(id, "on_message", |handler, ctx, state| {
            let (mut text, mut start, mut len) = (text, start, len);
            loop {
                let message = match codec::checked(text, ahead.taken(start, len)) {
                    Ok(message) => message,
                    Err(failure) => return Some(failure),
                };
                ctx.stats.messages_in += 1;
                ctx.stats.bytes_in += len as u64;
                handler.on_message_ref(ctx, state, message);
                if *budget == 0 || !ctx.lends_more() {
                    return None;
                }
                // The frame after it, if it too is whole (the read loop decodes anything else).
                let (unread, offset) = ahead.unread_mut();
                let whole = codec::whole_in_place(unread, &limits)?;
                ahead.consume(whole.used);
                *budget -= 1;
                (text, start, len) = (whole.text, offset + whole.start, whole.len);
            }
        });
        self.ahead = ahead;
        match outcome.flatten() {
            None => true,
            Some(failure) => {
                let Some(conn) = self.conns.get_mut(slot) else {
                    return false;
                };
                log::debug!("{}: {}", conn.peer, failure.reason);
                let progress = conn.fail(failure.code, failure.reason);
                self.on_progress(slot, progress)
            }
        }
    }
}
