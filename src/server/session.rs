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

use crate::handler::kept_request::KeptRequest;
use crate::request::Request;

/// One connection's handler state and request.
pub(crate) struct Session<S> {
    pub(crate) state: S,
    /// The handshake request's head, until the connection opens.
    head: Option<Box<[u8]>>,
    /// The request, once the connection is open.
    pub(crate) request: Option<Box<KeptRequest>>,
}

impl<S> Session<S> {
    /// The connection has opened: keep its request (already parsed for `on_open`).
    pub(crate) fn open(&mut self, mut request: Box<Request>) {
        let head = self.head.take().unwrap_or_default();
        let kept = KeptRequest {
            head,
            peer: request.peer,
            protocol: request.protocol.take(),
            extensions: request.extensions.take(),
            parsed: OnceCell::new(),
        };
        request.protocol.clone_from(&kept.protocol);
        request.extensions.clone_from(&kept.extensions);
        let _ = kept.parsed.set(request);
        self.request = Some(Box::new(kept));
    }

    /// After a handler call: drop the parsed request, keep the head.
    pub(crate) fn forget_parsed(&mut self) {
        if let Some(kept) = &mut self.request {
            kept.parsed.take();
        }
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
    pub(crate) fn insert(&mut self, slot: usize, state: S, head: Vec<u8>) {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        self.slots[slot] = Some(Session {
            state,
            head: Some(head.into_boxed_slice()),
            request: None,
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
