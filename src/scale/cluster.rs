//! One loop per core: N servers on the same port through `SO_REUSEPORT` (Unix only), each on its
//! own thread.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::handler::Handler;
use crate::server::handle::Handle;
use crate::server::Server;

/// Several independent loops listening on one address, each on its own thread with its own
/// `mio::Poll`, connections and [`Handler`]; the kernel (`SO_REUSEPORT`) spreads new connections
/// among them. Nothing is shared between the loops: a handler reaches the clients of the other
/// loops through their [`Handle`]s, most simply with a [`Relay`](crate::Relay).
///
/// A cluster of one loop runs it on the calling thread and costs nothing over a [`Server`].
///
/// ```no_run
/// use simple_ws_server::{ClientContext, Cluster, Config, Handler, Message, Relay};
///
/// /// A chat room served by several loops: a line said on one reaches the clients of all.
/// struct Room(Relay);
///
/// impl Handler for Room {
///     type State = ();
///
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
///         ctx.broadcast_others(message.clone()); // this loop's clients
///         self.0.publish(message); // the other loops' clients
///     }
/// }
///
/// let cluster = Cluster::bind("127.0.0.1:8000", Config::default(), 2)?;
/// let relay = Relay::new(cluster.handles());
/// cluster.run(|index| Room(relay.for_loop(index)))?;
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
pub struct Cluster {
    servers: Vec<Server>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("local_addr", &self.local_addr())
            .field("loops", &self.len())
            .finish()
    }
}

impl Cluster {
    /// Binds `threads` loops to `addr` (at least one). With port 0 the first loop picks a free
    /// port and the others bind the same one. `SO_REUSEPORT` is turned on when there is more than
    /// one loop; off Unix, where there is no `SO_REUSEPORT`, more than one loop fails with
    /// [`Error::Bind`].
    pub fn bind(
        addr: impl ToSocketAddrs + fmt::Debug,
        config: Config,
        threads: usize,
    ) -> Result<Cluster> {
        let config = if threads > 1 {
            config.reuse_port(true)
        } else {
            config
        };
        Cluster::from_server(Server::bind(addr, config)?, threads)
    }

    /// Makes a cluster of `threads` loops from a bound server, binding `threads - 1` more at its
    /// address with its settings. For more than one loop the server must have been bound with
    /// [`Config::reuse_port`].
    pub fn from_server(first: Server, threads: usize) -> Result<Cluster> {
        if threads == 0 {
            return Err(Error::Config("a cluster needs at least one loop".into()));
        }
        if threads > 1 && !first.config().reuse_port {
            return Err(Error::Config(
                "several loops on one port need Config::reuse_port(true)".into(),
            ));
        }
        let addr = first.local_addr();
        let config = first.config().clone();
        let mut servers = Vec::with_capacity(threads);
        servers.push(first);
        for _ in 1..threads {
            servers.push(Server::bind(addr, config.clone())?);
        }
        Ok(Cluster { servers })
    }

    /// The address every loop listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.servers[0].local_addr()
    }

    /// How many loops the cluster runs.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Always `false`: a cluster has at least one loop.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// Each loop's handle, in loop order (index 0 first).
    pub fn handles(&self) -> Vec<Handle> {
        self.servers.iter().map(Server::handle).collect()
    }

    /// Runs every loop until all have stopped: loop 0 on the calling thread, the others on
    /// threads named `loop-1`, `loop-2`... `make(index)` builds each loop's handler. When one loop
    /// stops, for whatever reason, the others are stopped gracefully too. Returns the first
    /// error of any loop.
    pub fn run<H, F>(self, mut make: F) -> Result<()>
    where
        H: Handler + Send + 'static,
        F: FnMut(usize) -> H,
    {
        let handles = self.handles();
        let stop_all = |handles: &[Handle]| {
            for handle in handles {
                let _ = handle.stop();
            }
        };
        let mut servers = self.servers.into_iter();
        let first = servers.next().expect("a cluster has a loop");
        let mut threads = Vec::new();
        for (index, server) in servers.enumerate() {
            let index = index + 1;
            let handler = make(index);
            let peers = handles.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("loop-{index}"))
                .spawn(move || {
                    let result = server.run(handler).map(drop);
                    stop_all(&peers);
                    result
                });
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(source) => {
                    stop_all(&handles);
                    for thread in threads {
                        let _ = thread.join();
                    }
                    return Err(Error::EventLoop {
                        context: "starting a loop thread",
                        source,
                    });
                }
            }
        }
        let mut result = first.run(make(0)).map(drop);
        stop_all(&handles);
        for thread in threads {
            let loop_result = thread.join().unwrap_or_else(|_| {
                Err(Error::EventLoop {
                    context: "running a loop thread",
                    source: std::io::Error::other("the loop thread panicked"),
                })
            });
            if result.is_ok() {
                result = loop_result;
            }
        }
        result
    }
}
