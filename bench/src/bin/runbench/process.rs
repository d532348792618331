//! Server processes: starting one pinned to CPU 0 and reading its address, stopping it, and
//! the open-file limit that bounds the connection counts.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Running {
    child: Child,
    pub addr: String,
    pub pid: u32,
}

pub fn start_server(cmd: &[String], log: &Path) -> Result<Running, String> {
    let logf = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let mut child = Command::new("taskset")
        .arg("-c")
        .arg("0")
        .args(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(logf)
        // simple-ws-server logs two lines per connection at its default level (info); the peers
        // log nothing, so it runs at warn here, as a busy production server would.
        .env("RUST_LOG", "warn")
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", cmd[0]))?;
    let pid = child.id();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Some(t) = tx.as_ref() {
                if let Some(p) = line.find("://") {
                    let rest = &line[p + 3..];
                    let hp = rest.split('/').next().unwrap_or("").to_string();
                    if line.contains("listening on") {
                        let _ = t.send(hp);
                        tx = None;
                    }
                }
            }
            // Keep draining: a server blocked on a full stdout pipe would stall the benchmark.
        }
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(hp) => {
            let port = hp.rsplit(':').next().unwrap_or("").to_string();
            Ok(Running {
                child,
                addr: format!("127.0.0.1:{port}"),
                pid,
            })
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "{} printed no 'listening on' line (log: {})",
                cmd[0],
                log.display()
            ))
        }
    }
}

pub fn stop_server(mut r: Running) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(r.pid.to_string())
        .status();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        if let Ok(Some(_)) = r.child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = r.child.kill();
    let _ = r.child.wait();
}

pub fn fd_soft_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(|x| x.parse().ok()))
                .flatten()
        })
        .unwrap_or(1024)
}
