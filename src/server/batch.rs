//! Broadcasts in batches: a run of broadcasts (or publishes to one topic) queued one after the
//! other for the same recipients is delivered as one batch.
//!
//! A chat relays every line to every other client. Delivered message by message, each recipient
//! costs a lookup, the flow-control checks and a copy per message; the loop reads a client's
//! messages in batches (`EventLoop::read` applies what the handler queued for one read
//! together), so a sender's lines come here as a run, and each recipient costs those once per
//! run: its frames are encoded once, joined, and copied to each recipient in one piece, as a raw
//! TCP relay copies the chunk it read. Recipients that need each frame on its own (those that
//! agreed permessage-deflate, or that are in the middle of a fragmented message) get the frames
//! one at a time, as before.
//!
//! What a recipient sees is the same either way: the same frames in the same order. Flow control
//! checks a batch as one send: under `Drop`, a recipient above the mark misses the whole batch
//! (each message counted); past the backlog limit, none of it is queued and the client is closed.

use crate::client::ClientId;
use crate::connection::outgoing::Broadcast;
use crate::handler::outbox::Action;
use crate::handler::topics::TopicName;
use crate::handler::Handler;
use crate::message::Message;
use crate::server::event_loop::EventLoop;

impl<H: Handler> EventLoop<H> {
    /// Delivers a broadcast with the broadcasts queued right after it for the same recipients.
    /// The recipients are the clients open now, which is when the handler queued these (the
    /// outbox is applied before the loop accepts or opens anyone).
    pub(crate) fn broadcast_run(&mut self, except: Option<ClientId>, first: Message) {
        let mut messages = vec![first];
        while let Some(Action::Broadcast { except: next, .. }) = self.outbox.actions.front() {
            if *next != except {
                break;
            }
            if let Some(Action::Broadcast { message, .. }) = self.outbox.actions.pop_front() {
                messages.push(message);
            }
        }
        let recipients: Vec<ClientId> = self
            .conns
            .iter()
            .filter(|(_, conn)| conn.is_open())
            .map(|(slot, conn)| ClientId::new(slot, conn.generation))
            .filter(|&id| Some(id) != except)
            .collect();
        self.deliver_batch(&recipients, &messages);
    }

    /// The same for publishes to one topic (with the same exception, and forwarded to the
    /// other loops or not alike).
    pub(crate) fn publish_run(
        &mut self,
        topic: TopicName,
        except: Option<ClientId>,
        first: Message,
        forward: bool,
    ) {
        let mut messages = vec![first];
        while let Some(Action::Publish {
            topic: next,
            except: next_except,
            forward: next_forward,
            ..
        }) = self.outbox.actions.front()
        {
            if *next != topic || *next_except != except || *next_forward != forward {
                break;
            }
            if let Some(Action::Publish { message, .. }) = self.outbox.actions.pop_front() {
                messages.push(message);
            }
        }
        if forward {
            if let Some(relay) = self.inbox.relay() {
                for message in &messages {
                    relay.publish_topic(&topic, message.clone());
                }
            }
        }
        let recipients: Vec<ClientId> = self
            .topics
            .members(&topic)
            .iter()
            .copied()
            .filter(|&id| Some(id) != except)
            .collect();
        self.deliver_batch(&recipients, &messages);
    }

    /// Delivers messages, in order, to a list of clients: each message encoded once, the frames
    /// joined and copied to each recipient that can take them so (see the module's notes).
    /// Ids are checked one by one (generation included), since sending can close a slow client
    /// and free its slot.
    pub(crate) fn deliver_batch(&mut self, recipients: &[ClientId], messages: &[Message]) {
        if let [message] = messages {
            return self.deliver(recipients, message);
        }
        if recipients.is_empty() || messages.is_empty() {
            return;
        }
        let mut frames: Vec<Broadcast<'_>> = messages.iter().map(Broadcast::new).collect();
        let mut joined = Vec::with_capacity(frames.iter().map(|f| f.frame().len()).sum());
        for frame in &frames {
            joined.extend_from_slice(frame.frame());
        }
        let count = messages.len() as u64;
        let bytes: u64 = messages.iter().map(|m| m.len() as u64).sum();
        for &id in recipients {
            let Some(conn) = self
                .conns
                .get_mut(id.slot())
                .filter(|conn| conn.generation == id.generation && conn.is_open())
            else {
                continue;
            };
            if !conn.takes_plain_frames() {
                for frame in &mut frames {
                    if self.conn(id).is_some_and(|conn| conn.is_open()) {
                        self.send_frame_to_slot(id.slot(), frame);
                    }
                }
                continue;
            }
            if conn.backlog() > self.flow.drop_above {
                self.flow.stats.dropped += count;
                continue;
            }
            self.stats.messages_out += count;
            self.stats.bytes_out += bytes;
            let progress = conn.send_frames(&joined);
            let over = conn.backlog() > self.flow.high;
            self.after_send(id.slot(), progress, over);
        }
    }
}
