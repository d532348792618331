//! Client identities that never alias.

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
