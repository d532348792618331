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

    /// A reader and writer over `stream` whose reads are served from this buffer.
    pub(crate) fn over<'a>(&'a mut self, stream: &'a mut Stream) -> Buffered<'a> {
        Buffered {
            ahead: self,
            stream,
        }
    }
}

pub(crate) struct Buffered<'a> {
    ahead: &'a mut ReadAhead,
    stream: &'a mut Stream,
}

impl Read for Buffered<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let ahead = &mut *self.ahead;
        if ahead.start == ahead.end {
            if out.len() >= ahead.buf.len() {
                return self.stream.read(out);
            }
            let n = self.stream.read(&mut ahead.buf)?;
            ahead.start = 0;
            ahead.end = n;
            if n == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(ahead.end - ahead.start);
        out[..n].copy_from_slice(&ahead.buf[ahead.start..ahead.start + n]);
        ahead.start += n;
        Ok(n)
    }
}

impl Write for Buffered<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.stream.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}
