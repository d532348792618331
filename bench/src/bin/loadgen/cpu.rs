//! CPU time and run-queue wait of the server and of the generator over a measured span.

use simple_ws_bench::{cpu_seconds, runqueue_wait_seconds};
use std::time::Instant;

fn self_pid() -> u32 {
    std::process::id()
}

pub struct Cpu {
    t: Instant,
    server: Option<f64>,
    client: f64,
    server_wait: Option<f64>,
    client_wait: f64,
}

impl Cpu {
    pub fn now(pid: Option<u32>) -> Self {
        Cpu {
            t: Instant::now(),
            server: pid.and_then(cpu_seconds),
            client: cpu_seconds(self_pid()).unwrap_or(0.0),
            server_wait: pid.and_then(runqueue_wait_seconds),
            client_wait: runqueue_wait_seconds(self_pid()).unwrap_or(0.0),
        }
    }

    /// Fractions of the wall time the server's and the generator's main threads spent ready
    /// but waiting for their CPU: other load on the machine if well above zero.
    pub fn waits(&self, pid: Option<u32>) -> (Option<f64>, f64) {
        let n = Cpu::now(pid);
        let wall = n.t.duration_since(self.t).as_secs_f64();
        (
            match (n.server_wait, self.server_wait) {
                (Some(a), Some(b)) => Some((a - b) / wall),
                _ => None,
            },
            (n.client_wait - self.client_wait) / wall,
        )
    }
    /// (wall seconds, server CPU seconds, client CPU seconds) since `self`.
    pub fn since(&self, pid: Option<u32>) -> (f64, Option<f64>, f64) {
        let n = Cpu::now(pid);
        (
            n.t.duration_since(self.t).as_secs_f64(),
            match (n.server, self.server) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            },
            n.client - self.client,
        )
    }
}
