//! The typed contexts: the core contexts, with sends that take `&Out` and serialize it once.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use serde::Serialize;

use crate::client::ClientId;
use crate::handler::client_context::ClientContext;
use crate::handler::context::Context;
use crate::message::Message;

/// Serializes `value` as the JSON text message every typed send puts on the wire.
///
/// A typed send calls this once, whatever the number of recipients: the message is then shared
/// (a reference count) and the server encodes its frame once. It fails only for values
/// serde_json cannot write (a map whose keys are not strings, a `Serialize` impl that returns an
/// error); the typed sends log such a failure as an error and send nothing.
///
/// ```
/// use simple_ws_server::json::encode;
///
/// #[derive(serde::Serialize)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum Out {
///     Said { who: String, text: String },
/// }
///
/// let message = encode(&Out::Said { who: "ada".into(), text: "hi".into() }).unwrap();
/// assert_eq!(message.as_text(), Some(r#"{"type":"said","who":"ada","text":"hi"}"#));
/// ```
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Message, serde_json::Error> {
    serde_json::to_string(value).map(Message::from)
}

/// [`encode`], with a failure logged instead of returned (the typed sends' behaviour).
pub(crate) fn encode_or_log<T: Serialize + ?Sized>(value: &T) -> Option<Message> {
    match encode(value) {
        Ok(message) => Some(message),
        Err(error) => {
            log::error!(
                "cannot serialize a {} as JSON, not sent: {error}",
                std::any::type_name::<T>()
            );
            None
        }
    }
}

/// The loop-wide context of a [`JsonHandler`](crate::json::JsonHandler) (in
/// [`on_timer`](crate::json::JsonHandler::on_timer)): [`Context`] (through `Deref`), with sends
/// that take an `&Out` and serialize it once per call.
///
/// The untyped sends of [`Context`] stay reachable through [`raw`](JsonContext::raw).
pub struct JsonContext<'c, 'a, Out: ?Sized> {
    ctx: &'c mut Context<'a>,
    out: PhantomData<fn(&Out)>,
}

impl<Out: ?Sized> fmt::Debug for JsonContext<'_, '_, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JsonContext").field(&*self.ctx).finish()
    }
}

impl<'c, 'a, Out: Serialize + ?Sized> JsonContext<'c, 'a, Out> {
    pub(crate) fn new(ctx: &'c mut Context<'a>) -> Self {
        JsonContext {
            ctx,
            out: PhantomData,
        }
    }

    /// The untyped context, to send a [`Message`] as it is.
    pub fn raw(&mut self) -> &mut Context<'a> {
        self.ctx
    }

    /// Send `value` to one client (skipped if it has gone).
    pub fn send_to(&mut self, client: ClientId, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.ctx.send_to(client, message);
        }
    }

    /// Send `value` to every connected client: serialized once, one frame shared by all.
    pub fn broadcast(&mut self, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.ctx.broadcast(message);
        }
    }

    /// Send `value` to every connected client but `except`: serialized once.
    pub fn broadcast_except(&mut self, except: ClientId, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.ctx.broadcast_except(except, message);
        }
    }
}

impl<'a, Out: ?Sized> Deref for JsonContext<'_, 'a, Out> {
    type Target = Context<'a>;

    fn deref(&self) -> &Context<'a> {
        self.ctx
    }
}

impl<'a, Out: ?Sized> DerefMut for JsonContext<'_, 'a, Out> {
    fn deref_mut(&mut self) -> &mut Context<'a> {
        self.ctx
    }
}

/// The context of a [`JsonHandler`](crate::json::JsonHandler)'s event about one client:
/// [`ClientContext`] (through `Deref`: its id, request, `disconnect`, timers, client list...),
/// with sends that take an `&Out` and serialize it once per call, never once per recipient.
///
/// The untyped sends stay reachable through [`raw`](JsonClientContext::raw).
pub struct JsonClientContext<'c, 'a, Out: ?Sized> {
    ctx: &'c mut ClientContext<'a>,
    out: PhantomData<fn(&Out)>,
}

impl<Out: ?Sized> fmt::Debug for JsonClientContext<'_, '_, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JsonClientContext")
            .field(&*self.ctx)
            .finish()
    }
}

impl<'c, 'a, Out: Serialize + ?Sized> JsonClientContext<'c, 'a, Out> {
    pub(crate) fn new(ctx: &'c mut ClientContext<'a>) -> Self {
        JsonClientContext {
            ctx,
            out: PhantomData,
        }
    }

    /// The untyped context, to send a [`Message`] as it is.
    pub fn raw(&mut self) -> &mut ClientContext<'a> {
        self.ctx
    }

    /// Send `value` to the client this event is about.
    pub fn send(&mut self, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.ctx.send(message);
        }
    }

    /// Send `value` to one client (skipped if it has gone).
    pub fn send_to(&mut self, client: ClientId, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.ctx.send_to(client, message);
        }
    }

    /// Send `value` to every connected client: serialized once, one frame shared by all.
    pub fn broadcast(&mut self, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.ctx.broadcast(message);
        }
    }

    /// Send `value` to every connected client but `except`: serialized once.
    pub fn broadcast_except(&mut self, except: ClientId, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.ctx.broadcast_except(except, message);
        }
    }

    /// Send `value` to every connected client but the one this event is about: serialized once.
    pub fn broadcast_others(&mut self, value: &Out) {
        if let Some(message) = encode_or_log(value) {
            self.ctx.broadcast_others(message);
        }
    }
}

impl<'a, Out: ?Sized> Deref for JsonClientContext<'_, 'a, Out> {
    type Target = ClientContext<'a>;

    fn deref(&self) -> &ClientContext<'a> {
        self.ctx
    }
}

impl<'a, Out: ?Sized> DerefMut for JsonClientContext<'_, 'a, Out> {
    fn deref_mut(&mut self) -> &mut ClientContext<'a> {
        self.ctx
    }
}
