//! Runs the benchmark matrix: every server (raw mio echo, simple-ws-server, peers) pinned to
//! CPU 0, the load generator pinned to CPU 1, several rounds interleaved, medians, one table of
//! ratios to the raw echo. Called by `scripts/bench`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Level {
    Smoke,
    Quick,
    Full,
}

/// Builds a server's command line for "echo" or "chat" and a connection count.
type CmdFn = Box<dyn Fn(&str, usize) -> Vec<String>>;

struct Server {
    name: &'static str,
    ws: bool,
    /// Command for "echo" or "chat".
    cmd: CmdFn,
    /// Largest connection count it can take (the Python original dies past ~1017).
    max_conns: usize,
}

struct Figure {
    id: &'static str,
    title: &'static str,
    mode: &'static str,
    server_mode: &'static str,
    conns: usize,
    inflight: usize,
    size: usize,
    metric: &'static str,
    /// Report as a ratio to raw (true) or as an absolute figure (false).
    ratio: bool,
}

struct Running {
    child: Child,
    addr: String,
    pid: u32,
}

fn start_server(cmd: &[String], log: &Path) -> Result<Running, String> {
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

fn stop_server(mut r: Running) {
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

fn fd_soft_limit() -> usize {
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

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn human(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn main() {
    let mut level = Level::Full;
    let mut rounds: Option<usize> = None;
    let mut duration: Option<f64> = None;
    let mut only: Option<Vec<String>> = None;
    let mut figs_only: Option<Vec<String>> = None;
    let mut root = PathBuf::from(".");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = || args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--smoke" => level = Level::Smoke,
            "--quick" => level = Level::Quick,
            "--full" => level = Level::Full,
            "--rounds" => {
                rounds = val().parse().ok();
                i += 1
            }
            "--duration" => {
                duration = val().parse().ok();
                i += 1
            }
            "--servers" => {
                only = Some(val().split(',').map(String::from).collect());
                i += 1
            }
            "--figures" => {
                figs_only = Some(val().split(',').map(String::from).collect());
                i += 1
            }
            "--root" => {
                root = PathBuf::from(val());
                i += 1
            }
            a => {
                eprintln!(
                    "usage: runbench [--smoke|--quick|--full] [--rounds N] [--duration S] \
                     [--servers a,b] [--figures f,g] [--root REPO]  (unknown: {a})"
                );
                std::process::exit(2);
            }
        }
        i += 1;
    }
    let root = root.canonicalize().expect("repo root");
    let bench = root.join("bench");
    let rel = bench.join("target/release");
    let logs = bench.join("target/bench-logs");
    std::fs::create_dir_all(&logs).expect("log dir");
    let venv_py = std::env::var("BENCH_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/nonexistent"));

    let (rounds, dur, warm) = match level {
        Level::Smoke => (rounds.unwrap_or(1), duration.unwrap_or(0.5), 0.2),
        Level::Quick => (rounds.unwrap_or(3), duration.unwrap_or(0.5), 0.2),
        Level::Full => (rounds.unwrap_or(3), duration.unwrap_or(5.0), 1.0),
    };
    let fdlim = fd_soft_limit();
    let idle_n = match level {
        Level::Smoke => 1000.min(fdlim.saturating_sub(100)),
        Level::Quick => 2000.min(fdlim.saturating_sub(100)),
        Level::Full => 100_000.min(fdlim.saturating_sub(200)),
    };
    let chat_n = if level == Level::Smoke { 100 } else { 1000 };

    let s = |p: &Path| p.to_string_lossy().into_owned();
    let raw_bin = s(&rel.join("raw_echo"));
    let sws_bin = s(&root.join("target/release/simple-ws-server"));
    let tt_bin = s(&rel.join("peer_tokio_tungstenite"));
    let wsrs_bin = s(&rel.join("peer_ws_rs"));
    let py_script = s(&bench.join("peers/python_original.py"));
    let node_script = s(&bench.join("peers/node_ws.js"));
    let py = s(&venv_py);
    let mut servers: Vec<Server> = vec![
        Server {
            name: "raw-mio-echo",
            ws: false,
            cmd: Box::new(move |m, _| {
                vec![
                    raw_bin.clone(),
                    "--mode".into(),
                    m.into(),
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    "0".into(),
                ]
            }),
            max_conns: usize::MAX,
        },
        Server {
            name: "simple-ws-server",
            ws: true,
            cmd: Box::new(move |m, n| {
                let mut c = vec![
                    sws_bin.clone(),
                    "--example".into(),
                    m.into(),
                    "--port".into(),
                    "0".into(),
                    "--host".into(),
                    "127.0.0.1".into(),
                ];
                // Its default cap is 10,000 connections (503 past it).
                if n + 16 > 10_000 {
                    c.extend(["--max-connections".into(), (n + 16).to_string()]);
                }
                c
            }),
            max_conns: usize::MAX,
        },
        Server {
            name: "tokio-tungstenite",
            ws: true,
            cmd: Box::new(move |m, _| {
                vec![
                    tt_bin.clone(),
                    "--mode".into(),
                    m.into(),
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    "0".into(),
                ]
            }),
            max_conns: usize::MAX,
        },
        Server {
            name: "ws-rs",
            ws: true,
            cmd: Box::new(move |m, n| {
                vec![
                    wsrs_bin.clone(),
                    "--mode".into(),
                    m.into(),
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    "0".into(),
                    "--max-connections".into(),
                    (n + 16).to_string(),
                ]
            }),
            max_conns: usize::MAX,
        },
        Server {
            name: "node-ws",
            ws: true,
            cmd: Box::new(move |m, _| {
                vec![
                    "node".into(),
                    node_script.clone(),
                    "--example".into(),
                    m.into(),
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    "0".into(),
                ]
            }),
            max_conns: usize::MAX,
        },
        Server {
            name: "python-original",
            ws: true,
            cmd: Box::new(move |m, _| {
                vec![
                    py.clone(),
                    py_script.clone(),
                    "--example".into(),
                    m.into(),
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    "0".into(),
                ]
            }),
            max_conns: 1000,
        },
    ];
    // Which are there to run.
    let have = |n: &str| -> Result<(), String> {
        let need = match n {
            "raw-mio-echo" => rel.join("raw_echo"),
            "simple-ws-server" => root.join("target/release/simple-ws-server"),
            "tokio-tungstenite" => rel.join("peer_tokio_tungstenite"),
            "ws-rs" => rel.join("peer_ws_rs"),
            "node-ws" => bench.join("node_modules/ws/package.json"),
            "python-original" => venv_py.clone(),
            _ => unreachable!(),
        };
        if need.exists() {
            Ok(())
        } else {
            Err(format!("{} not found", need.display()))
        }
    };
    let default_servers: &[&str] = if level == Level::Smoke {
        &["raw-mio-echo", "simple-ws-server"]
    } else {
        &[
            "raw-mio-echo",
            "simple-ws-server",
            "tokio-tungstenite",
            "ws-rs",
            "node-ws",
            "python-original",
        ]
    };
    servers.retain(|sv| {
        let wanted = match &only {
            Some(l) => l.iter().any(|x| x == sv.name) || sv.name == "raw-mio-echo",
            None => default_servers.contains(&sv.name),
        };
        if !wanted {
            return false;
        }
        match have(sv.name) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("skipping {}: {e}", sv.name);
                false
            }
        }
    });

    let mut figures = vec![
        Figure {
            id: "echo32x1",
            title: "echo 32 B, 64 conns x 1 in flight (msg/s)",
            mode: "echo",
            server_mode: "echo",
            conns: 64,
            inflight: 1,
            size: 32,
            metric: "msgs_per_s",
            ratio: true,
        },
        Figure {
            id: "echo32x16",
            title: "echo 32 B, 64 conns x 16 in flight (msg/s)",
            mode: "echo",
            server_mode: "echo",
            conns: 64,
            inflight: 16,
            size: 32,
            metric: "msgs_per_s",
            ratio: true,
        },
        Figure {
            id: "echo4kx1",
            title: "echo 4 KiB, 64 conns x 1 in flight (msg/s)",
            mode: "echo",
            server_mode: "echo",
            conns: 64,
            inflight: 1,
            size: 4096,
            metric: "msgs_per_s",
            ratio: true,
        },
        Figure {
            id: "echo4kx16",
            title: "echo 4 KiB, 64 conns x 16 in flight (msg/s)",
            mode: "echo",
            server_mode: "echo",
            conns: 64,
            inflight: 16,
            size: 4096,
            metric: "msgs_per_s",
            ratio: true,
        },
        Figure {
            id: "chat",
            title: "chat 32 B, 1 sender -> N receivers, 16 in flight (deliveries/s)",
            mode: "broadcast",
            server_mode: "chat",
            conns: chat_n,
            inflight: 16,
            size: 32,
            metric: "deliveries_per_s",
            ratio: true,
        },
        // simple-ws-server only: the chat's figure through topics (--example rooms; every
        // connection is on path "/", so all are in one room and each line is published to it).
        Figure {
            id: "rooms",
            title: "rooms 32 B, publish to N subscribers of one room, 16 in flight (deliveries/s)",
            mode: "broadcast",
            server_mode: "rooms",
            conns: chat_n,
            inflight: 16,
            size: 32,
            metric: "deliveries_per_s",
            ratio: false,
        },
        Figure {
            id: "idle",
            title: "idle connections: server RSS per connection (bytes)",
            mode: "idle",
            server_mode: "echo",
            conns: idle_n,
            inflight: 1,
            size: 32,
            metric: "rss_per_conn_bytes",
            ratio: false,
        },
        Figure {
            id: "handshake",
            title: "connect+upgrade+close, 64 concurrent (per server CPU-second)",
            mode: "handshake",
            server_mode: "echo",
            conns: 64,
            inflight: 1,
            size: 32,
            metric: "handshakes_per_server_cpu_s",
            ratio: false,
        },
        // The handshake alone: connect, upgrade, TCP close, one round trip like the raw
        // server's cycle (connect, one byte echoed, TCP close); the ratio is to that
        // connection rate, both wall clock with the same generator.
        Figure {
            id: "upgrade",
            title: "connect+upgrade, then TCP close, 64 concurrent (per second, wall clock)",
            mode: "upgrade",
            server_mode: "echo",
            conns: 64,
            inflight: 1,
            size: 32,
            metric: "handshakes_per_s",
            ratio: true,
        },
    ];
    if let Some(f) = &figs_only {
        figures.retain(|x| f.iter().any(|y| y == x.id));
    }

    let results_path = bench.join("target/bench-results.jsonl");
    let mut results_file = std::fs::File::create(&results_path).expect("results file");
    let loadgen = s(&rel.join("loadgen"));
    let started = Instant::now();
    let mut vals: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    eprintln!(
        "runbench: level={level:?} rounds={rounds} duration={dur}s warmup={warm}s idle_conns={idle_n} chat_receivers={chat_n} fd_limit={fdlim}"
    );
    for round in 0..rounds {
        for fig in &figures {
            for sv in &servers {
                // The Python original needs tens of seconds for the chat's 1000 joins (each
                // notifies everyone) and cannot hold many connections: full runs only.
                if level != Level::Full
                    && sv.name == "python-original"
                    && matches!(fig.mode, "broadcast" | "idle" | "handshake" | "upgrade")
                {
                    continue;
                }
                // Only simple-ws-server has rooms (topics).
                if fig.server_mode == "rooms" && sv.name != "simple-ws-server" {
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
                    .args(["-c", "1", &loadgen])
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
    let elapsed = started.elapsed().as_secs_f64();

    // The table.
    // Other load on this shared machine shows up as run-queue wait of the server or the
    // generator. Runs where either waited more than NOISY of the time are left out of the
    // median when at least one quieter run of the same cell exists.
    const NOISY: f64 = 0.10;
    let wait = |x: &Value| -> f64 {
        let g = |k: &str| x.get(k).and_then(|y| y.as_f64()).unwrap_or(0.0);
        g("server_runq_wait").max(g("client_runq_wait"))
    };
    let kept = |fig: &str, sv: &str| -> Vec<Value> {
        let all = vals
            .get(&(fig.to_string(), sv.to_string()))
            .cloned()
            .unwrap_or_default();
        let quiet: Vec<Value> = all.iter().filter(|x| wait(x) <= NOISY).cloned().collect();
        if quiet.is_empty() {
            all
        } else {
            quiet
        }
    };
    let med = |fig: &str, sv: &str, key: &str| -> f64 {
        let mut xs: Vec<f64> = kept(fig, sv)
            .iter()
            .filter_map(|x| x.get(key).and_then(|y| y.as_f64()))
            .collect();
        median(&mut xs)
    };
    let mut table = String::new();
    let names: Vec<&str> = servers.iter().map(|s| s.name).collect();
    table += &format!(
        "{:<58}",
        "figure (median of quiet rounds; ratio = server / raw-mio-echo)"
    );
    for n in &names {
        table += &format!(" {n:>17}");
    }
    table += "\n";
    let row = |table: &mut String, title: &str, cells: Vec<String>| {
        *table += &format!("{title:<58}");
        for c in cells {
            *table += &format!(" {c:>17}");
        }
        *table += "\n";
    };
    for fig in &figures {
        let raw = med(fig.id, "raw-mio-echo", fig.metric);
        let cells = names
            .iter()
            .map(|n| {
                let x = med(fig.id, n, fig.metric);
                if !x.is_finite() {
                    "fail".to_string()
                } else if fig.ratio && *n != "raw-mio-echo" {
                    format!("{:.2}", x / raw)
                } else {
                    human(x)
                }
            })
            .collect();
        row(&mut table, fig.title, cells);
        if fig.id == "echo32x1" {
            for (k, t) in [
                ("p50_us", "  p50 RTT (us)"),
                ("p99_us", "  p99 RTT (us)"),
                ("p999_us", "  p99.9 RTT (us)"),
            ] {
                let cells = names.iter().map(|n| human(med(fig.id, n, k))).collect();
                row(&mut table, t, cells);
            }
        }
        if fig.id == "idle" {
            let cells = names
                .iter()
                .map(|n| human(med(fig.id, n, "anon_per_conn_bytes")))
                .collect();
            row(&mut table, "  of which anonymous memory (heap)", cells);
        }
        if fig.id == "handshake" {
            let cells = names
                .iter()
                .map(|n| human(med(fig.id, n, "handshakes_per_s")))
                .collect();
            row(&mut table, "  handshakes/s (wall clock)", cells);
        }
        if fig.id == "upgrade" {
            let cells = names
                .iter()
                .map(|n| human(med(fig.id, n, "handshakes_per_server_cpu_s")))
                .collect();
            row(&mut table, "  per server CPU-second", cells);
        }
        if fig.mode != "idle" {
            let cells = names
                .iter()
                .map(|n| {
                    let s = med(fig.id, n, "server_cpu") * 100.0;
                    let c = med(fig.id, n, "client_cpu") * 100.0;
                    if s.is_finite() {
                        format!("{s:.0}%/{c:.0}%")
                    } else {
                        "-".into()
                    }
                })
                .collect();
            row(&mut table, "  CPU server/loadgen", cells);
            let cells = names
                .iter()
                .map(|n| {
                    let s = med(fig.id, n, "server_runq_wait") * 100.0;
                    let c = med(fig.id, n, "client_runq_wait") * 100.0;
                    if s.is_finite() {
                        format!("{s:.0}%/{c:.0}%")
                    } else {
                        "-".into()
                    }
                })
                .collect();
            row(&mut table, "  run-queue wait server/loadgen (noise)", cells);
            let cells = names
                .iter()
                .map(|n| {
                    let all = vals
                        .get(&(fig.id.to_string(), n.to_string()))
                        .map_or(0, |v| v.len());
                    let k = kept(fig.id, n).len();
                    let quiet = kept(fig.id, n).iter().filter(|x| wait(x) <= NOISY).count();
                    if quiet == 0 && all > 0 {
                        format!("{k}/{all} NOISY")
                    } else {
                        format!("{k}/{all}")
                    }
                })
                .collect();
            row(&mut table, "  runs in the median (quiet/all)", cells);
        } else {
            let cells = names
                .iter()
                .map(|n| human(med(fig.id, n, "conns")))
                .collect();
            row(&mut table, "  connections held", cells);
        }
    }
    println!("{table}");
    println!(
        "rounds={rounds} duration={dur}s warmup={warm}s; {} runs in {elapsed:.0} s; every run: {}",
        vals.values().map(|v| v.len()).sum::<usize>(),
        results_path.display()
    );
    let _ = std::fs::write(bench.join("target/bench-table.txt"), &table);
    if !failures.is_empty() {
        println!("\nruns that failed:");
        for f in &failures {
            println!("  {f}");
        }
        if level == Level::Smoke {
            std::process::exit(1);
        }
    }
}
