//! Token authentication in the handshake: WebSockets carry no authentication of their own, so the
//! server checks a token before it upgrades the connection, and refuses with `401` otherwise.
//!
//! Run it with `cargo run --example token_auth` (the port is `PORT`, default 8000), then:
//! - a browser (or any client that cannot set headers) puts the token in the URL:
//!   `ws://localhost:8000/?token=let-me-in`;
//! - other clients send a header: `Authorization: Bearer let-me-in`.
//!
//! Every other handshake gets `401 Unauthorized` and never reaches `on_open`. The tokens here are
//! a fixed table; a real server would look them up, compare them in constant time, and serve
//! wss:// (see `Config::tls`) so that they are not sent in clear.

use std::collections::HashMap;

use simple_ws_server::{
    ClientContext, ClientId, CloseReason, Config, Decision, Error, Handler, Message, Request,
    Server,
};

/// Echoes messages prefixed with the user's name, once the handshake showed a valid token.
struct TokenAuth {
    /// Token → user name.
    tokens: HashMap<String, String>,
    /// The user each open client authenticated as.
    users: HashMap<ClientId, String>,
}

impl TokenAuth {
    /// The token a request carries: `?token=...`, else `Authorization: Bearer ...`.
    fn token(request: &Request) -> Option<&str> {
        request.query_param("token").or_else(|| {
            request
                .header("authorization")
                .and_then(|value| value.strip_prefix("Bearer "))
                .map(str::trim)
        })
    }

    fn user(&self, request: &Request) -> Option<&String> {
        Self::token(request).and_then(|token| self.tokens.get(token))
    }
}

impl Handler for TokenAuth {
    fn on_handshake(&mut self, request: &Request) -> Decision {
        match self.user(request) {
            Some(_) => Decision::accept(),
            None => {
                eprintln!("{}: refused, no valid token", request.peer_addr());
                Decision::reject(401, "a valid token is required")
            }
        }
    }

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, request: &Request) {
        // on_handshake accepted this request, so the token is valid.
        let user = self.user(request).cloned().unwrap_or_default();
        ctx.send(format!("hello, {user}"));
        self.users.insert(ctx.id(), user);
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, message: Message) {
        let user = &self.users[&ctx.id()];
        match message.as_text() {
            Some(text) => ctx.send(format!("{user}: {text}")),
            None => ctx.send(message),
        }
    }

    fn on_close(&mut self, ctx: &mut ClientContext<'_>, _reason: CloseReason) {
        self.users.remove(&ctx.id());
    }
}

fn main() -> Result<(), Error> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(8000);
    let handler = TokenAuth {
        tokens: HashMap::from([
            ("let-me-in".to_owned(), "ada".to_owned()),
            ("open-sesame".to_owned(), "grace".to_owned()),
        ]),
        users: HashMap::new(),
    };
    let server = Server::bind(("127.0.0.1", port), Config::default())?;
    println!(
        "listening on ws://{}/ ; connect with ?token=let-me-in or Authorization: Bearer let-me-in",
        server.local_addr()
    );
    server.run(handler)
}
