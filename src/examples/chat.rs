use crate::{ClientContext, CloseReason, Handler, Message, Request};

/// The original's chat room: every client hears every other.
///
/// - When a client connects, every other client gets `<ip> - connected`.
/// - A message goes to every client but its sender as `<ip> - <message>`; a binary message is
///   relayed as binary, with the same prefix.
/// - When a client leaves, however it leaves, the rest get `<ip> - disconnected`.
///
/// `<ip>` is the client's bare IP address (IPv4 for IPv4 clients of a dual-stack server).
///
/// ```no_run
/// use simple_ws_server::{examples::Chat, Config, Server};
///
/// Server::bind("127.0.0.1:8000", Config::default())?.run(Chat)?;
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Chat;

impl Handler for Chat {
    fn on_open(&mut self, ctx: &mut ClientContext<'_>, _request: &Request) {
        let line = format!("{} - connected", ctx.peer().ip());
        ctx.broadcast_others(line);
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message) {
        let ip = ctx.peer().ip();
        match message {
            Message::Text(text) => ctx.broadcast_others(format!("{ip} - {}", text.as_str())),
            Message::Binary(bytes) => {
                let mut relayed = format!("{ip} - ").into_bytes();
                relayed.extend_from_slice(&bytes);
                ctx.broadcast_others(relayed);
            }
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _reason: CloseReason) {
        let line = format!("{} - disconnected", ctx.peer().ip());
        ctx.broadcast_others(line);
    }
}
