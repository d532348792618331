//! End-to-end tests of `websocket.html` in headless Chromium, driven through chromedriver
//! (WebDriver), with real typing and clicks, against the `simple-ws-server` binary.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/install/browser` installs them).
//! Every test leaves PNG screenshots of its pages in `target/screenshots/`.

#[path = "browser/harness.rs"]
mod harness;
#[path = "common/skip.rs"]
mod skip;

use std::future::Future;
use std::time::Duration;

use fantoccini::key::Key;
use harness::{
    click, is_enabled, live_processes_in_group, log_lines, type_into, value, wait_for_line,
    wait_for_status, Browser, Server,
};

/// The most one test may take, browser start-up included.
const TEST_TIME: Duration = Duration::from_secs(120);

/// Runs one test within `TEST_TIME`; on a timeout its processes die with their guards.
/// Skipped, saying why, where chromium or chromedriver is missing (see tests/common/skip.rs).
async fn bounded(test: impl Future<Output = ()>) {
    let needs = ["chromium", "chromedriver"];
    if !skip::have_programs("this test", &needs, "scripts/install/browser") {
        return;
    }
    tokio::time::timeout(TEST_TIME, test)
        .await
        .unwrap_or_else(|_| panic!("the test took longer than {TEST_TIME:?}"));
}

/// The page as a file on disk, as users of the Python original open it.
fn page_on_disk() -> String {
    format!("file://{}/websocket.html", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn echo_through_the_served_page() {
    bounded(async {
        let server = Server::start("echo").await;
        let mut browser = Browser::start("echo", &[]).await;
        let c = &browser.client;
        c.goto(&server.http_url)
            .await
            .expect("open the served page");

        // Served over http, the page defaults to the server it came from.
        assert_eq!(value(c, "url").await, server.ws_url);
        wait_for_status(c, "disconnected").await;
        assert!(
            !is_enabled(c, "send").await,
            "Send is disabled until connected"
        );
        assert!(
            !is_enabled(c, "disconnect").await,
            "Disconnect is disabled until connected"
        );

        click(c, "connect").await;
        wait_for_line(c, "connected").await;
        wait_for_status(c, "connected").await;
        assert!(is_enabled(c, "send").await);
        assert!(is_enabled(c, "disconnect").await);
        assert!(
            !is_enabled(c, "connect").await,
            "Connect is disabled while connected"
        );

        type_into(c, "message", "hello from the echo test \u{e9}\u{2713}").await;
        click(c, "send").await;
        wait_for_line(c, "sent: hello from the echo test \u{e9}\u{2713}").await;
        wait_for_line(c, "response: hello from the echo test \u{e9}\u{2713}").await;

        // Enter in the message box sends too.
        type_into(c, "message", &format!("second{}", &*Key::Enter)).await;
        let log = wait_for_line(c, "response: second").await;
        assert_eq!(
            log,
            [
                "connected",
                "sent: hello from the echo test \u{e9}\u{2713}",
                "response: hello from the echo test \u{e9}\u{2713}",
                "sent: second",
                "response: second",
            ]
        );
        browser.screenshot("echoed").await;
        let c = &browser.client;

        click(c, "clear").await;
        assert_eq!(value(c, "log").await, "", "Clear empties the log");

        click(c, "disconnect").await;
        let log = wait_for_line(c, "disconnected").await;
        assert_eq!(log, ["disconnected"]);
        wait_for_status(c, "disconnected").await;
        assert!(!is_enabled(c, "send").await, "Send is disabled again");
        assert!(!is_enabled(c, "disconnect").await);
        assert!(is_enabled(c, "connect").await);
        browser.screenshot("disconnected").await;
        browser.quit().await;
    })
    .await;
}

#[tokio::test]
async fn chat_between_two_tabs() {
    bounded(async {
        let server = Server::start("chat").await;
        let mut browser = Browser::start("chat", &[]).await;
        let c = browser.client.clone();

        let tab_a = c.window().await.expect("the first tab");
        c.goto(&server.http_url)
            .await
            .expect("open the page in tab A");
        click(&c, "connect").await;
        wait_for_line(&c, "connected").await;

        let tab_b = c.new_window(true).await.expect("open tab B").handle;
        c.switch_to_window(tab_b.clone())
            .await
            .expect("go to tab B");
        c.goto(&server.http_url)
            .await
            .expect("open the page in tab B");
        click(&c, "connect").await;
        wait_for_line(&c, "connected").await;

        c.switch_to_window(tab_a.clone())
            .await
            .expect("go to tab A");
        wait_for_line(&c, "response: 127.0.0.1 - connected").await;
        type_into(&c, "message", "hello from A").await;
        click(&c, "send").await;
        wait_for_line(&c, "sent: hello from A").await;

        c.switch_to_window(tab_b.clone())
            .await
            .expect("go to tab B");
        wait_for_line(&c, "response: 127.0.0.1 - hello from A").await;
        type_into(&c, "message", "hi from B").await;
        click(&c, "send").await;
        let log_b = wait_for_line(&c, "sent: hi from B").await;
        assert!(
            !log_b
                .iter()
                .any(|l| l.starts_with("response: 127.0.0.1 - connected")),
            "a newcomer is told of nobody's arrival: {log_b:?}"
        );

        c.switch_to_window(tab_a.clone())
            .await
            .expect("go to tab A");
        let log_a = wait_for_line(&c, "response: 127.0.0.1 - hi from B").await;
        assert!(
            !log_a
                .iter()
                .any(|l| l == "response: 127.0.0.1 - hello from A"),
            "the sender gets no copy of its own message: {log_a:?}"
        );

        c.switch_to_window(tab_b).await.expect("go to tab B");
        browser.screenshot("tab-b").await;
        c.close_window().await.expect("close tab B");
        c.switch_to_window(tab_a).await.expect("go to tab A");
        let log_a = wait_for_line(&c, "response: 127.0.0.1 - disconnected").await;
        assert_eq!(
            log_a,
            [
                "connected",
                "response: 127.0.0.1 - connected",
                "sent: hello from A",
                "response: 127.0.0.1 - hi from B",
                "response: 127.0.0.1 - disconnected",
            ]
        );
        wait_for_status(&c, "connected").await;
        browser.screenshot("tab-a").await;
        browser.quit().await;
    })
    .await;
}

#[tokio::test]
async fn page_opened_from_disk_connects_to_the_server_in_its_url_box() {
    bounded(async {
        let server = Server::start("echo").await;
        let mut browser = Browser::start("file", &[]).await;
        let c = &browser.client;
        c.goto(&page_on_disk())
            .await
            .expect("open the page from disk");

        // Opened from disk, the page defaults to the example server's usual address.
        assert_eq!(value(c, "url").await, "ws://localhost:8000/");
        assert_eq!(value(c, "message").await, "Hello World!");
        type_into(c, "url", &server.ws_url).await;
        click(c, "connect").await;
        wait_for_status(c, "connected").await;
        click(c, "send").await;
        let log = wait_for_line(c, "response: Hello World!").await;
        assert_eq!(
            log,
            ["connected", "sent: Hello World!", "response: Hello World!"]
        );
        browser.screenshot("echoed").await;
        browser.quit().await;
    })
    .await;
}

/// A one-client WebSocket server, made with tungstenite in a thread, that sends binary
/// messages the way no example does, to see how the page shows them.
fn binary_sender() -> String {
    use tungstenite::Message;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let url = format!("ws://{}/", listener.local_addr().expect("local address"));
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept the page");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("set a read timeout");
        let mut ws = tungstenite::accept(stream).expect("WebSocket handshake");
        for message in [
            Message::binary(b"hello".to_vec()),
            Message::binary(Vec::new()),
            Message::binary((0..100u8).collect::<Vec<u8>>()),
            Message::text("text after binary"),
        ] {
            ws.send(message).expect("send to the page");
        }
        // Answer the page's close (bounded by the read timeout and a count).
        for _ in 0..10 {
            if ws.read().is_err() {
                break;
            }
        }
    });
    url
}

#[tokio::test]
async fn binary_messages_are_shown_as_hex() {
    bounded(async {
        let url = binary_sender();
        let mut browser = Browser::start("binary", &[]).await;
        let c = &browser.client;
        c.goto(&page_on_disk())
            .await
            .expect("open the page from disk");
        type_into(c, "url", &url).await;
        click(c, "connect").await;
        let log = wait_for_line(c, "response: text after binary").await;
        let first_64: Vec<String> = (0..64).map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            log,
            [
                "connected".to_owned(),
                "response: <binary 5 bytes: 68 65 6c 6c 6f>".to_owned(),
                "response: <binary 0 bytes>".to_owned(),
                format!(
                    "response: <binary 100 bytes: {} \u{2026}>",
                    first_64.join(" ")
                ),
                "response: text after binary".to_owned(),
            ]
        );
        browser.screenshot("binary").await;
        let c = &browser.client;
        click(c, "disconnect").await;
        wait_for_line(c, "disconnected").await;
        wait_for_status(c, "disconnected").await;
        assert_eq!(
            log_lines(c).await.last().map(String::as_str),
            Some("disconnected")
        );
        browser.quit().await;
    })
    .await;
}

#[tokio::test]
async fn no_server_driver_or_browser_process_outlives_its_guard() {
    bounded(async {
        let server = Server::start("echo").await;
        let browser = Browser::start("guard", &[]).await;
        browser
            .client
            .goto(&page_on_disk())
            .await
            .expect("open the page");
        let groups = [server.group.pgid, browser.driver.pgid];
        let before = groups.map(live_processes_in_group);
        assert_eq!(before[0], 1, "the server runs in its own process group");
        assert!(
            before[1] >= 3,
            "chromedriver and chromium's processes share one group: {before:?}"
        );

        // Dropped without ending the session, as when a test panics or times out.
        drop(server);
        drop(browser);
        let mut after = before;
        for _ in 0..100 {
            after = groups.map(live_processes_in_group);
            if after == [0, 0] {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("processes left in the groups {groups:?} 5 s after the guards: {after:?}");
    })
    .await;
}

/// The echo over wss://, the page served over https, with a certificate made at test time
/// that the browser is told to accept (`--ignore-certificate-errors`).
#[tokio::test]
async fn echo_over_wss_through_the_page_served_over_https() {
    bounded(async {
        let certs = harness::TempDir::new("wss-cert");
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let made = rcgen::generate_simple_self_signed(names).expect("make a test certificate");
        let (cert, key) = (certs.0.join("cert.pem"), certs.0.join("key.pem"));
        std::fs::write(&cert, made.cert.pem()).expect("write cert.pem");
        std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key.pem");
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        let server = Server::start_with("echo", &["--ssl", "--cert", cert, "--key", key]).await;
        assert!(
            server.ws_url.starts_with("wss://127.0.0.1:"),
            "{}",
            server.ws_url
        );
        assert!(
            server.http_url.starts_with("https://127.0.0.1:"),
            "{}",
            server.http_url
        );

        let mut browser = Browser::start("wss", &["--ignore-certificate-errors"]).await;
        let c = &browser.client;
        c.goto(&server.http_url)
            .await
            .expect("open the page served over https");
        // Served over https, the page defaults to wss:// on the same server.
        assert_eq!(value(c, "url").await, server.ws_url);
        click(c, "connect").await;
        wait_for_status(c, "connected").await;
        type_into(c, "message", "hello over wss").await;
        click(c, "send").await;
        let log = wait_for_line(c, "response: hello over wss").await;
        assert_eq!(
            log,
            [
                "connected",
                "sent: hello over wss",
                "response: hello over wss"
            ]
        );
        browser.screenshot("echoed").await;
        let c = &browser.client;
        click(c, "disconnect").await;
        wait_for_line(c, "disconnected").await;
        browser.quit().await;
    })
    .await;
}

/// `--example stream`: the server pushes samples five times a second and the page draws them
/// as a live chart, while the log keeps working as before.
#[tokio::test]
async fn stream_samples_are_drawn_as_a_live_chart() {
    bounded(async {
        let server = Server::start("stream").await;
        let mut browser = Browser::start("stream", &[]).await;
        let c = &browser.client;
        c.goto(&server.http_url)
            .await
            .expect("open the served page");
        let live = harness::el(c, "live").await;
        assert!(
            !live.is_displayed().await.expect("read displayed"),
            "the chart is hidden until samples arrive"
        );

        click(c, "connect").await;
        wait_for_status(c, "connected").await;
        // Five samples a second: wait for the 30th.
        let mut caption = String::new();
        for _ in 0..400 {
            caption = harness::el(c, "live-caption")
                .await
                .text()
                .await
                .expect("caption text");
            let seq: u64 = caption
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if seq >= 30 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            caption.starts_with("sample ") && caption.contains(" 1 client "),
            "caption {caption:?}"
        );
        assert!(live.is_displayed().await.expect("read displayed"));

        // The plot area (above the legend) has the signal drawn on it, in the signal's colour.
        let count_signal_pixels = "const chart = document.getElementById('chart');\
            const d = chart.getContext('2d').getImageData(0, 0, chart.width, chart.height - 24).data;\
            let n = 0;\
            for (let i = 0; i < d.length; i += 4)\
              if (d[i] === 0x1f && d[i + 1] === 0x6f && d[i + 2] === 0xeb) n++;\
            return n;";
        let drawn = c
            .execute(count_signal_pixels, vec![])
            .await
            .expect("count the chart's pixels");
        assert!(
            drawn.as_u64().unwrap_or(0) > 50,
            "signal pixels on the chart: {drawn}"
        );

        // Samples go to the chart, not the log; typed messages still come back in the log.
        type_into(c, "message", "still an echo").await;
        click(c, "send").await;
        let log = wait_for_line(c, "response: still an echo").await;
        assert_eq!(
            log,
            [
                "connected",
                "sent: still an echo",
                "response: still an echo"
            ]
        );
        c.execute("window.scrollTo(0, 0);", vec![])
            .await
            .expect("scroll to the chart");
        browser.screenshot("chart").await;
        let c = &browser.client;

        // The chart moves.
        let picture = "return document.getElementById('chart').toDataURL();";
        let before = c.execute(picture, vec![]).await.expect("read the chart");
        tokio::time::sleep(Duration::from_millis(600)).await;
        let after = c.execute(picture, vec![]).await.expect("read the chart");
        assert_ne!(before, after, "the chart changes as samples arrive");
        browser.screenshot("chart-later").await;
        browser.quit().await;
    })
    .await;
}
