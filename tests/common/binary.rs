//! The `simple-ws-server` binary as a child process, and what /proc says about it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::IO_TIMEOUT;

/// The `simple-ws-server` binary as a child process; killed when dropped.
pub struct Binary {
    pub child: Child,
    pub addr: SocketAddr,
    pub first_lines: Vec<String>,
}

impl Binary {
    /// Starts the binary with these arguments plus `--port 0 --host 127.0.0.1`, waiting for it to
    /// print its address.
    pub fn start(args: &[&str]) -> Binary {
        Binary::start_with(Command::new(env!("CARGO_BIN_EXE_simple-ws-server")), args)
    }

    /// Like [`start`](Binary::start), with `ulimit -n nofile` in force for the server.
    pub fn start_with_nofile(nofile: u32, args: &[&str]) -> Binary {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            &format!("ulimit -n {nofile} && exec \"$0\" \"$@\""),
            env!("CARGO_BIN_EXE_simple-ws-server"),
        ]);
        Binary::start_with(command, args)
    }

    fn start_with(mut command: Command, args: &[&str]) -> Binary {
        let mut child = command
            .args(args)
            .args(["--port", "0", "--host", "127.0.0.1"])
            .env(
                "RUST_LOG",
                std::env::var("SWS_TEST_LOG").unwrap_or("error".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start simple-ws-server");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first_lines = Vec::new();
        for _ in 0..2 {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("read the banner");
            first_lines.push(line.trim_end().to_owned());
        }
        let url = first_lines[0]
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_once("://"))
            .map(|(_, addr)| addr.trim_end_matches('/'))
            .unwrap_or_else(|| panic!("a 'listening on' line, got {first_lines:?}"));
        let addr = url.parse().expect("an address");
        Binary {
            child,
            addr,
            first_lines,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's peak resident memory (VmHWM) in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    /// User plus system CPU time the process has used so far.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // Fields after the command name (which is in parentheses and may hold spaces).
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // Clock ticks are 100 per second on Linux.
        Duration::from_millis(ticks * 10)
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < IO_TIMEOUT,
                "the server did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `kB` field of /proc/PID/status, in KiB.
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Runs the binary to completion with these arguments; returns (exit code, stdout, stderr).
pub fn run_binary(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_simple-ws-server"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start simple-ws-server");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > IO_TIMEOUT {
            let _ = child.kill();
            panic!("simple-ws-server {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
