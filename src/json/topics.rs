//! Typed publishing to topics: one serialization per publish, whatever the subscribers.

use serde::Serialize;

use crate::json::context::{encode_or_log, JsonClientContext, JsonContext};

impl<Out: Serialize + ?Sized> JsonContext<'_, '_, Out> {
    /// Send `value` to every subscriber of `topic` (see
    /// [`Context::publish`](crate::Context::publish)): serialized once, one frame per loop.
    pub fn publish(&mut self, topic: &str, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.raw().publish(topic, message);
        }
    }
}

impl<Out: Serialize + ?Sized> JsonClientContext<'_, '_, Out> {
    /// Send `value` to every subscriber of `topic` (see
    /// [`Context::publish`](crate::Context::publish)), the client this event is about
    /// included if it subscribes: serialized once.
    pub fn publish(&mut self, topic: &str, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.raw().publish(topic, message);
        }
    }

    /// Send `value` to every subscriber of `topic` but the client this event is about (see
    /// [`ClientContext::publish_except`](crate::ClientContext::publish_except)): serialized
    /// once.
    pub fn publish_except(&mut self, topic: &str, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.raw().publish_except(topic, message);
        }
    }
}
