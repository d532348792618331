//! Accepting connections: until the listener would block, refusing past the connection limit
//! with a 503, pausing (not spinning) when the process runs out of descriptors.

use std::io::{ErrorKind, Write};
use std::time::Duration;

use log::{debug, warn};
use mio::{Interest, Token};

use crate::connection::http;
use crate::connection::stream::Stream;
use crate::connection::Conn;
use crate::handler::Handler;
use crate::server::event_loop::{EventLoop, FIRST_CONN};
use crate::server::timer::Due;

/// How long accepting pauses after the process ran out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

impl<H: Handler> EventLoop<H> {
    /// Accepts until the listener would block (edge-triggered: no new event comes for
    /// connections already queued).
    pub(crate) fn accept_all(&mut self) {
        if self.accept_paused || self.stopping {
            return;
        }
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((tcp, peer)) => self.admit(tcp, peer),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if out_of_resources(&e) => {
                    // Spinning on accept would burn the core and starve every client: pause,
                    // serve the clients we have, try again shortly.
                    warn!("cannot accept connections: {e}; pausing for {ACCEPT_BACKOFF:?}");
                    self.accept_paused = true;
                    self.deadlines
                        .add_after(self.now, ACCEPT_BACKOFF, Due::Accept);
                    return;
                }
                Err(e) => debug!("accept failed: {e}"),
            }
        }
    }

    fn admit(&mut self, mut tcp: mio::net::TcpStream, peer: std::net::SocketAddr) {
        let peer = std::net::SocketAddr::new(peer.ip().to_canonical(), peer.port());
        if self.conns.len() >= self.config.max_connections {
            debug!("{peer}: refused, {} connections held", self.conns.len());
            // Best effort: the socket is new, so its send buffer is empty and this fits. A TLS
            // client could not read a plain 503: it gets the TCP close alone.
            if self.config.tls.is_none() {
                let _ = tcp.write(&http::error(503, "server at its connection limit"));
            }
            return;
        }
        if let Err(e) = tcp.set_nodelay(true) {
            debug!("{peer}: cannot set TCP_NODELAY: {e}");
        }
        let entry = self.conns.vacant_entry();
        let slot = entry.key();
        if let Err(e) = self.poll.registry().register(
            &mut tcp,
            Token(slot + FIRST_CONN),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            warn!("{peer}: cannot register the connection: {e}");
            return;
        }
        self.next_generation = self.next_generation.wrapping_add(1);
        let generation = self.next_generation;
        let stream = match Stream::open(tcp, self.config.tls.as_ref()) {
            Ok(stream) => stream,
            Err((mut tcp, e)) => {
                warn!("{peer}: cannot start TLS: {e}");
                let _ = self.poll.registry().deregister(&mut tcp);
                return;
            }
        };
        entry.insert(Conn::new(stream, peer, generation, self.now));
        // Registering reports data that is already waiting, so no read is needed here.
    }
}

/// Accept errors that mean the process or system is out of descriptors or memory.
fn out_of_resources(e: &std::io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM (the same numbers on Linux and the BSDs, but ENOBUFS).
    matches!(
        e.raw_os_error(),
        Some(24) | Some(23) | Some(105) | Some(55) | Some(12)
    )
}
