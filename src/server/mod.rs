//! The server: a bound listener plus its settings, run on the calling thread.
//!
//! Also the loop behind it: `event_loop.rs` (poll, read, flush), `accept.rs` (new
//! connections), `dispatch.rs` (what connections report, handler calls, applying what handlers
//! queued), `receive.rs` (messages handed to the handler, owned or lent in place), `batch.rs` (runs of broadcasts delivered as one batch), `flow.rs` (backpressure and
//! fairness), `timer.rs` and `timeouts.rs` (deadlines), `session.rs` (each connection's handler
//! state), `handle.rs` (commands from other threads).

pub(crate) mod accept;
pub(crate) mod batch;
pub(crate) mod dispatch;
pub(crate) mod event_loop;
pub(crate) mod flow;
pub(crate) mod handle;
pub(crate) mod receive;
pub(crate) mod session;
pub(crate) mod timeouts;
pub(crate) mod timer;

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Events, Poll, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::handler::Handler;
use crate::server::event_loop::{EventLoop, WAKER};
use handle::{Handle, Inbox};

/// A WebSocket server bound to an address, ready to [`run`](Server::run) a [`Handler`] on the
/// calling thread.
///
/// ```no_run
/// use simple_ws_server::{ClientContext, Config, Handler, Message, Server};
///
/// struct Echo;
///
/// impl Handler for Echo {
///     type State = ();
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
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

    /// A server on a listener made by the caller: a socket handed over by systemd socket
    /// activation, or one bound with options of the caller's choosing. The listener is made
    /// non-blocking; its backlog and `SO_REUSEPORT` are as the caller set them
    /// ([`Config::listen_backlog`](Config::listen_backlog) and
    /// [`Config::reuse_port`](Config::reuse_port) apply only to [`bind`](Server::bind)).
    ///
    /// ```no_run
    /// use simple_ws_server::{Config, Server};
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let server = Server::from_std(listener, Config::default())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_std(listener: std::net::TcpListener, config: Config) -> Result<Server> {
        config.validate()?;
        listener
            .set_nonblocking(true)
            .map_err(|source| Error::EventLoop {
                context: "making the listener non-blocking",
                source,
            })?;
        Server::with_listener(TcpListener::from_std(listener), config)
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
    /// [`Context::stop`](crate::Context::stop), or by an error of the loop itself), then gives
    /// the handler back. Nothing a client sends ends it.
    pub fn run<H: Handler>(self, handler: H) -> Result<H> {
        self.start(handler)?.run()
    }

    /// Starts the server without running its loop: the caller turns it with
    /// [`Running::run_once`], e.g. from a loop of its own, as the original's `serveonce()`
    /// allowed.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use simple_ws_server::{ClientContext, Config, Handler, Message, Server};
    ///
    /// struct Echo;
    /// impl Handler for Echo {
    ///     type State = ();
    ///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
    ///         ctx.send(message);
    ///     }
    /// }
    ///
    /// let mut server = Server::bind("127.0.0.1:8000", Config::default())?.start(Echo)?;
    /// while server.run_once(Some(Duration::from_millis(50)))? {
    ///     // ... the caller's own work between turns ...
    /// }
    /// let _echo: Echo = server.into_handler();
    /// # Ok::<(), simple_ws_server::Error>(())
    /// ```
    pub fn start<H: Handler>(self, handler: H) -> Result<Running<H>> {
        let handle = self.handle.clone();
        let event_loop =
            EventLoop::new(self.poll, self.listener, self.config, self.inbox, handler)?;
        Ok(Running {
            event_loop,
            events: Events::with_capacity(1024),
            handle,
            local_addr: self.local_addr,
        })
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A started server whose loop the caller turns, one step at a time, with
/// [`run_once`](Running::run_once) (from [`Server::start`]).
pub struct Running<H: Handler> {
    event_loop: EventLoop<H>,
    events: Events,
    handle: Handle,
    local_addr: SocketAddr,
}

impl<H: Handler> Running<H> {
    /// One turn of the loop: waits for events, at most `max_wait` (`None`: until the next
    /// deadline of the server's own, which may be a second or more away), handles them, and
    /// returns whether the server goes on: `false` once it has stopped (by a [`Handle`],
    /// [`Context::stop`](crate::Context::stop), or [`stop`](Running::stop)) and every client is
    /// closed.
    pub fn run_once(&mut self, max_wait: Option<Duration>) -> Result<bool> {
        self.event_loop.step(&mut self.events, max_wait)
    }

    /// Runs the loop until the server has stopped, then gives the handler back.
    pub fn run(mut self) -> Result<H> {
        while self.run_once(None)? {}
        Ok(self.into_handler())
    }

    /// Begins a graceful stop: every client is sent 1001 (going away); keep calling
    /// [`run_once`](Running::run_once) until it returns `false` (at most about a second).
    pub fn stop(&mut self) {
        self.event_loop.begin_shutdown();
    }

    /// A handle for other threads, as [`Server::handle`].
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The handler, between turns.
    pub fn handler(&self) -> &H {
        &self.event_loop.handler
    }

    /// The handler, between turns, to change.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.event_loop.handler
    }

    /// Ends the server (at once: clients are dropped without a close frame unless it was
    /// stopped first) and gives the handler back. The per-connection states are dropped
    /// without [`on_close`](crate::Handler::on_close).
    pub fn into_handler(self) -> H {
        self.event_loop.handler
    }
}

impl<H: Handler> fmt::Debug for Running<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("connections", &self.event_loop.conns.len())
            .field("stopping", &self.event_loop.stopping)
            .finish_non_exhaustive()
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
