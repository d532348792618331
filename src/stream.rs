//! The byte stream under a connection: plain TCP (TLS is added as a second kind).

use std::io::{self, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;

/// A client's socket as the connection reads and writes it.
pub(crate) enum Stream {
    /// ws:// — the TCP socket itself.
    Plain(TcpStream),
}

impl Stream {
    /// The TCP socket, to register with the poll.
    pub(crate) fn tcp(&mut self) -> &mut TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
        }
    }

    /// Sends FIN after everything written so far; reads go on until the peer closes too.
    pub(crate) fn shutdown_write(&mut self) {
        // Failing here means the peer is already gone, which the next read reports.
        let _ = self.tcp().shutdown(Shutdown::Write);
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
        }
    }
}
