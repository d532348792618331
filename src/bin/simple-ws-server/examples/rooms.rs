use simple_ws_server::{ClientContext, CloseReason, Handler, Message};

use super::chat::said;

/// The chat, in rooms: the URL path names the room (`ws://host:8000/lobby` is room `/lobby`,
/// `ws://host:8000/` room `/`), and the chat's lines go to the room's other members only.
///
/// - When a client connects, the others in its room get `<ip> - connected`.
/// - A message goes to everyone in the room but its sender as `<ip> - <message>`.
/// - When a client leaves, the rest of its room get `<ip> - disconnected`.
///
/// Each room is a topic ([`ClientContext::subscribe`]); with `--threads` and `--redis` the
/// loops are linked by a relay, so a room spans every loop and instance.
///
/// Each client's arrival is logged at info level as `loop N: <peer> joined <room>`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Rooms {
    loop_index: usize,
}

impl Rooms {
    /// The rooms of loop `loop_index` (only named in the log).
    pub fn new(loop_index: usize) -> Self {
        Rooms { loop_index }
    }
}

impl Handler for Rooms {
    type State = ();

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _: &mut ()) {
        let room = ctx.request().path().to_owned();
        ctx.subscribe(&room);
        let line = format!("{} - connected", ctx.peer().ip());
        ctx.publish_except(&room, line);
        log::info!("loop {}: {} joined {room}", self.loop_index, ctx.peer());
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        let room = ctx.request().path().to_owned();
        let line = said(ctx, message);
        ctx.publish_except(&room, line);
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _: (), _reason: CloseReason) {
        let room = ctx.request().path().to_owned();
        let line = format!("{} - disconnected", ctx.peer().ip());
        ctx.publish_except(&room, line);
    }
}
