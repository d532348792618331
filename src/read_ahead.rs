//! One large read buffer for the whole loop, lent to the connection being read.
//!
//! tungstenite keeps a read buffer per connection and reads at most that buffer's size per call.
//! A large per-connection buffer costs memory for every idle client; a small one costs a system
//! call per few hundred bytes. Reading through [`ReadAhead`] gets both: tungstenite keeps a small
//! buffer, and the socket is read in large chunks into this one shared buffer, from which
//! tungstenite's small reads are served by copying.
//!
//! Invariant: the buffer holds bytes of one connection only while that connection is being read.
//! The loop reads a connection until it would block (which happens only when the buffer is
//! empty) or until the connection is gone, and calls [`ReadAhead::clear`] before reading another.

use std::io::{self, Read, Write};

use crate::stream::Stream;

/// Size of the shared buffer: one system call reads up to this much.
pub(crate) const READ_AHEAD: usize = 64 * 1024;

pub(crate) struct ReadAhead {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl ReadAhead {
    pub(crate) fn new() -> Self {
        ReadAhead {
            buf: vec![0; READ_AHEAD].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// Drops bytes left over from a connection that has gone.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// The whole buffer as scratch space, for reads that do not go through tungstenite.
    pub(crate) fn scratch(&mut self) -> &mut [u8] {
        self.clear();
        &mut self.buf
    }

    /// The bytes read and not yet taken.
    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Takes `n` unread bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Puts back bytes a connection kept from its last read (the start of a frame header) at
    /// the front of the buffer, which must be empty.
    pub(crate) fn restore(&mut self, kept: &[u8]) {
        debug_assert_eq!(self.start, self.end, "restore into a buffer in use");
        // At most a handshake's worth, which the configuration keeps under the buffer's size.
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
        let n = stream.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// A reader and writer over `stream` whose reads are served from this buffer.
    pub(crate) fn over<'a>(
        &'a mut self,
        stream: &'a mut Stream,
        out: &'a mut Vec<u8>,
    ) -> Buffered<'a> {
        Buffered {
            ahead: self,
            stream,
            out,
            limit: None,
        }
    }

    /// Like [`over`](Self::over), but reads end (with `WouldBlock`) after `limit` bytes, which
    /// counts down: tungstenite is handed one frame and never reads past it.
    pub(crate) fn limited<'a>(
        &'a mut self,
        stream: &'a mut Stream,
        out: &'a mut Vec<u8>,
        limit: &'a mut u64,
    ) -> Buffered<'a> {
        Buffered {
            ahead: self,
            stream,
            out,
            limit: Some(limit),
        }
    }
}

/// Reads through the shared buffer; writes append to the connection's outgoing buffer (see
/// [`Appender`]).
pub(crate) struct Buffered<'a> {
    ahead: &'a mut ReadAhead,
    stream: &'a mut Stream,
    out: &'a mut Vec<u8>,
    limit: Option<&'a mut u64>,
}

impl Read for Buffered<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut want = out.len();
        if let Some(limit) = &self.limit {
            if **limit == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            want = want.min(usize::try_from(**limit).unwrap_or(usize::MAX));
        }
        let ahead = &mut *self.ahead;
        if ahead.start == ahead.end {
            ahead.clear();
            if ahead.fill(self.stream)? == 0 {
                return Ok(0);
            }
        }
        let n = want.min(ahead.end - ahead.start);
        if let Some(limit) = &mut self.limit {
            **limit -= n as u64;
        }
        out[..n].copy_from_slice(&ahead.buf[ahead.start..ahead.start + n]);
        ahead.start += n;
        Ok(n)
    }
}

impl Write for Buffered<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Appender(self.out).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What tungstenite writes to: the connection's one outgoing buffer, which only the connection's
/// flush writes to the socket. The frames tungstenite makes (pongs, pings, close frames) land in
/// the order they were made among the data frames the server encodes itself, and no frame is
/// ever interleaved with a partly written one.
pub(crate) struct Appender<'a>(pub(crate) &'a mut Vec<u8>);

impl Read for Appender<'_> {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Appender<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
