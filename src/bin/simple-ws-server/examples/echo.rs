use simple_ws_server::{ClientContext, Handler, Message, MessageRef};

/// Sends every message back to its sender as it came: text as text, binary as binary, empty as
/// empty. A message the server lends in place is copied once, straight into the answer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Echo;

impl Handler for Echo {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        ctx.send(message);
    }

    fn on_message_ref(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: MessageRef<'_>) {
        ctx.send(message);
    }
}
