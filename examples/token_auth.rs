//! Token authentication in the handshake: WebSockets carry no authentication of their own, so the
//! server checks a token before it upgrades the connection, and refuses with `401` otherwise.
//!
//! Run it with `cargo run --example token_auth` (or `-- ADDRESS`; the default is
//! `127.0.0.1:8000`), then:
//! - a browser (or any client that cannot set headers) puts the token in the URL:
//!   `ws://localhost:8000/?token=let-me-in`;
//! - other clients send a header: `Authorization: Bearer let-me-in`.
//!
//! Every other handshake gets `401 Unauthorized` with a `WWW-Authenticate: Bearer` header (RFC
//! 6750, 3) and never reaches `on_open`. The user a token names becomes the connection's state,
//! set in `on_handshake` and handed to every later event. The tokens here are a fixed table; a
//! real server would look them up, compare them in constant time, and serve wss:// (see
//! `Config::tls`) so that they are not sent in clear.

use std::collections::HashMap;

use simple_ws_server::{ClientContext, Config, Decision, Error, Handler, Message, Request, Server};

/// Echoes messages prefixed with the user's name, once the handshake showed a valid token.
struct TokenAuth {
    /// Token → user name.
    tokens: HashMap<String, String>,
}

/// The user a connection authenticated as (its per-connection state).
#[derive(Default)]
struct User(String);

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
}

impl Handler for TokenAuth {
    type State = User;

    fn on_handshake(&mut self, request: &Request, user: &mut User) -> Decision {
        match Self::token(request).and_then(|token| self.tokens.get(token)) {
            Some(name) => {
                user.0 = name.clone();
                Decision::accept()
            }
            None => {
                eprintln!("{}: refused, no valid token", request.peer_addr());
                // "If the protected resource request does not include authentication
                // credentials or does not contain an access token that enables access to the
                // protected resource, the resource server MUST include the HTTP
                // "WWW-Authenticate" response header field" (RFC 6750, 3).
                Decision::reject(401, "a valid token is required")
                    .header("WWW-Authenticate", "Bearer realm=\"token_auth\"")
            }
        }
    }

    fn on_open(&mut self, ctx: &mut ClientContext<'_>, user: &mut User) {
        ctx.send(format!("hello, {}", user.0));
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, user: &mut User, message: Message) {
        match message.as_text() {
            Some(text) => ctx.send(format!("{}: {text}", user.0)),
            None => ctx.send(message),
        }
    }
}

fn main() -> Result<(), Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".into());
    let handler = TokenAuth {
        tokens: HashMap::from([
            ("let-me-in".to_owned(), "ada".to_owned()),
            ("open-sesame".to_owned(), "grace".to_owned()),
        ]),
    };
    let server = Server::bind(addr.as_str(), Config::default())?;
    println!("listening on ws://{}/", server.local_addr());
    println!("connect with ?token=let-me-in or Authorization: Bearer let-me-in");
    server.run(handler)?;
    Ok(())
}
