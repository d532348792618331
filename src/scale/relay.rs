//! Fan-out of one loop's messages to the clients of the other loops of this process, and to other
//! instances through a message broker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use log::{debug, warn};

use crate::error::Error;
use crate::message::Message;
use crate::server::handle::Handle;

/// Carries messages to other server instances (other processes, other machines), e.g. the
/// `redis_bridge::RedisBridge` (feature `redis`).
///
/// [`publish`](Broker::publish) is called on a loop's thread, from a handler: it must never block.
/// Queue the message for a thread of the broker's own, or drop it when the broker is unreachable.
/// Messages the broker receives from other instances are its own business to deliver, usually
/// through [`Relay::deliver_local`].
pub trait Broker: Send + Sync {
    /// Hands a message over for the other instances; never blocks.
    fn publish(&self, message: &Message);
}

/// One loop's end of a fan-out: what a handler publishes goes to every client of every *other*
/// loop of this process (through their [`Handle`]s, which wake them at once) and, when there is
/// a [`Broker`], to every other instance. The handler sends to its own loop's clients itself, as
/// usual, through its context.
///
/// No lock is taken: each other loop costs a push onto its bounded command queue and a wake-up.
/// When a loop's queue is full the message is dropped for that loop, and a warning is logged
/// once.
///
/// A relay is cheap to clone and can be sent to any thread. Build one from the handles of every
/// loop ([`Cluster::handles`](crate::Cluster::handles)), then give each loop's handler its own
/// end with [`for_loop`](Relay::for_loop):
///
/// ```no_run
/// use simple_ws_server::{ClientContext, Cluster, Config, Handler, Message, Relay};
///
/// /// Everyone hears everyone, whichever loop (or instance) they are on.
/// struct Shout(Relay);
///
/// impl Handler for Shout {
///     type State = ();
///
///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
///         ctx.broadcast_others(message.clone()); // this loop's clients
///         self.0.publish(message); // every other loop's (and instance's) clients
///     }
/// }
///
/// let cluster = Cluster::bind("127.0.0.1:8000", Config::default(), 4)?;
/// let relay = Relay::new(cluster.handles());
/// cluster.run(|index| Shout(relay.for_loop(index)))?;
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
#[derive(Clone)]
pub struct Relay {
    index: usize,
    loops: Arc<[Handle]>,
    broker: Option<Arc<dyn Broker>>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("loop_index", &self.index)
            .field("loop_count", &self.loops.len())
            .field("broker", &self.broker.is_some())
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

impl Relay {
    /// A relay among these loops (in loop order); this end is loop 0's.
    pub fn new(loops: Vec<Handle>) -> Relay {
        Relay {
            index: 0,
            loops: loops.into(),
            broker: None,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Also hands every published message to a broker for the other instances.
    pub fn with_broker(mut self, broker: Arc<dyn Broker>) -> Relay {
        self.broker = Some(broker);
        self
    }

    /// The end of loop `index`: what it publishes skips that loop's own clients.
    ///
    /// # Panics
    /// If there is no loop `index`.
    pub fn for_loop(&self, index: usize) -> Relay {
        assert!(index < self.loops.len(), "no loop {index} in this relay");
        Relay {
            index,
            ..self.clone()
        }
    }

    /// The loop this end belongs to.
    pub fn loop_index(&self) -> usize {
        self.index
    }

    /// How many loops the relay reaches.
    pub fn loop_count(&self) -> usize {
        self.loops.len()
    }

    /// Sends a message to every client of every other loop, and to the broker if there is one.
    /// Never blocks.
    pub fn publish(&self, message: impl Into<Message>) {
        let message = message.into();
        for (index, handle) in self.loops.iter().enumerate() {
            if index != self.index {
                self.push(handle, message.clone());
            }
        }
        if let Some(broker) = &self.broker {
            broker.publish(&message);
        }
    }

    /// Sends a message to every client of every loop of this process, this one's too, and not to
    /// the broker: what a broker's receiving side calls for a message from another instance.
    pub fn deliver_local(&self, message: impl Into<Message>) {
        let message = message.into();
        for handle in self.loops.iter() {
            self.push(handle, message.clone());
        }
    }

    fn push(&self, handle: &Handle, message: Message) {
        match handle.broadcast(message) {
            Ok(()) | Err(Error::Stopped) => {}
            Err(err) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed);
                if dropped == 0 {
                    warn!("relay: a message was dropped for a busy loop ({err}); further drops are logged at debug level");
                } else {
                    debug!("relay: dropped a message for a busy loop ({err})");
                }
            }
        }
    }
}
