//! Processes and page helpers for the browser tests: the server under test, chromedriver with
//! headless Chromium, and small bounded waits on what the page shows.
//!
//! Every process is started in its own process group and the whole group is killed when its
//! guard is dropped, so no server, driver or browser outlives a test, also when it panics or
//! times out. (Chromium's crash handler, chrome_crashpad_handler, detaches into a session of its
//! own; it exits by itself once the browser is gone.)

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{ChildStdout, Command};

/// How long to wait for a process to announce its port or for the page to show something.
pub const WAIT: Duration = Duration::from_secs(15);
/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(50);

/// A process group, killed whole (`kill -KILL -- -PGID`) when dropped.
pub struct Group {
    pub pgid: u32,
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.pgid)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Starts `cmd` as the leader of a new process group with its stdout piped. Its stderr goes
/// to the test's own output, prefixed with `label` (shown when the test fails).
fn spawn_group(label: &'static str, mut cmd: std::process::Command) -> (Group, ChildStdout) {
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = format!("{cmd:?}");
    let mut child = Command::from(cmd)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let group = Group {
        pgid: child.id().expect("a child that was just spawned has an id"),
    };
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            eprintln!("[{label}] {line}");
        }
    });
    // The child is reaped by tokio once it has exited; the group guard does the killing.
    drop(child);
    (group, stdout)
}

/// Reads `stdout` until `pick` accepts a line (at most `WAIT`), then keeps draining it in the
/// background so that the process never blocks or fails on a full or closed pipe. On failure,
/// says why, with what the process printed.
async fn read_until<T>(
    what: &str,
    stdout: ChildStdout,
    mut pick: impl FnMut(&str) -> Option<T>,
) -> Result<T, String> {
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(found) = pick(&line) {
                return Some(found);
            }
            seen.push(line);
        }
        None
    })
    .await;
    match found {
        Ok(Some(found)) => {
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            Ok(found)
        }
        Ok(None) => Err(format!(
            "{what} exited before it was ready; its stdout: {seen:?}"
        )),
        Err(_) => Err(format!(
            "{what} not ready within {WAIT:?}; its stdout: {seen:?}"
        )),
    }
}

/// Starts chromedriver on a free port. With `--port=0` it takes a free IPv6 port and then
/// exits if that port is taken on IPv4 ("IPv4 port not available"), so it gets a few tries.
async fn start_chromedriver(tmp: &Path) -> (Group, u16) {
    let mut failures = Vec::new();
    for _ in 0..5 {
        let mut cmd = std::process::Command::new("chromedriver");
        cmd.arg("--port=0").env("TMPDIR", tmp);
        let (driver, stdout) = spawn_group("chromedriver", cmd);
        let port = read_until("chromedriver", stdout, |line| {
            line.strip_prefix("ChromeDriver was started successfully on port ")
                .and_then(|rest| rest.trim_end_matches('.').parse().ok())
        })
        .await;
        match port {
            Ok(port) => return (driver, port),
            Err(why) => failures.push(why),
        }
    }
    panic!("chromedriver did not start: {failures:#?}");
}

/// The simple-ws-server binary, serving one example on a free port of 127.0.0.1, killed when
/// dropped.
pub struct Server {
    pub group: Group,
    /// The WebSocket address it printed, e.g. `ws://127.0.0.1:40123/`.
    pub ws_url: String,
    /// The page address it printed, e.g. `http://127.0.0.1:40123/`.
    pub http_url: String,
}

impl Server {
    pub async fn start(example: &str) -> Server {
        Server::start_with(example, &[]).await
    }

    /// Starts the server with more flags, e.g. `--ssl --cert FILE --key FILE`.
    pub async fn start_with(example: &str, extra_args: &[&str]) -> Server {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_simple-ws-server"));
        cmd.args(["--example", example, "--port", "0", "--host", "127.0.0.1"])
            .args(extra_args);
        let (group, stdout) = spawn_group("server", cmd);
        let mut ws_url = None;
        let http_url = read_until("simple-ws-server", stdout, |line| {
            if let Some(url) = line.strip_prefix("listening on ") {
                ws_url = Some(url.to_owned());
            }
            line.strip_prefix("open ")
                .and_then(|rest| rest.strip_suffix(" in a browser"))
                .map(str::to_owned)
        })
        .await
        .unwrap_or_else(|why| panic!("{why}"));
        let ws_url = ws_url.expect("the server prints `listening on ...` before `open ...`");
        Server {
            group,
            ws_url,
            http_url,
        }
    }
}

/// A fresh, empty directory, removed with all it holds when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "simple-ws-server-{name}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a browser profile directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Headless Chromium driven through its own chromedriver, with a fresh profile.
pub struct Browser {
    pub client: Client,
    name: String,
    shots: u32,
    // Dropped in this order: the driver's group (driver and browser) first, then the profile.
    pub driver: Group,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a browser session; `name` names the
    /// screenshots.
    pub async fn start(name: &str, extra_args: &[&str]) -> Browser {
        // The browser's profile, and its temporary files (which a killed Chromium leaves
        // behind), both in one directory that the guard removes.
        let profile = TempDir::new(name);
        let (user_data, tmp) = (profile.0.join("profile"), profile.0.join("tmp"));
        std::fs::create_dir(&tmp).expect("create the browser's TMPDIR");
        let (driver, port) = start_chromedriver(&tmp).await;

        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1000,760".to_owned(),
            format!("--user-data-dir={}", user_data.display()),
        ];
        args.extend(extra_args.iter().map(|a| a.to_string()));
        let caps = serde_json::json!({ "goog:chromeOptions": { "args": args } });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!("a JSON object literal")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("open a WebDriver session in chromium");
        Browser {
            client,
            name: name.to_owned(),
            shots: 0,
            driver,
            _profile: profile,
        }
    }

    /// Saves a PNG of the current tab as
    /// `target/screenshots/<name>-<n>-<label>.png` and returns its path.
    pub async fn screenshot(&mut self, label: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("take a screenshot");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        self.shots += 1;
        let path = dir.join(format!("{}-{}-{label}.png", self.name, self.shots));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Ends the WebDriver session (the browser quits); the guards clean up the rest.
    pub async fn quit(self) {
        let Browser {
            client,
            driver,
            _profile,
            ..
        } = self;
        client.close().await.expect("end the WebDriver session");
        drop(driver);
    }
}

/// The element with id `id`.
pub async fn el(client: &Client, id: &str) -> Element {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no element #{id}: {e}"))
}

/// Clicks the element with id `id`, as a user's mouse would.
pub async fn click(client: &Client, id: &str) {
    el(client, id)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click #{id}: {e}"));
}

/// Empties the input with id `id` and types `text` into it key by key.
pub async fn type_into(client: &Client, id: &str, text: &str) {
    let input = el(client, id).await;
    input.clear().await.expect("clear the input");
    input.send_keys(text).await.expect("type into the input");
}

/// The current value of an input or textarea.
pub async fn value(client: &Client, id: &str) -> String {
    el(client, id)
        .await
        .prop("value")
        .await
        .expect("read the value")
        .unwrap_or_default()
}

pub async fn is_enabled(client: &Client, id: &str) -> bool {
    el(client, id)
        .await
        .is_enabled()
        .await
        .expect("read enabled")
}

/// The lines of the page's log.
pub async fn log_lines(client: &Client) -> Vec<String> {
    value(client, "log")
        .await
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits (at most `WAIT`) until the log has the line `line`; returns the whole log.
pub async fn wait_for_line(client: &Client, line: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..WAIT.as_millis() / POLL.as_millis() {
        lines = log_lines(client).await;
        if lines.iter().any(|l| l == line) {
            return lines;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("the log never showed {line:?}; it has {lines:?}");
}

/// Waits (at most `WAIT`) until the status element reads `state`.
pub async fn wait_for_status(client: &Client, state: &str) {
    let mut text = String::new();
    for _ in 0..WAIT.as_millis() / POLL.as_millis() {
        text = el(client, "status")
            .await
            .text()
            .await
            .expect("status text");
        if text == state {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("the status never read {state:?}; it reads {text:?}");
}

/// How many processes of process group `pgid` are alive (zombies not counted).
pub fn live_processes_in_group(pgid: u32) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        panic!("no /proc")
    };
    dir.filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
        })
        .count()
}
