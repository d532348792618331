//! What the server keeps per connection for the handler: its [`State`](crate::Handler::State)
//! and the handshake request, beside the connection slab, indexed by the same slot.
//!
//! Kept apart from `Conn` so that the connection (and the codec under it) need not be generic
//! over the handler. A handler call takes the session out of its slot and puts it back after,
//! so the state is `&mut` while the context borrows the slab: no `RefCell`.

use crate::request::Request;

/// One connection's handler state and request.
pub(crate) struct Session<S> {
    pub(crate) state: S,
    /// The handshake request; set when the connection opens (before, it travels with the
    /// connection's upgrade).
    pub(crate) request: Option<Box<Request>>,
}

/// Sessions by slab slot.
pub(crate) struct Sessions<S> {
    slots: Vec<Option<Session<S>>>,
}

impl<S> Default for Sessions<S> {
    fn default() -> Self {
        Sessions { slots: Vec::new() }
    }
}

impl<S> Sessions<S> {
    /// Starts the session of the connection in `slot`, replacing any left there.
    pub(crate) fn insert(&mut self, slot: usize, state: S) {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        self.slots[slot] = Some(Session {
            state,
            request: None,
        });
    }

    /// Takes the session out of `slot` (for a handler call, or for good).
    pub(crate) fn take(&mut self, slot: usize) -> Option<Session<S>> {
        self.slots.get_mut(slot).and_then(Option::take)
    }

    /// Puts a session taken with [`take`](Self::take) back.
    pub(crate) fn put(&mut self, slot: usize, session: Session<S>) {
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = Some(session);
        }
    }

    /// Drops the session of `slot`, if any (the connection is gone).
    pub(crate) fn forget(&mut self, slot: usize) {
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = None;
        }
    }
}
