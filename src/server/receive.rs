//! Handing a client's message to the handler: owned, or lent where it was read.

use crate::client::ClientId;
use crate::codec;
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

    /// A whole message unmasked in the read buffer, `len` bytes at `start`: lent to
    /// [`Handler::on_message_ref`] once its text is checked. Returns whether the connection
    /// still exists.
    pub(crate) fn on_message_in_place(
        &mut self,
        slot: usize,
        id: ClientId,
        text: bool,
        (start, len): (usize, usize),
    ) -> bool {
        // Lent out of the loop for the call: the handler's context borrows the loop's other
        // fields, and nothing reads a socket until the call returns.
        let ahead = std::mem::replace(&mut self.ahead, ReadAhead::lent());
        let failure = match codec::checked(text, ahead.taken(start, len)) {
            Ok(message) => {
                self.stats.messages_in += 1;
                self.stats.bytes_in += len as u64;
                self.call(id, "on_message", |handler, ctx, state| {
                    handler.on_message_ref(ctx, state, message)
                });
                None
            }
            Err(failure) => Some(failure),
        };
        self.ahead = ahead;
        match failure {
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
