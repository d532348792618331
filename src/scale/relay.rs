//! Fan-out of one loop's messages to the clients of the other loops of this process, and to other
//! instances through a message broker.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use log::{debug, warn};

use crate::error::Error;
use crate::handler::topics::TopicName;
use crate::message::Message;
use crate::message_ref::IntoMessage;
use crate::server::handle::Handle;

/// Carries messages to other server instances (other processes, other machines), e.g. the
/// `redis_bridge::RedisBridge` (feature `redis`).
///
/// [`publish`](Broker::publish) is called on a loop's thread, from a handler: it must never block.
/// Queue the message for a thread of the broker's own, or drop it when the broker is unreachable.
/// Messages the broker receives from other instances are its own business to deliver, usually
/// through [`Relay::deliver_local`].
///
/// Topics: a broker that carries [topic](crate::ClientContext::subscribe) messages implements the
/// three `*_topic` methods (they do nothing by default). The relay calls
/// [`subscribe_topic`](Broker::subscribe_topic) when this instance gets its first subscriber
/// of a topic (over all its loops) and [`unsubscribe_topic`](Broker::unsubscribe_topic) after
/// its last one leaves, so that the broker can receive only the topics this instance hosts; it
/// delivers what it receives with [`Relay::deliver_topic_local`]. Like `publish`, they are called
/// on a loop's thread and must never block.
pub trait Broker: Send + Sync {
    /// Hands a message over for the other instances; never blocks.
    fn publish(&self, message: &Message);

    /// Hands a message published to a topic over for the other instances; never blocks.
    fn publish_topic(&self, topic: &str, message: &Message) {
        let _ = (topic, message);
    }

    /// This instance now has a subscriber of `topic` (it had none); never blocks.
    fn subscribe_topic(&self, topic: &str) {
        let _ = topic;
    }

    /// This instance no longer has any subscriber of `topic`; never blocks.
    fn unsubscribe_topic(&self, topic: &str) {
        let _ = topic;
    }
}

/// One loop's end of a fan-out: what a handler publishes goes to every client of every *other*
/// loop of this process (through their [`Handle`]s, which wake them at once) and, when there is
/// a [`Broker`], to every other instance. The handler sends to its own loop's clients itself, as
/// usual, through its context.
///
/// No lock is taken: each other loop costs a push onto its bounded command queue and, when no
/// wake-up of that loop is already pending, one.
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
    shared: Arc<Shared>,
}

/// What every end of one relay shares.
pub(crate) struct Shared {
    loops: Vec<Handle>,
    broker: RwLock<Option<Arc<dyn Broker>>>,
    dropped: AtomicU64,
    /// Per topic, how many loops of this process host it (have a subscriber): the broker
    /// subscribes on 0 -> 1 and unsubscribes on 1 -> 0. Held while the broker is told, so
    /// that its subscribes and unsubscribes of one topic keep their order.
    hosted: Mutex<HashMap<TopicName, usize>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("loop_count", &self.loops.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("loop_index", &self.index)
            .field("loop_count", &self.shared.loops.len())
            .field("broker", &self.broker().is_some())
            .field("dropped", &self.shared.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

impl Relay {
    /// A relay among these loops (in loop order); this end is loop 0's.
    ///
    /// Each loop is linked to its end of the relay (the first relay built from a loop's handle
    /// wins), so that a topic published on any loop, by a handler, a timer or a [`Handle`],
    /// reaches the subscribers of every loop and, with a broker, of every instance.
    pub fn new(loops: Vec<Handle>) -> Relay {
        let shared = Arc::new(Shared {
            loops,
            broker: RwLock::new(None),
            dropped: AtomicU64::new(0),
            hosted: Mutex::new(HashMap::new()),
        });
        for (index, handle) in shared.loops.iter().enumerate() {
            handle.link_relay(index, shared.clone());
        }
        Relay { index: 0, shared }
    }

    /// Also hands every published message to a broker for the other instances.
    pub fn with_broker(self, broker: Arc<dyn Broker>) -> Relay {
        *self
            .shared
            .broker
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(broker.clone());
        // Topics some loop already hosts.
        for topic in self.hosted_topics() {
            broker.subscribe_topic(&topic);
        }
        self
    }

    pub(crate) fn from_link(index: usize, shared: Arc<Shared>) -> Relay {
        Relay { index, shared }
    }

    /// The end of loop `index`: what it publishes skips that loop's own clients.
    ///
    /// # Panics
    /// If there is no loop `index`.
    pub fn for_loop(&self, index: usize) -> Relay {
        assert!(
            index < self.shared.loops.len(),
            "no loop {index} in this relay"
        );
        Relay {
            index,
            shared: self.shared.clone(),
        }
    }

    /// The loop this end belongs to.
    pub fn loop_index(&self) -> usize {
        self.index
    }

    /// How many loops the relay reaches.
    pub fn loop_count(&self) -> usize {
        self.shared.loops.len()
    }

    fn broker(&self) -> Option<Arc<dyn Broker>> {
        self.shared
            .broker
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends a message to every client of every other loop, and to the broker if there is one.
    /// Never blocks.
    pub fn publish(&self, message: impl IntoMessage) {
        let message = message.into_message();
        for (index, handle) in self.shared.loops.iter().enumerate() {
            if index != self.index {
                self.push(handle.broadcast(message.clone()));
            }
        }
        if let Some(broker) = self.broker() {
            broker.publish(&message);
        }
    }

    /// Sends a message to every client of every loop of this process, this one's too, and not to
    /// the broker: what a broker's receiving side calls for a message from another instance.
    pub fn deliver_local(&self, message: impl IntoMessage) {
        let message = message.into_message();
        for handle in self.shared.loops.iter() {
            self.push(handle.broadcast(message.clone()));
        }
    }

    /// Sends a message to the subscribers of `topic` on every other loop, and to the broker if
    /// there is one. Never blocks. A loop's own publishes ([`Context::publish`](crate::Context::publish))
    /// call this for it: a handler does not need to.
    pub fn publish_topic(&self, topic: &str, message: impl IntoMessage) {
        let message = message.into_message();
        let name = TopicName::from(topic);
        for (index, handle) in self.shared.loops.iter().enumerate() {
            if index != self.index {
                self.push(handle.publish_here(name.clone(), message.clone()));
            }
        }
        if let Some(broker) = self.broker() {
            broker.publish_topic(topic, &message);
        }
    }

    /// Sends a message to the subscribers of `topic` on every loop of this process, and not to
    /// the broker: what a broker's receiving side calls for a topic message from another
    /// instance.
    pub fn deliver_topic_local(&self, topic: &str, message: impl IntoMessage) {
        let message = message.into_message();
        let name = TopicName::from(topic);
        for handle in self.shared.loops.iter() {
            self.push(handle.publish_here(name.clone(), message.clone()));
        }
    }

    /// The topics at least one loop of this process hosts now (has a subscriber of): what a
    /// broker subscribes to again after reconnecting.
    pub fn hosted_topics(&self) -> Vec<String> {
        let hosted = self
            .shared
            .hosted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        hosted.keys().map(|topic| topic.to_string()).collect()
    }

    /// This end's loop got its first subscriber of `topic` (`hosted`) or lost its last.
    pub(crate) fn hosting(&self, topic: &TopicName, hosted: bool) {
        let mut count = self
            .shared
            .hosted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let broker = self.broker();
        if hosted {
            let loops = count.entry(topic.clone()).or_insert(0);
            *loops += 1;
            if *loops == 1 {
                if let Some(broker) = broker {
                    broker.subscribe_topic(topic);
                }
            }
        } else if let Some(loops) = count.get_mut(topic) {
            *loops -= 1;
            if *loops == 0 {
                count.remove(topic);
                if let Some(broker) = broker {
                    broker.unsubscribe_topic(topic);
                }
            }
        }
    }

    fn push(&self, result: Result<(), Error>) {
        match result {
            Ok(()) | Err(Error::Stopped) => {}
            Err(err) => {
                let dropped = self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                if dropped == 0 {
                    warn!("relay: a message was dropped for a busy loop ({err}); further drops are logged at debug level");
                } else {
                    debug!("relay: dropped a message for a busy loop ({err})");
                }
            }
        }
    }
}
