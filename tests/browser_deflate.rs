//! permessage-deflate (RFC 7692) in a real browser: headless Chromium offers the extension, the
//! server started with `--deflate` accepts it, and `websocket.html` works over it (the echo,
//! and the `--example stream` chart with the bytes the compression saved).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/install/browser` installs them).
//! Screenshots go to `target/screenshots/`, as in tests/browser.rs.

#[path = "browser/harness.rs"]
// Reason: the harness serves tests/browser.rs too; this file uses only part of it.
#[allow(dead_code)]
mod harness;
#[path = "common/skip.rs"]
mod skip;

use std::future::Future;
use std::time::Duration;

use fantoccini::Client;
use harness::{click, el, type_into, wait_for_line, wait_for_status, Browser, Server};

/// The most one test may take, browser start-up included.
const TEST_TIME: Duration = Duration::from_secs(120);

/// Runs one test within `TEST_TIME`; skipped, saying why, where chromium or chromedriver is
/// missing (see tests/common/skip.rs).
async fn bounded(test: impl Future<Output = ()>) {
    let needs = ["chromium", "chromedriver"];
    if !skip::have_programs("this test", &needs, "scripts/install/browser") {
        return;
    }
    tokio::time::timeout(TEST_TIME, test)
        .await
        .unwrap_or_else(|_| panic!("the test took longer than {TEST_TIME:?}"));
}

/// The extensions the page's socket negotiated: `WebSocket.extensions`, which holds the
/// `Sec-WebSocket-Extensions` of the server's 101 as the browser accepted it (the page copies
/// it to `#status`'s `data-extensions` on open).
async fn negotiated_extensions(c: &Client) -> String {
    let got = c
        .execute(
            "return document.getElementById('status').dataset.extensions ?? null;",
            vec![],
        )
        .await
        .expect("read the negotiated extensions");
    got.as_str()
        .unwrap_or_else(|| panic!("the page recorded no extensions on open: {got}"))
        .to_owned()
}

/// RFC 7692 section 5: "A client ... requests the extension by including an extension name
/// "permessage-deflate" in the Sec-WebSocket-Extensions header"; Chromium always offers it, so
/// the server's answer decides.
#[tokio::test]
async fn echo_through_the_page_with_permessage_deflate_negotiated() {
    bounded(async {
        let server = Server::start_with("echo", &["--deflate"]).await;
        let mut browser = Browser::start("deflate-echo", &[]).await;
        let c = &browser.client;
        c.goto(&server.http_url)
            .await
            .expect("open the served page");
        click(c, "connect").await;
        wait_for_status(c, "connected").await;
        let extensions = negotiated_extensions(c).await;
        assert!(
            extensions.starts_with("permessage-deflate"),
            "the 101's Sec-WebSocket-Extensions as the browser saw it: {extensions:?}"
        );

        // Short and long (past --deflate-min-size, so sent compressed) messages both come back.
        let long = "deflate me ".repeat(40);
        type_into(c, "message", "short \u{e9}\u{2713}").await;
        click(c, "send").await;
        wait_for_line(c, "response: short \u{e9}\u{2713}").await;
        type_into(c, "message", &long).await;
        click(c, "send").await;
        let log = wait_for_line(c, &format!("response: {long}")).await;
        assert_eq!(
            log,
            [
                "connected".to_owned(),
                "sent: short \u{e9}\u{2713}".to_owned(),
                "response: short \u{e9}\u{2713}".to_owned(),
                format!("sent: {long}"),
                format!("response: {long}"),
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

/// The control for the test above: without `--deflate` the server answers no extension, so the
/// browser's `extensions` is empty (the assertion above reads the server's choice, not the
/// browser's offer).
#[tokio::test]
async fn without_the_flag_the_browser_negotiates_no_extension() {
    bounded(async {
        let server = Server::start("echo").await;
        let browser = Browser::start("deflate-off", &[]).await;
        let c = &browser.client;
        c.goto(&server.http_url)
            .await
            .expect("open the served page");
        click(c, "connect").await;
        wait_for_status(c, "connected").await;
        assert_eq!(negotiated_extensions(c).await, "");
        type_into(c, "message", "plain").await;
        click(c, "send").await;
        wait_for_line(c, "response: plain").await;
        browser.quit().await;
    })
    .await;
}

/// Reads "deflate: X of Y bytes on the wire (...)" from the stream view.
fn wire_and_payload(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("deflate: ")?;
    let mut words = rest.split_whitespace();
    let wire = words.next()?.parse().ok()?;
    let payload = words.nth(1)?.parse().ok()?;
    Some((wire, payload))
}

/// `--example stream --deflate`: the samples arrive compressed, the page draws them as before,
/// and shows what the compression saved, from the samples' `deflate_wire_bytes` and
/// `deflate_payload_bytes`.
#[tokio::test]
async fn stream_chart_works_with_deflate_and_shows_the_bytes_saved() {
    bounded(async {
        let server = Server::start_with("stream", &["--deflate"]).await;
        let mut browser = Browser::start("deflate-stream", &[]).await;
        let c = &browser.client;
        c.goto(&server.http_url)
            .await
            .expect("open the served page");
        click(c, "connect").await;
        wait_for_status(c, "connected").await;
        let extensions = negotiated_extensions(c).await;
        assert!(
            extensions.starts_with("permessage-deflate"),
            "negotiated: {extensions:?}"
        );

        // Five samples a second: wait for the 10th with the saving shown.
        let mut shown = (String::new(), String::new());
        for _ in 0..400 {
            let caption = el(c, "live-caption").await.text().await.expect("caption");
            let saved = el(c, "live-deflate").await.text().await.expect("saving");
            let seq: u64 = caption
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            shown = (caption, saved);
            if seq >= 10 && !shown.1.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (caption, saved) = shown;
        assert!(caption.starts_with("sample "), "caption {caption:?}");
        let (wire, payload) = wire_and_payload(&saved)
            .unwrap_or_else(|| panic!("the stream view shows the saving: {saved:?}"));
        assert!(
            0 < wire && wire < payload,
            "compressed samples take fewer bytes on the wire: {saved:?}"
        );

        // The samples themselves, as a second socket in the page receives them: both fields,
        // and fewer bytes on the wire than in the payloads.
        let read_a_sample = "const [url, done] = arguments;\
            const ws = new WebSocket(url);\
            ws.onmessage = (e) => {\
              const s = JSON.parse(e.data);\
              if (typeof s.deflate_wire_bytes !== 'number') return;\
              ws.close();\
              done([ws.extensions, s.deflate_wire_bytes, s.deflate_payload_bytes]);\
            };\
            ws.onerror = () => done(['error']);";
        let got = c
            .execute_async(read_a_sample, vec![server.ws_url.clone().into()])
            .await
            .expect("receive a sample in the page");
        let (ext, wire, payload) = (&got[0], got[1].as_u64(), got[2].as_u64());
        assert!(
            ext.as_str().is_some_and(|e| e.starts_with("permessage-deflate")),
            "{got}"
        );
        assert!(
            matches!((wire, payload), (Some(w), Some(p)) if 0 < w && w < p),
            "a sample's deflate_wire_bytes and deflate_payload_bytes: {got}"
        );

        // The signal is drawn on the chart, in its colour, as without deflate.
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

        // Typed messages still echo in the log beside the samples.
        type_into(c, "message", "still an echo").await;
        click(c, "send").await;
        let log = wait_for_line(c, "response: still an echo").await;
        assert_eq!(
            log,
            ["connected", "sent: still an echo", "response: still an echo"]
        );
        c.execute("window.scrollTo(0, 0);", vec![])
            .await
            .expect("scroll to the chart");
        browser.screenshot("chart").await;
        browser.quit().await;
    })
    .await;
}
