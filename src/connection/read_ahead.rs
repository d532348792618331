//! One large read buffer for the whole loop, lent to the connection being read.
//!
//! A large per-connection buffer costs memory for every idle client; a small one costs a system
//! call per few hundred bytes. The socket is read in large chunks into this one shared buffer,
//! and the connection's decoder (`codec/`) takes frames straight out of it: it keeps only a
//! partial frame header and the message being assembled, never raw bytes.
//!
//! Invariant: the buffer holds bytes of one connection only while that connection is being read.
//! The loop reads a connection until it would block (which happens only when the buffer is
//! empty) or until the connection is gone, and calls [`ReadAhead::clear`] before reading another.
//! A caller that stops early keeps the rest with `Conn::keep_unread`.
//!
//! A short read drains the socket: when a plain TCP read returns fewer bytes than the room it was
//! given, the kernel's receive queue was empty at that moment, and any byte that arrives later
//! raises a new edge-triggered event (epoll signals every arrival on a socket, whether or not the
//! reader saw `EAGAIN`). So the loop stops there instead of making one more read that fails with
//! `WouldBlock`: a third fewer system calls per event in pipelined echo (`strace -c` in
//! BENCHMARKS.md). tokio's `TcpStream` clears readiness on a short read by the same rule. TLS
//! reads return plaintext, whose size says nothing about the socket: they read on until
//! `WouldBlock`.

use std::io::{self, Read};

use crate::connection::stream::Stream;

/// Size of the shared buffer: one system call reads up to this much.
pub(crate) const READ_AHEAD: usize = 64 * 1024;

pub(crate) struct ReadAhead {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// The last read was short on a plain socket: it is drained until its next event.
    drained: bool,
}

impl ReadAhead {
    pub(crate) fn new() -> Self {
        ReadAhead {
            buf: vec![0; READ_AHEAD].into_boxed_slice(),
            start: 0,
            end: 0,
            drained: false,
        }
    }

    /// A buffer of no size, standing in while the real one is lent out (no allocation).
    pub(crate) fn lent() -> Self {
        ReadAhead {
            buf: Box::default(),
            start: 0,
            end: 0,
            drained: false,
        }
    }

    /// Drops bytes left over from a connection that has gone.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.drained = false;
    }

    /// Whether the socket read last was left empty by a short read (see the module's notes):
    /// reading it again before its next event would only return `WouldBlock`.
    pub(crate) fn drained(&self) -> bool {
        self.drained
    }

    /// The whole buffer as scratch space, for reads that are not decoded (handshakes, draining).
    pub(crate) fn scratch(&mut self) -> &mut [u8] {
        self.clear();
        &mut self.buf
    }

    /// The bytes read and not yet taken.
    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The bytes read and not yet taken, to decode in place, and where they start in the
    /// buffer.
    pub(crate) fn unread_mut(&mut self) -> (&mut [u8], usize) {
        (&mut self.buf[self.start..self.end], self.start)
    }

    /// Bytes already taken (a message decoded in place), until the next read refills the
    /// buffer.
    pub(crate) fn taken(&self, start: usize, len: usize) -> &[u8] {
        self.buf.get(start..start + len).unwrap_or_default()
    }

    /// Takes `n` unread bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Puts back bytes a connection kept (those that came with its handshake) at the front of
    /// the buffer, which must be empty.
    pub(crate) fn restore(&mut self, kept: &[u8]) {
        debug_assert_eq!(self.start, self.end, "restore into a buffer in use");
        // At most a handshake's or a buffer's worth, both within the buffer's size.
        let len = kept.len().min(self.buf.len());
        self.buf[..len].copy_from_slice(&kept[..len]);
        self.start = 0;
        self.end = len;
    }

    /// Reads more from `stream` after the unread bytes (moved to the front first).
    pub(crate) fn fill(&mut self, stream: &mut Stream) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let room = self.buf.len() - self.end;
        let n = stream.read(&mut self.buf[self.end..])?;
        self.end += n;
        self.drained = n > 0 && n < room && stream.is_plain();
        Ok(n)
    }
}
