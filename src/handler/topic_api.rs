//! Topics (rooms) from a handler: subscribe the current client, publish to a topic's
//! subscribers. The table itself is in topics.rs; delivery in `server/dispatch.rs`, and the loop
//! forgets a client's subscriptions in `server/event_loop.rs`.

use crate::client::ClientId;
use crate::handler::client_context::ClientContext;
use crate::handler::context::Context;
use crate::handler::outbox::Action;
use crate::handler::topics::{Change, TopicName};
use crate::message::Message;
use crate::message_ref::IntoMessage;

/// The longest topic name accepted, in bytes: a longer one is refused by
/// [`ClientContext::subscribe`] (and has no subscribers), so a name taken from a client costs
/// bounded memory.
pub const MAX_TOPIC_LEN: usize = 1024;

impl Context<'_> {
    /// Send a message to every subscriber of `topic` (see [`ClientContext::subscribe`]): the
    /// subscribers of this loop and, when the loop belongs to a [`Relay`](crate::Relay), those
    /// of every loop of the relay and, through its broker, of every instance. Each loop encodes
    /// the message once and copies the frame to each of its subscribers, with the same flow
    /// control as a broadcast; finding them costs a hash lookup plus one step per subscriber,
    /// never a walk over every client. A topic nobody subscribes to costs nothing.
    ///
    /// Like every call of the context it is queued and applied after the handler returns, in
    /// order with the other calls.
    ///
    /// ```
    /// use std::time::Duration;
    /// use simple_ws_server::{ClientContext, Context, Handler, Message, TimerId};
    ///
    /// /// Every client joins "news"; a timer publishes to it every minute.
    /// struct News;
    ///
    /// impl Handler for News {
    ///     type State = ();
    ///
    ///     fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
    ///         ctx.subscribe("news");
    ///         if ctx.subscriber_count("news") == 1 {
    ///             ctx.set_timer(Duration::from_secs(60));
    ///         }
    ///     }
    ///
    ///     fn on_message(&mut self, _: &mut ClientContext<'_>, _: &mut (), _: Message) {}
    ///
    ///     fn on_timer(&mut self, ctx: &mut Context<'_>, _: TimerId) {
    ///         ctx.publish("news", "a minute has passed");
    ///         ctx.set_timer(Duration::from_secs(60));
    ///     }
    /// }
    /// ```
    pub fn publish(&mut self, topic: &str, message: impl IntoMessage) {
        self.queue_publish(topic, None, message.into_message());
    }

    /// How many clients of this loop subscribe to `topic` now (other loops and instances are
    /// not counted). O(1).
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.topics.members(topic).len()
    }

    pub(crate) fn queue_publish(
        &mut self,
        topic: &str,
        except: Option<ClientId>,
        message: Message,
    ) {
        if topic.len() > MAX_TOPIC_LEN {
            return;
        }
        self.outbox.actions.push_back(Action::Publish {
            topic: TopicName::from(topic),
            except,
            message,
            forward: true,
        });
    }
}

impl ClientContext<'_> {
    /// Subscribe the client this event is about to `topic` (a room, a channel: any name of at
    /// most [`MAX_TOPIC_LEN`] bytes); it then receives what is [published](Context::publish) to
    /// it, until it [unsubscribes](Self::unsubscribe) or leaves: a client's subscriptions end
    /// with its connection. Returns whether it was newly subscribed (`false` when it already
    /// was, when the name is too long, or when the client is closing). Takes effect at once:
    /// [`is_subscribed`](Self::is_subscribed) and a publish queued after it see it. O(1).
    ///
    /// ```
    /// use simple_ws_server::{ClientContext, Handler, Message};
    ///
    /// /// Each client joins the room its URL path names and talks to the others in it.
    /// struct Rooms;
    ///
    /// impl Handler for Rooms {
    ///     type State = ();
    ///
    ///     fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
    ///         let room = ctx.request().path().to_owned();
    ///         ctx.subscribe(&room);
    ///     }
    ///
    ///     fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
    ///         let room = ctx.request().path().to_owned();
    ///         ctx.publish_except(&room, message);
    ///     }
    /// }
    /// ```
    pub fn subscribe(&mut self, topic: &str) -> bool {
        let id = self.id();
        if topic.len() > MAX_TOPIC_LEN || !self.is_connected(id) {
            return false;
        }
        let change = self.topics.subscribe(id, topic);
        if change == Change::FirstMember {
            self.outbox
                .actions
                .push_back(Action::Hosting(TopicName::from(topic), true));
        }
        change != Change::None
    }

    /// Unsubscribe the client this event is about from `topic`; returns whether it was
    /// subscribed. O(1).
    pub fn unsubscribe(&mut self, topic: &str) -> bool {
        let id = self.id();
        let change = self.topics.unsubscribe(id, topic);
        if change == Change::LastMember {
            self.outbox
                .actions
                .push_back(Action::Hosting(TopicName::from(topic), false));
        }
        change != Change::None
    }

    /// Send a message to every subscriber of `topic` but the client this event is about
    /// ("everyone in the room but me"), on every loop and instance as [`Context::publish`]
    /// does.
    pub fn publish_except(&mut self, topic: &str, message: impl IntoMessage) {
        let id = self.id();
        self.queue_publish(topic, Some(id), message.into_message());
    }

    /// Whether the client this event is about subscribes to `topic`. O(1).
    pub fn is_subscribed(&self, topic: &str) -> bool {
        self.topics.is_subscribed(self.id(), topic)
    }

    /// The topics the client this event is about subscribes to, in no particular order.
    pub fn topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.topics.topics_of(self.id())
    }
}
