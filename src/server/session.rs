//! What the server keeps per connection for the handler: its [`State`](crate::Handler::State)
//! and the handshake request, beside the connection slab, indexed by the same slot.
//!
//! Kept apart from `Conn` so that the connection (and the codec under it) need not be generic
//! over the handler. A handler call borrows the session in its slot while the context borrows the
//! slab and the outbox (other fields of the loop), so the state is `&mut`: no `RefCell`.
//!
//! The request is kept as its head's bytes, parsed again only when a handler asks for it
//! ([`ClientContext::request`](crate::ClientContext::request)) and dropped after that call: a
//! parsed `http::Request` costs about 2 KiB for a browser's dozen headers, which would triple an
//! idle connection's memory, while the head's bytes are a few hundred.

use std::cell::OnceCell;

use crate::connection::http;
use crate::handler::kept_request::KeptRequest;
use crate::request::Request;

/// One connection's handler state and request.
pub(crate) struct Session<S> {
    state: S,
    /// The handshake request, kept from the upgrade. Handler calls about a client come only
    /// once it is open (`on_open` first), so no flag says so: the slot stays 8 bytes smaller.
    kept: KeptRequest,
}

impl<S> Session<S> {
    /// The connection has opened: keep what the handshake settled, and the request already
    /// parsed for `on_open`.
    pub(crate) fn open(&mut self, request: Box<Request>) {
        self.kept.protocol = request.protocol.clone().map(String::into_boxed_str);
        self.kept.extensions = request.extensions.clone().map(String::into_boxed_str);
        // The one `on_open` gets has every header of the handshake; later ones are parsed from
        // the kept head.
        let _ = self.kept.parsed.set(request);
    }

    /// The request and the state, for a handler call.
    pub(crate) fn parts(&mut self) -> (&KeptRequest, &mut S) {
        (&self.kept, &mut self.state)
    }

    /// The same, for the last call (`on_close`), which takes the state.
    pub(crate) fn into_parts(self) -> (KeptRequest, S) {
        (self.kept, self.state)
    }

    /// After a handler call: drop the parsed request, keep the head.
    pub(crate) fn forget_parsed(&mut self) {
        self.kept.parsed.take();
    }
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
    /// Starts the session of the connection in `slot` (replacing any left there), with its
    /// handshake request's head.
    pub(crate) fn insert(&mut self, slot: usize, state: S, head: &[u8]) {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        self.slots[slot] = Some(Session {
            state,
            kept: KeptRequest {
                head: http::kept_head(head),
                protocol: None,
                extensions: None,
                parsed: OnceCell::new(),
            },
        });
    }

    /// Takes the session out of `slot` (for a handler call, or for good).
    pub(crate) fn take(&mut self, slot: usize) -> Option<Session<S>> {
        self.slots.get_mut(slot).and_then(Option::take)
    }

    /// The session of `slot`, in place (for a handler call).
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: usize) -> Option<&mut Session<S>> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
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
