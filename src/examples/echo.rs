use crate::{ClientContext, Handler, Message};

/// Sends every message back to its sender as it came: text as text, binary as binary, empty as
/// empty.
///
/// ```no_run
/// use simple_ws_server::{examples::Echo, Config, Server};
///
/// Server::bind("127.0.0.1:8000", Config::default())?.run(Echo)?;
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Echo;

impl Handler for Echo {
    type State = ();

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        ctx.send(message);
    }
}
