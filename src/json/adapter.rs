//! `Json<H>`: the `Handler` that parses each message for a `JsonHandler`.

use crate::client::TimerId;
use crate::handler::client_context::ClientContext;
use crate::handler::context::Context;
use crate::handler::Handler;
use crate::json::context::{JsonClientContext, JsonContext};
use crate::json::handler::JsonHandler;
use crate::json::invalid::{decode, InvalidInput};
use crate::message::{CloseReason, Message};
use crate::message_ref::MessageRef;
use crate::request::Request;
use crate::response::{Decision, HttpResponse};

/// What the adapter does with a binary message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BinaryInput {
    /// Refuse it as invalid input: [`on_invalid`](crate::json::JsonHandler::on_invalid), by
    /// default a close with 1003. The default: browsers send `JSON.stringify` output as text.
    #[default]
    Refuse,
    /// Parse its bytes as JSON (UTF-8), exactly as a text message.
    Json,
}

/// A [`JsonHandler`] as a [`Handler`]: parses every client message as `H::In` before `H` sees
/// it, and hands `H` contexts whose sends take `H::Out`.
///
/// Settings, each with its default:
///
/// - [`binary`](Json::binary): what a binary message is; default [`BinaryInput::Refuse`].
/// - What happens to a message that does not parse is `H`'s
///   [`on_invalid`](JsonHandler::on_invalid): by default a close with 1007 and the first error.
///
/// The server's limits apply first: a message over
/// [`Config::max_message_size`](crate::Config::max_message_size) is closed with 1009 before it
/// is parsed, and invalid UTF-8 in a text message with 1007.
///
/// ```no_run
/// # use simple_ws_server::json::{JsonClientContext, JsonHandler};
/// # struct Echo;
/// # impl JsonHandler for Echo {
/// #     type In = serde_json::Value;
/// #     type Out = serde_json::Value;
/// #     type State = ();
/// #     fn on_message(&mut self, ctx: &mut JsonClientContext<'_, '_, Self::Out>, _: &mut (), m: Self::In) {
/// #         ctx.send(&m);
/// #     }
/// # }
/// use simple_ws_server::json::{BinaryInput, Json};
/// use simple_ws_server::{Config, Server};
///
/// let server = Server::bind("127.0.0.1:8000", Config::default().max_message_size(64 << 10))?;
/// server.run(Json::new(Echo).binary(BinaryInput::Json))?;
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Json<H> {
    handler: H,
    binary: BinaryInput,
}

impl<H: JsonHandler> Json<H> {
    /// Wraps `handler`, with every setting at its default.
    pub fn new(handler: H) -> Self {
        Json {
            handler,
            binary: BinaryInput::Refuse,
        }
    }

    /// What a binary message is (default: [`BinaryInput::Refuse`]).
    pub fn binary(mut self, binary: BinaryInput) -> Self {
        self.binary = binary;
        self
    }

    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.handler
    }

    /// The wrapped handler, mutably.
    pub fn get_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// The wrapped handler, unwrapped.
    pub fn into_inner(self) -> H {
        self.handler
    }

    /// Hands parsed input to the handler, or invalid input to its `on_invalid`.
    fn on_parsed(
        &mut self,
        ctx: &mut ClientContext<'_>,
        state: &mut H::State,
        parsed: Result<H::In, InvalidInput>,
    ) {
        let mut ctx = JsonClientContext::new(ctx);
        match parsed {
            Ok(input) => self.handler.on_message(&mut ctx, state, input),
            Err(error) => match self.handler.on_invalid(&mut ctx, state, &error) {
                Some(answer) => ctx.send(&answer),
                None => {
                    log::debug!("{}: invalid input, closing: {error}", ctx.peer());
                    ctx.disconnect(error.close_code(), error.reason());
                }
            },
        }
    }
}

impl<H: JsonHandler> Handler for Json<H> {
    type State = H::State;

    fn on_handshake(&mut self, request: &Request, state: &mut H::State) -> Decision {
        self.handler.on_handshake(request, state)
    }

    fn on_http(&mut self, ctx: &mut Context<'_>, request: &Request) -> Option<HttpResponse> {
        self.handler.on_http(ctx, request)
    }

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, state: &mut H::State) {
        self.handler
            .on_open(&mut JsonClientContext::new(ctx), state);
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, state: &mut H::State, message: Message) {
        let parsed = decode::<H::In>(message.as_message_ref(), self.binary == BinaryInput::Json);
        drop(message);
        self.on_parsed(ctx, state, parsed);
    }

    /// Parsed where the server read it: no owned copy of the text is made.
    fn on_message_ref(
        &mut self,
        ctx: &mut ClientContext<'_>,
        state: &mut H::State,
        message: MessageRef<'_>,
    ) {
        let parsed = decode::<H::In>(message, self.binary == BinaryInput::Json);
        self.on_parsed(ctx, state, parsed);
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, state: H::State, reason: CloseReason) {
        self.handler
            .on_close(&mut JsonClientContext::new(ctx), state, reason);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        self.handler.on_timer(&mut JsonContext::new(ctx), timer);
    }

    fn on_drain(&mut self, ctx: &mut ClientContext<'_>, state: &mut H::State) {
        self.handler
            .on_drain(&mut JsonClientContext::new(ctx), state);
    }
}
