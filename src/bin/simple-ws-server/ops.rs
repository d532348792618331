//! What the command serves beside the WebSocket, for operators: `GET /healthz` and
//! `GET /metrics` (Prometheus), whatever the example.

use simple_ws_server::{
    ClientContext, CloseReason, Context, Decision, Handler, HttpResponse, Message, MessageRef,
    Request, TimerId,
};

/// The content type of the Prometheus text format.
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Runs `H` and answers the operators' HTTP paths; every other request and event is `H`'s.
pub struct WithOps<H>(pub H);

impl<H: Handler> Handler for WithOps<H> {
    type State = H::State;

    fn on_http(&mut self, ctx: &mut Context<'_>, request: &Request) -> Option<HttpResponse> {
        let get = matches!(request.method().as_str(), "GET" | "HEAD");
        match request.path() {
            "/healthz" if get => Some(HttpResponse::text(200, "ok\n")),
            "/metrics" if get => Some(
                HttpResponse::new(200)
                    .header("Content-Type", PROMETHEUS)
                    .body(ctx.stats().to_prometheus()),
            ),
            _ => self.0.on_http(ctx, request),
        }
    }

    fn on_handshake(&mut self, request: &Request, state: &mut H::State) -> Decision {
        self.0.on_handshake(request, state)
    }

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, state: &mut H::State) {
        self.0.on_open(ctx, state)
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, state: &mut H::State, message: Message) {
        self.0.on_message(ctx, state, message)
    }

    fn on_message_ref(
        &mut self,
        ctx: &mut ClientContext<'_>,
        state: &mut H::State,
        message: MessageRef<'_>,
    ) {
        self.0.on_message_ref(ctx, state, message)
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, state: H::State, reason: CloseReason) {
        self.0.on_close(ctx, state, reason)
    }

    fn on_drain(&mut self, ctx: &mut ClientContext<'_>, state: &mut H::State) {
        self.0.on_drain(ctx, state)
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, timer: TimerId) {
        self.0.on_timer(ctx, timer)
    }
}
