//! Identities handed to the handler: clients (that never alias) and timers.

use std::fmt;

/// Identifies one connected client for the lifetime of its connection.
///
/// An id is a slot number plus a generation: when a client leaves and a new one takes its slot,
/// the new client gets a new generation, so a message addressed to the old id is dropped rather
/// than delivered to a stranger.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

impl ClientId {
    pub(crate) fn new(slot: usize, generation: u32) -> Self {
        ClientId {
            slot: slot as u32,
            generation,
        }
    }

    pub(crate) fn slot(self) -> usize {
        self.slot as usize
    }

    /// The id as one number, unique among the ids this server has handed out (until 2^32
    /// connections have reused the same slot); useful as a map key or in logs.
    pub fn as_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.slot)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({}.{})", self.slot, self.generation)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.slot, self.generation)
    }
}

/// Names a timer set with [`Context::set_timer`](crate::Context::set_timer); given back to
/// [`Handler::on_timer`](crate::Handler::on_timer) when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub(crate) u64);

impl TimerId {
    /// The id as a number, unique for the server's lifetime.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}
