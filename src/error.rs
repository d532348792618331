//! The one error type of the library.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Everything that can go wrong in the library, each variant saying what the caller should do.
///
/// Errors that concern one client (a protocol violation, a reset, a slow reader) never reach the
/// caller: they end that client's connection with the RFC's answer and are reported to
/// [`Handler::on_close`](crate::Handler::on_close) as a [`CloseReason`](crate::CloseReason).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The host name did not resolve to any address: check the spelling, or pass an IP address.
    Resolve {
        /// The host as given.
        host: String,
        /// Why it did not resolve.
        source: io::Error,
    },
    /// The listening socket could not be bound: the port is in use, the address is not local, or
    /// a port below 1024 needs privileges. Pick another address or port (port 0 picks a free one).
    Bind {
        /// The address that was tried.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },
    /// The event loop's operating-system calls failed (creating the poll, registering a socket,
    /// waiting for events). This is not caused by a client; the server cannot go on.
    EventLoop {
        /// What the loop was doing.
        context: &'static str,
        /// What the operating system said.
        source: io::Error,
    },
    /// A setting is out of range; the message names it. Fix the configuration.
    Config(String),
    /// The TLS certificate or key could not be loaded or do not match; the message says which.
    Tls(String),
    /// The server's queue for commands from other threads is full: the loop is busy. Retry later,
    /// or drop the message.
    QueueFull,
    /// The server has stopped: the handle can no longer reach it.
    Stopped,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Resolve { host, source } => write!(f, "cannot resolve host {host:?}: {source}"),
            Error::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Error::EventLoop { context, source } => {
                write!(f, "event loop failed {context}: {source}")
            }
            Error::Config(msg) => write!(f, "invalid configuration: {msg}"),
            Error::Tls(msg) => write!(f, "TLS: {msg}"),
            Error::QueueFull => f.write_str("the server's command queue is full"),
            Error::Stopped => f.write_str("the server has stopped"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Resolve { source, .. } | Error::Bind { source, .. } => Some(source),
            Error::EventLoop { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
