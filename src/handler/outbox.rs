//! What a handler call asked for and the loop has yet to apply: its queue of actions.

use std::time::Instant;

use crate::client::{ClientId, TimerId};
use crate::handler::topics::TopicName;
use crate::message::{Fragment, Message};

impl Outbox {
    /// A timer id not handed out before on this loop.
    pub(crate) fn new_timer_id(&mut self) -> TimerId {
        self.next_timer += 1;
        TimerId(self.next_timer)
    }

    /// Whether the loop may read on before applying the queue, to deliver a run of broadcasts
    /// as one batch: the latest action is a broadcast or a publish and no close or stop is
    /// queued. Anything else is applied at once (holding sends back only costs memory).
    pub(crate) fn may_wait(&self) -> bool {
        !self.urgent
            && matches!(
                self.actions.back(),
                Some(Action::Broadcast { .. } | Action::Publish { .. })
            )
    }
}

/// One thing a handler asked for, applied by the loop after the handler returns.
#[derive(Debug)]
pub(crate) enum Action {
    Send(ClientId, Message),
    /// Recipients are every open client but `except`, fixed when the outbox is applied, which is
    /// right after the handler returns (after its calls for the messages of one read, see
    /// `EventLoop::read`) and before any other event is looked at.
    Broadcast {
        except: Option<ClientId>,
        message: Message,
    },
    Close(ClientId, u16, String),
    /// One piece of a fragmented message for one client.
    Fragment(ClientId, Fragment),
    /// A message for the subscribers of a topic on this loop (but `except`) and, when
    /// `forward`, for the other loops and instances through the loop's relay.
    Publish {
        topic: TopicName,
        except: Option<ClientId>,
        message: Message,
        forward: bool,
    },
    /// This loop got its first subscriber of a topic (`true`) or lost its last (`false`).
    Hosting(TopicName, bool),
    SetTimer(TimerId, Instant),
    CancelTimer(TimerId),
    Stop,
}

/// The queue of actions a handler call produced.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    pub(crate) actions: std::collections::VecDeque<Action>,
    /// A close or a stop is queued: the loop applies the queue before reading on (it may hold
    /// back data sends to batch them, never a close).
    pub(crate) urgent: bool,
    /// The loop is applying the queue: sends are queued, never made at once (see
    /// `Context::send_now`).
    pub(crate) applying: bool,
    next_timer: u64,
}
