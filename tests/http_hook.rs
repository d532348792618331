//! Plain HTTP beside the WebSocket: the handler's `on_http` hook, the server's default answers
//! when it declines, the loop's counters, and the command's `/healthz` and `/metrics`.

mod common;

use common::*;
use simple_ws_server::{ClientContext, Config, Context, Handler, HttpResponse, Message, Request};
use tungstenite::Message as WsMessage;

/// Answers `/hello`, broadcasts on `POST /announce`, shows its counters at `/stats`, and leaves
/// every other path to the server; echoes WebSocket messages.
struct Routes;

impl Handler for Routes {
    type State = ();

    fn on_http(&mut self, ctx: &mut Context<'_>, request: &Request) -> Option<HttpResponse> {
        match (request.method().as_str(), request.path()) {
            (_, "/hello") => Some(HttpResponse::text(200, "hi").header("X-Test", "yes")),
            ("POST", "/announce") => {
                ctx.broadcast("announced over http");
                Some(HttpResponse::new(202))
            }
            ("GET", "/stats") => Some(HttpResponse::text(200, ctx.stats().to_prometheus())),
            _ => None,
        }
    }

    fn on_message(&mut self, ctx: &mut ClientContext<'_>, _: &mut (), message: Message) {
        ctx.send(message);
    }
}

fn get(addr: std::net::SocketAddr, method: &str, path: &str) -> String {
    http_exchange(
        addr,
        format!("{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
}

#[test]
fn on_http_answers_its_paths_and_leaves_the_rest_to_the_server() {
    let server = TestServer::start(Routes, Config::default());
    let hello = get(server.addr, "GET", "/hello?x=1");
    assert!(hello.starts_with("HTTP/1.1 200 OK\r\n"), "{hello}");
    assert!(hello.contains("\r\nx-test: yes\r\n"), "{hello}");
    assert!(hello.contains("\r\nContent-Length: 2\r\n"), "{hello}");
    assert!(hello.ends_with("\r\n\r\nhi"), "{hello}");
    // HEAD: the same head, no body.
    let head = get(server.addr, "HEAD", "/hello");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "{head}");
    // Declined: the page at /, 404 elsewhere.
    let page = get(server.addr, "GET", "/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<html"), "{page}");
    assert!(get(server.addr, "GET", "/nothing").starts_with("HTTP/1.1 404"));
    server.stop().unwrap();

    let server = TestServer::start(Routes, Config::default().serve_page(false));
    assert!(get(server.addr, "GET", "/").starts_with("HTTP/1.1 404"));
    server.stop().unwrap();
}

#[test]
fn what_on_http_queues_reaches_the_websocket_clients() {
    let server = TestServer::start(Routes, Config::default());
    let mut client = connect(server.addr);
    assert_echoes(&mut client, "ready");
    let answer = get(server.addr, "POST", "/announce");
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert_eq!(recv_text(&mut client), "announced over http");
    server.stop().unwrap();
}

#[test]
fn the_loop_counts_messages_bytes_connections_and_closes() {
    let server = TestServer::start(Routes, Config::default());
    let mut client = connect(server.addr);
    assert_echoes(&mut client, "12345");
    client.send(WsMessage::binary(vec![0u8; 10])).unwrap();
    assert_eq!(recv(&mut client), WsMessage::binary(vec![0u8; 10]));
    let stats = get(server.addr, "GET", "/stats");
    for line in [
        "websocket_connections 1\n",
        "websocket_messages_received_total 2\n",
        "websocket_received_bytes_total 15\n",
        "websocket_messages_sent_total 2\n",
        "websocket_sent_bytes_total 15\n",
        "websocket_closes_total{reason=\"by_client\"} 0\n",
    ] {
        assert!(stats.contains(line), "{line:?} missing from\n{stats}");
    }
    client.close(None).unwrap();
    assert!(wait_until(IO_TIMEOUT, || {
        let stats = get(server.addr, "GET", "/stats");
        stats.contains("websocket_closes_total{reason=\"by_client\"} 1\n")
            && stats.contains("websocket_connections 0\n")
    }));
    server.stop().unwrap();
}

#[test]
fn the_command_serves_healthz_and_prometheus_metrics() {
    let mut binary = Binary::start(&["--example", "echo"]);
    let health = get(binary.addr, "GET", "/healthz");
    assert!(health.starts_with("HTTP/1.1 200 OK\r\n"), "{health}");
    assert!(health.ends_with("\r\n\r\nok\n"), "{health}");
    let mut client = connect(binary.addr);
    assert_echoes(&mut client, "abc");
    let metrics = get(binary.addr, "GET", "/metrics");
    assert!(
        metrics.contains("\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\n"),
        "{metrics}"
    );
    for line in [
        "# TYPE websocket_connections gauge\n",
        "websocket_connections 1\n",
        "websocket_messages_received_total 1\n",
        "websocket_received_bytes_total 3\n",
        "websocket_backlog_bytes 0\n",
        "websocket_flow_pauses_total 0\n",
        "websocket_flow_drops_total 0\n",
        "websocket_closes_total{reason=\"timeout\"} 0\n",
    ] {
        assert!(metrics.contains(line), "{line:?} missing from\n{metrics}");
    }
    // Other paths are still the example's: the page and 404.
    assert!(get(binary.addr, "GET", "/").contains("<html"));
    assert!(get(binary.addr, "GET", "/metricsx").starts_with("HTTP/1.1 404"));
    drop(client);
    assert!(binary.terminate().success());
}
