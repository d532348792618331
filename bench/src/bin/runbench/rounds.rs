//! The runs: every figure on every server, round after round, one loadgen run each.

use crate::args::Level;
use crate::figures::Figure;
use crate::process::{start_server, stop_server};
use crate::servers::Server;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Result lines by (figure id, server name), one per round.
pub type Vals = BTreeMap<(String, String), Vec<Value>>;

/// What every run shares.
#[derive(Clone, Copy)]
pub struct Plan<'a> {
    pub level: Level,
    pub rounds: usize,
    pub dur: f64,
    pub warm: f64,
    pub logs: &'a Path,
    pub loadgen: &'a str,
}

/// Runs every figure on every server, `rounds` times interleaved, appending each result line
/// to `results_file`. Returns the results and the failures.
pub fn run_all(
    plan: &Plan,
    figures: &[Figure],
    servers: &[Server],
    results_file: &mut File,
) -> (Vals, Vec<String>) {
    let Plan {
        level,
        rounds,
        dur,
        warm,
        logs,
        loadgen,
    } = *plan;
    let mut vals: Vals = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    for round in 0..rounds {
        for fig in figures {
            for sv in servers {
                if !runs(level, sv.name, fig) {
                    continue;
                }
                let conns = if fig.mode == "idle" || fig.mode == "broadcast" {
                    fig.conns.min(sv.max_conns.saturating_sub(10).max(1))
                } else {
                    fig.conns
                };
                let cmd = (sv.cmd)(fig.server_mode, conns);
                let log = logs.join(format!("{}-{}.log", sv.name, fig.id));
                let run = match start_server(&cmd, &log) {
                    Ok(r) => r,
                    Err(e) => {
                        failures.push(format!("{} {}: {e}", sv.name, fig.id));
                        eprintln!("  {} {}: {e}", sv.name, fig.id);
                        continue;
                    }
                };
                let src_ips = if fig.mode == "idle" {
                    conns.div_ceil(20_000).max(1)
                } else {
                    0
                };
                let setup_timeout = if level == Level::Smoke { 30.0 } else { 120.0 };
                let out = Command::new("taskset")
                    .args(["-c", "1", loadgen])
                    .args(["--addr", &run.addr])
                    .args(["--proto", if sv.ws { "ws" } else { "raw" }])
                    .args(["--mode", fig.mode])
                    .args(["--conns", &conns.to_string()])
                    .args(["--inflight", &fig.inflight.to_string()])
                    .args(["--size", &fig.size.to_string()])
                    .args(["--duration", &dur.to_string()])
                    .args(["--warmup", &warm.to_string()])
                    .args(["--server-pid", &run.pid.to_string()])
                    .args(["--label", sv.name])
                    .args(["--src-ips", &src_ips.to_string()])
                    .args(["--setup-timeout", &setup_timeout.to_string()])
                    // The Python original listens with a backlog of 5: more SYNs at once are
                    // dropped and retried seconds later.
                    .args([
                        "--connect-window",
                        if sv.name == "python-original" {
                            "4"
                        } else {
                            "256"
                        },
                    ])
                    .stderr(Stdio::inherit())
                    .output();
                stop_server(run);
                let out = match out {
                    Ok(o) => o,
                    Err(e) => {
                        failures.push(format!("{} {}: loadgen: {e}", sv.name, fig.id));
                        continue;
                    }
                };
                let text = String::from_utf8_lossy(&out.stdout);
                let Some(line) = text.lines().rev().find(|l| l.starts_with('{')) else {
                    failures.push(format!("{} {}: loadgen printed no result", sv.name, fig.id));
                    continue;
                };
                let mut v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                v["figure"] = Value::from(fig.id);
                v["round"] = Value::from(round);
                let _ = writeln!(results_file, "{v}");
                if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
                    failures.push(format!("{} {}: {e}", sv.name, fig.id));
                    continue;
                }
                let m = v.get(fig.metric).and_then(|x| x.as_f64()).unwrap_or(0.0);
                if m <= 0.0 && fig.mode != "idle" {
                    failures.push(format!("{} {}: {} is {m}", sv.name, fig.id, fig.metric));
                }
                vals.entry((fig.id.to_string(), sv.name.to_string()))
                    .or_default()
                    .push(v);
            }
        }
    }
    (vals, failures)
}

/// Whether `server` is run in `fig` at this level (a cell it skips shows "-", not "fail").
pub fn runs(level: Level, server: &str, fig: &Figure) -> bool {
    // The Python original needs tens of seconds for the chat's 1000 joins (each notifies
    // everyone) and cannot hold many connections: full runs only.
    if level != Level::Full
        && server == "python-original"
        && matches!(fig.mode, "broadcast" | "idle" | "handshake" | "upgrade")
    {
        return false;
    }
    // Only simple-ws-server has rooms (topics); the floor only echoes.
    !(fig.server_mode == "rooms" && server != "simple-ws-server"
        || server == "ws-floor" && fig.mode != "echo")
}
