//! Helpers of the scale-out tests: a real `redis-server` on a free loopback port, and the binary
//! as a child process whose log (stderr) the test reads.

#![allow(dead_code)] // Each test crate uses a different subset of these helpers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A port that was free a moment ago: bound on 127.0.0.1:0, then released.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// A `redis-server` of the test's own, on 127.0.0.1, killed when dropped.
pub struct Redis {
    pub port: u16,
    /// More arguments for redis-server (TLS, a password).
    extra: Vec<String>,
    child: Option<Child>,
}

impl Redis {
    /// Starts redis-server on a free port and waits until it answers PING; `None` (the test is
    /// skipped, see [`crate::common::have_programs`]) when redis-server is not installed.
    pub fn start() -> Option<Redis> {
        Redis::start_with(&[])
    }

    /// [`start`](Redis::start) with more arguments for redis-server.
    pub fn start_with(extra: &[&str]) -> Option<Redis> {
        if !crate::common::have_programs("this test", &["redis-server"], "scripts/install/redis") {
            return None;
        }
        // A port found free can be taken by someone else before redis binds it: try a few.
        for _ in 0..5 {
            let mut redis = Redis {
                port: free_port(),
                extra: extra.iter().map(|arg| arg.to_string()).collect(),
                child: None,
            };
            if redis.launch() {
                return Some(redis);
            }
        }
        panic!("redis-server did not start (is it installed? scripts/install/redis)");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server at once (SIGKILL: no goodbye to its clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let start = Instant::now();
        while !self.launch() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not restart on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Spawns redis-server on `self.port`; true once it answers PING, false if it exited.
    fn launch(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (install it with scripts/install/redis)");
        self.child = Some(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Some(child) = self.child.as_mut() {
                if child.try_wait().unwrap().is_some() {
                    self.child = None;
                    return false;
                }
            }
            if ping(self.port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        false
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Publishes `payload` on `channel` of the redis on this port, as any client of it could.
pub fn publish(port: u16, channel: &str, payload: &[u8]) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut command =
        format!("*3\r\n$7\r\nPUBLISH\r\n${}\r\n{channel}\r\n", channel.len()).into_bytes();
    command.extend_from_slice(format!("${}\r\n", payload.len()).as_bytes());
    command.extend_from_slice(payload);
    command.extend_from_slice(b"\r\n");
    stream.write_all(&command).expect("send PUBLISH");
    let mut reply = [0u8; 1];
    stream.read_exact(&mut reply).expect("PUBLISH answered");
    assert_eq!(
        &reply, b":",
        "PUBLISH answers with the number of subscribers"
    );
}

/// Whether a redis answers PING on this port.
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    // A redis with a password answers -NOAUTH: it is up all the same.
    stream.read_exact(&mut reply).is_ok() && (&reply == b"+PONG\r\n" || &reply == b"-NOAUTH")
}

/// The `simple-ws-server` binary at `--port 0 --host 127.0.0.1` with these arguments, its log
/// (stderr, at info level, the Redis bridge's at debug level) collected line by line; killed
/// when dropped.
pub struct Instance {
    pub child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    pub fn start(args: &[&str]) -> Instance {
        Instance::start_with_env(args, &[])
    }

    /// [`start`](Instance::start) with more environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Instance {
        let mut child = Command::new(env!("CARGO_BIN_EXE_simple-ws-server"))
            .args(args)
            .envs(env.iter().copied())
            .args(["--port", "0", "--host", "127.0.0.1"])
            // The bridge logs each delivery at debug level: tests wait for them.
            .env(
                "RUST_LOG",
                "info,simple_ws_server::scale::redis_bridge=debug",
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start simple-ws-server");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { return };
                sink.lock().unwrap().push(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the banner");
        let addr = line
            .trim_end()
            .strip_prefix("listening on ws://")
            .unwrap_or_else(|| panic!("a 'listening on' line, got {line:?}"))
            .trim_end_matches('/')
            .parse()
            .expect("an address");
        Instance { child, addr, log }
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// How many log lines so far contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }

    /// Waits (bounded) until `count` log lines contain `needle`; panics with the log if not.
    pub fn wait_for(&self, needle: &str, count: usize, limit: Duration) -> Duration {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.count(needle) >= count {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "no {count} log lines with {needle:?} within {limit:?}; log:\n{}",
            self.log().join("\n")
        );
    }

    /// The loop that accepted the client whose local address is `local`, from the chat's
    /// `loop N: <peer> connected` log line.
    pub fn loop_of(&self, local: SocketAddr) -> usize {
        let suffix = format!(": {local} connected");
        let start = Instant::now();
        loop {
            let found = self.log().iter().find_map(|line| {
                let at = line.find("loop ")?;
                let rest = line[at + 5..].strip_suffix(&suffix)?;
                rest.parse::<usize>().ok()
            });
            if let Some(index) = found {
                return index;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no 'loop N: {local} connected' line; log:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
