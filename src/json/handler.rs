//! The trait a typed protocol implements.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::client::TimerId;
use crate::handler::context::Context;
use crate::json::context::{JsonClientContext, JsonContext};
use crate::json::invalid::InvalidInput;
use crate::message::CloseReason;
use crate::request::Request;
use crate::response::{Decision, HttpResponse};

/// A protocol of typed messages: [`Handler`](crate::Handler)'s events, with each client message
/// already parsed as [`In`](JsonHandler::In) and sends that take [`Out`](JsonHandler::Out)
/// values. Run it wrapped in [`Json`](crate::json::Json), which implements `Handler`.
///
/// Only `In`, `Out`, `State` and [`on_message`](JsonHandler::on_message) must be written; the
/// other methods default as [`Handler`](crate::Handler)'s do, and
/// [`on_invalid`](JsonHandler::on_invalid) to closing the client (1007).
///
/// ```
/// use simple_ws_server::json::{JsonClientContext, JsonHandler};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum In {
///     Add { a: i64, b: i64 },
/// }
///
/// #[derive(Serialize)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum Out {
///     Sum { value: i64 },
///     Error { message: String },
/// }
///
/// struct Adder;
///
/// impl JsonHandler for Adder {
///     type In = In;
///     type Out = Out;
///     type State = ();
///
///     fn on_message(&mut self, ctx: &mut JsonClientContext<'_, '_, Out>, _: &mut (), msg: In) {
///         match msg {
///             In::Add { a, b } => match a.checked_add(b) {
///                 Some(value) => ctx.send(&Out::Sum { value }),
///                 None => ctx.send(&Out::Error { message: "overflow".into() }),
///             },
///         }
///     }
/// }
/// ```
pub trait JsonHandler {
    /// What a client sends: typically an enum tagged by a `type` field
    /// (`#[serde(tag = "type")]`). Anything that does not parse as it goes to
    /// [`on_invalid`](JsonHandler::on_invalid), never to [`on_message`](JsonHandler::on_message).
    type In: DeserializeOwned;

    /// What the server sends, serialized as JSON text once per send, broadcast or publish.
    type Out: Serialize;

    /// Each connection's state, as [`Handler::State`](crate::Handler::State).
    type State: Default;

    /// As [`Handler::on_handshake`](crate::Handler::on_handshake). Default: accept.
    fn on_handshake(&mut self, request: &Request, state: &mut Self::State) -> Decision {
        let _ = (request, state);
        Decision::accept()
    }

    /// As [`Handler::on_http`](crate::Handler::on_http). Default: `None` (the server's own
    /// answer).
    fn on_http(&mut self, ctx: &mut Context<'_>, request: &Request) -> Option<HttpResponse> {
        let _ = (ctx, request);
        None
    }

    /// As [`Handler::on_open`](crate::Handler::on_open).
    fn on_open(&mut self, ctx: &mut JsonClientContext<'_, '_, Self::Out>, state: &mut Self::State) {
        let _ = (ctx, state);
    }

    /// A client message that parsed as [`In`](JsonHandler::In).
    fn on_message(
        &mut self,
        ctx: &mut JsonClientContext<'_, '_, Self::Out>,
        state: &mut Self::State,
        message: Self::In,
    );

    /// A client message that did not parse as [`In`](JsonHandler::In) (not JSON, another
    /// shape, an unknown variant, a value out of its type's range, nested too deep), or a binary
    /// message the adapter does not take ([`BinaryInput`](crate::json::BinaryInput)).
    ///
    /// `None` (the default) closes the client with [`error.close_code()`](InvalidInput::close_code)
    /// (1007; 1003 for a refused binary message) and
    /// [`error.reason()`](InvalidInput::reason) (the parser's first error, cut to 123 bytes).
    /// `Some(out)` sends `out` to the client instead and the connection stays open: the choice
    /// of a protocol that answers errors in-band. The context can also count a client's errors
    /// and [`disconnect`](crate::ClientContext::disconnect) it past some number.
    ///
    /// ```
    /// use simple_ws_server::json::{InvalidInput, JsonClientContext, JsonHandler};
    ///
    /// #[derive(serde::Serialize)]
    /// #[serde(tag = "type", rename_all = "snake_case")]
    /// enum Out {
    ///     Error { message: String },
    /// }
    ///
    /// struct Lenient;
    ///
    /// impl JsonHandler for Lenient {
    ///     type In = serde_json::Value;
    ///     type Out = Out;
    ///     type State = ();
    ///
    ///     fn on_message(&mut self, _: &mut JsonClientContext<'_, '_, Out>, _: &mut (), _: serde_json::Value) {}
    ///
    ///     fn on_invalid(
    ///         &mut self,
    ///         _: &mut JsonClientContext<'_, '_, Out>,
    ///         _: &mut (),
    ///         error: &InvalidInput,
    ///     ) -> Option<Out> {
    ///         Some(Out::Error { message: error.reason().to_owned() })
    ///     }
    /// }
    /// ```
    fn on_invalid(
        &mut self,
        ctx: &mut JsonClientContext<'_, '_, Self::Out>,
        state: &mut Self::State,
        error: &InvalidInput,
    ) -> Option<Self::Out> {
        let _ = (ctx, state, error);
        None
    }

    /// As [`Handler::on_close`](crate::Handler::on_close).
    fn on_close(
        &mut self,
        ctx: &mut JsonClientContext<'_, '_, Self::Out>,
        state: Self::State,
        reason: CloseReason,
    ) {
        let _ = (ctx, state, reason);
    }

    /// As [`Handler::on_timer`](crate::Handler::on_timer).
    fn on_timer(&mut self, ctx: &mut JsonContext<'_, '_, Self::Out>, timer: TimerId) {
        let _ = (ctx, timer);
    }

    /// As [`Handler::on_drain`](crate::Handler::on_drain).
    fn on_drain(
        &mut self,
        ctx: &mut JsonClientContext<'_, '_, Self::Out>,
        state: &mut Self::State,
    ) {
        let _ = (ctx, state);
    }
}
