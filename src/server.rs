//! The server: a bound listener plus its settings, run on the calling thread.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

use mio::net::TcpListener;
use mio::{Poll, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::event_loop::{EventLoop, WAKER};
use crate::handle::{self, Handle, Inbox};
use crate::handler::Handler;

/// A WebSocket server bound to an address, ready to [`run`](Server::run) a [`Handler`] on the
/// calling thread.
///
/// ```no_run
/// use simple_ws_server::{ClientContext, Config, Handler, Message, Server};
///
/// struct Echo;
///
/// impl Handler for Echo {
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message) {
///         ctx.send(message);
///     }
/// }
///
/// let server = Server::bind("[::]:8000", Config::default())?;
/// println!("listening on ws://{}/", server.local_addr());
/// server.run(Echo)?;
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
pub struct Server {
    poll: Poll,
    listener: TcpListener,
    local_addr: SocketAddr,
    config: Config,
    handle: Handle,
    inbox: Inbox,
}

impl Server {
    /// Binds a listener to the first address `addr` resolves to that accepts it. The unspecified
    /// IPv6 address (`[::]`) listens on IPv4 and IPv6 both. Port 0 picks a free port: read it back
    /// with [`local_addr`](Server::local_addr).
    pub fn bind(addr: impl ToSocketAddrs + fmt::Debug, config: Config) -> Result<Server> {
        config.validate()?;
        let addrs: Vec<SocketAddr> = addr
            .to_socket_addrs()
            .map_err(|source| Error::Resolve {
                host: format!("{addr:?}").trim_matches('"').to_owned(),
                source,
            })?
            .collect();
        let mut last_error = None;
        for addr in addrs {
            match listen(addr, config.listen_backlog, config.reuse_port) {
                Ok(listener) => return Server::with_listener(listener, config),
                Err(source) => last_error = Some(Error::Bind { addr, source }),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::Resolve {
            host: format!("{addr:?}").trim_matches('"').to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses"),
        }))
    }

    fn with_listener(listener: TcpListener, config: Config) -> Result<Server> {
        let loop_error = |context| move |source| Error::EventLoop { context, source };
        let local_addr = listener
            .local_addr()
            .map_err(loop_error("reading the bound address"))?;
        let poll = Poll::new().map_err(loop_error("creating the poll"))?;
        let waker = Waker::new(poll.registry(), WAKER).map_err(loop_error("creating the waker"))?;
        let (handle, inbox) = handle::channel(waker, config.command_queue);
        Ok(Server {
            poll,
            listener,
            local_addr,
            config,
            handle,
            inbox,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The settings the server was bound with.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// A handle for other threads to send through and to stop the server.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Runs the event loop on this thread until the server is stopped (by a [`Handle`], by
    /// [`Context::stop`](crate::Context::stop), or by an error of the loop itself). Nothing a
    /// client sends ends it.
    pub fn run<H: Handler>(self, handler: H) -> Result<()> {
        EventLoop::new(self.poll, self.listener, self.config, self.inbox, handler)?.run()
    }
}

/// A non-blocking listener with our backlog; dual-stack when bound to `[::]`; `SO_REUSEPORT`
/// when asked, so that the loops of a [`Cluster`](crate::Cluster) share one port.
fn listen(addr: SocketAddr, backlog: i32, reuse_port: bool) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        socket.set_only_v6(false)?;
    }
    socket.set_reuse_address(true)?;
    if reuse_port {
        set_reuse_port(&socket)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// `SO_REUSEPORT`: several listeners on one port, the kernel spreading connections among them.
#[cfg(unix)]
fn set_reuse_port(socket: &Socket) -> std::io::Result<()> {
    socket.set_reuse_port(true)
}

/// Elsewhere there is no `SO_REUSEPORT` (Windows' `SO_REUSEADDR` lets a second listener steal the
/// port instead of sharing it), so several loops on one port are refused.
#[cfg(not(unix))]
fn set_reuse_port(_socket: &Socket) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "SO_REUSEPORT (several loops on one port) is only available on Unix",
    ))
}
