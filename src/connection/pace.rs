//! What flow control keeps per connection (the policy itself is `server/flow.rs`).

/// A connection's flow state: the one field flow control adds to [`Conn`](super::Conn), packed into 16 bits
/// so the connection slot does not grow: the top bit says the backlog passed the high-water mark
/// and has not yet fallen below the low one; the rest counts the recipients above the mark that
/// this client's messages went to (`Pace`): while that is above 0 the client is not read.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ConnFlow(u16);

const ABOVE: u16 = 1 << 15;

impl ConnFlow {
    /// Whether reading this connection is paused.
    pub(crate) fn paused(&self) -> bool {
        self.blockers() > 0
    }

    /// Whether the backlog is above the high-water mark (until it falls below the low one).
    pub(crate) fn above(&self) -> bool {
        self.0 & ABOVE != 0
    }

    pub(crate) fn set_above(&mut self, above: bool) {
        self.0 = if above {
            self.0 | ABOVE
        } else {
            self.0 & !ABOVE
        };
    }

    pub(crate) fn blockers(&self) -> u16 {
        self.0 & !ABOVE
    }

    /// Counts one more blocker; false (and no count) at the counter's limit, 32,767 (a
    /// sender over more recipients above the mark than that resumes when those counted drain).
    pub(crate) fn block(&mut self) -> bool {
        if self.blockers() == !ABOVE {
            return false;
        }
        self.0 += 1;
        true
    }

    /// Counts one blocker less; true when that was the last.
    pub(crate) fn unblock(&mut self) -> bool {
        if self.blockers() == 0 {
            return false;
        }
        self.0 -= 1;
        self.blockers() == 0
    }

    /// Forgets every blocker; true when there were any.
    pub(crate) fn unblock_all(&mut self) -> bool {
        let had = self.blockers() > 0;
        self.0 &= ABOVE;
        had
    }
}
