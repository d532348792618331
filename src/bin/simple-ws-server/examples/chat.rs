use simple_ws_server::{ClientContext, CloseReason, Handler, Message, Relay};

/// The original's chat room: every client hears every other.
///
/// - When a client connects, every other client gets `<ip> - connected`.
/// - A message goes to every client but its sender as `<ip> - <message>`; a binary message is
///   relayed as binary, with the same prefix.
/// - When a client leaves, however it leaves, the rest get `<ip> - disconnected`.
///
/// `<ip>` is the client's bare IP address (IPv4 for IPv4 clients of a dual-stack server).
#[derive(Debug, Default, Clone, Copy)]
pub struct Chat;

impl Handler for Chat {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        let line = format!("{} - connected", ctx.peer().ip());
        ctx.broadcast_others(line);
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        ctx.broadcast_others(said(ctx, message));
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _: (), _reason: CloseReason) {
        let line = format!("{} - disconnected", ctx.peer().ip());
        ctx.broadcast_others(line);
    }
}

/// `<ip> - <message>`, text or binary as the message came.
pub(super) fn said(ctx: &ClientContext<'_>, message: Message) -> Message {
    let ip = ctx.peer().ip();
    match message {
        Message::Text(text) => format!("{ip} - {}", text.as_str()).into(),
        Message::Binary(bytes) => {
            let mut relayed = format!("{ip} - ").into_bytes();
            relayed.extend_from_slice(&bytes);
            relayed.into()
        }
    }
}

/// [`Chat`] for a server of several loops ([`Cluster`](simple_ws_server::Cluster)) or several instances
/// (through a `RedisBridge`): the same lines, also published through a
/// [`Relay`] so that the clients of every loop and instance hear them, each exactly once.
///
/// Each client's arrival is also logged at info level as `loop N: <peer> connected`, naming the
/// loop that accepted it.
#[derive(Clone, Debug)]
pub struct RelayChat {
    relay: Relay,
}

impl RelayChat {
    /// The chat of the loop `relay` belongs to.
    pub fn new(relay: Relay) -> Self {
        RelayChat { relay }
    }

    fn tell_everyone_else(&self, ctx: &mut ClientContext<'_>, line: Message) {
        ctx.broadcast_others(line.clone());
        self.relay.publish(line);
    }
}

impl Handler for RelayChat {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        let line = format!("{} - connected", ctx.peer().ip());
        self.tell_everyone_else(ctx, line.into());
        // Logged once the other loops have been told (what tests wait for).
        log::info!("loop {}: {} connected", self.relay.loop_index(), ctx.peer());
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        let line = said(ctx, message);
        self.tell_everyone_else(ctx, line);
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _: (), _reason: CloseReason) {
        let line = format!("{} - disconnected", ctx.peer().ip());
        self.tell_everyone_else(ctx, line.into());
    }
}
