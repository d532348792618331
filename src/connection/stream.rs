//! The byte stream under a connection: plain TCP, or TLS over TCP.
//!
//! The TLS side is driven by hand (`read_tls`, `process_new_packets`, `write_tls`) rather than
//! through `rustls::StreamOwned`'s own `Read`/`Write`, whose `complete_io` can loop while a
//! non-blocking socket blocks both ways. The TLS handshake thus rides inside the HTTP request's
//! reads: every read that would block returns `WouldBlock`, and TLS output that did not fit in the
//! socket is written on the next writable event (the connection's `flush`).

#[cfg(feature = "tls")]
use std::io::ErrorKind;
use std::io::{self, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;
#[cfg(feature = "tls")]
use rustls::{ServerConnection, StreamOwned};

use crate::config::TlsConfig;

/// A TLS connection over a client's TCP socket.
#[cfg(feature = "tls")]
pub(crate) type TlsStream = StreamOwned<ServerConnection, TcpStream>;

/// A client's socket as the connection reads and writes it.
pub(crate) enum Stream {
    /// ws:// — the TCP socket itself.
    Plain(TcpStream),
    /// wss:// — TLS over the TCP socket.
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
}

impl Stream {
    /// The stream of a newly accepted socket: plain, or at the start of a TLS handshake with
    /// `tls`. Gives the socket back, with the reason, when TLS cannot start.
    pub(crate) fn open(
        tcp: TcpStream,
        tls: Option<&TlsConfig>,
    ) -> Result<Stream, (TcpStream, String)> {
        match tls {
            None => Ok(Stream::Plain(tcp)),
            #[cfg(feature = "tls")]
            Some(tls) => match ServerConnection::new(tls.clone()) {
                Ok(conn) => Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))),
                Err(e) => Err((tcp, e.to_string())),
            },
            #[cfg(not(feature = "tls"))]
            Some(never) => match *never {},
        }
    }

    /// Plain TCP (ws://): a short read means the socket is drained (see `read_ahead.rs`).
    pub(crate) fn is_plain(&self) -> bool {
        matches!(self, Stream::Plain(_))
    }

    /// The TCP socket, to register with the poll.
    pub(crate) fn tcp(&mut self) -> &mut TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            Stream::Tls(tls) => &mut tls.sock,
        }
    }

    /// Sends FIN after everything written so far; reads go on until the peer closes too. A TLS
    /// stream sends its close_notify alert first, when the socket takes it.
    pub(crate) fn shutdown_write(&mut self) {
        #[cfg(feature = "tls")]
        if let Stream::Tls(tls) = self {
            tls.conn.send_close_notify();
            let _ = write_pending(tls);
        }
        // Failing here means the peer is already gone, which the next read reports.
        let _ = self.tcp().shutdown(Shutdown::Write);
    }
}

#[cfg(feature = "tls")]
impl Drop for Stream {
    /// A TLS peer is told the connection ends on purpose (close_notify), if the socket takes it.
    fn drop(&mut self) {
        if let Stream::Tls(tls) = self {
            if !tls.conn.is_handshaking() {
                tls.conn.send_close_notify();
                let _ = write_pending(tls);
            }
        }
    }
}

#[cfg(feature = "tls")]
/// Writes the TLS records rustls has queued, until they are all out or the socket would block.
fn write_pending(tls: &mut TlsStream) -> io::Result<()> {
    while tls.conn.wants_write() {
        match tls.conn.write_tls(&mut tls.sock) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(feature = "tls")]
/// Reads plaintext, reading and decrypting records (and answering handshake messages) as needed.
/// `WouldBlock` once the socket has nothing more; `Ok(0)` after the peer's close_notify.
fn tls_read(tls: &mut TlsStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match tls.conn.reader().read(buf) {
            // Plaintext, or Ok(0) for a clean close_notify.
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            // An EOF without close_notify.
            Err(e) => return Err(e),
        }
        match tls.conn.read_tls(&mut tls.sock) {
            // EOF is recorded by rustls; the next reader().read reports it.
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                // Handshake answers that did not fit go out on the next writable event.
                return match write_pending(tls) {
                    Ok(()) => Err(e),
                    Err(w) if w.kind() == ErrorKind::WouldBlock => Err(e),
                    Err(w) => Err(w),
                };
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if let Err(err) = tls.conn.process_new_packets() {
            // Send the alert that describes the error, if the socket takes it.
            let _ = write_pending(tls);
            return Err(io::Error::new(ErrorKind::InvalidData, err));
        }
        match write_pending(tls) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(feature = "tls")]
/// Encrypts plaintext. Accepts nothing while earlier records are still waiting for the socket, so
/// rustls never buffers more than one write ahead of the socket: the backlog stays in
/// tungstenite's bounded write buffer. Never returns `Ok(0)` for a non-empty `buf` (tungstenite
/// reads that as a reset): a full buffer is `WouldBlock`.
fn tls_write(tls: &mut TlsStream, buf: &[u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    write_pending(tls)?;
    let n = tls.conn.writer().write(buf)?;
    match write_pending(tls) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    if n == 0 {
        return Err(ErrorKind::WouldBlock.into());
    }
    Ok(n)
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(tls) => tls_read(tls, buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(tls) => tls_write(tls, buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write_vectored(bufs),
            #[cfg(feature = "tls")]
            Stream::Tls(tls) => {
                let buf = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
                tls_write(tls, buf)
            }
        }
    }

    /// Writes everything queued; for TLS that includes handshake records and alerts, so the
    /// connection calls this on writable events in every phase.
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            #[cfg(feature = "tls")]
            Stream::Tls(tls) => {
                write_pending(tls)?;
                tls.sock.flush()
            }
        }
    }
}
