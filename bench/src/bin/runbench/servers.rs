//! The servers under test: their command lines, which are installed, which are wanted.

use crate::args::Level;
use std::path::Path;

/// Builds a server's command line for "echo" or "chat" and a connection count.
pub type CmdFn = Box<dyn Fn(&str, usize) -> Vec<String>>;

pub struct Server {
    pub name: &'static str,
    pub ws: bool,
    /// Command for "echo" or "chat".
    pub cmd: CmdFn,
    /// Largest connection count it can take (the Python original dies past ~1017).
    pub max_conns: usize,
}

/// The servers to run: the wanted ones (`only`, or the level's defaults) that are installed;
/// the others are reported as skipped.
pub fn servers(
    root: &Path,
    bench: &Path,
    rel: &Path,
    venv_py: &Path,
    level: Level,
    only: &Option<Vec<String>>,
) -> Vec<Server> {
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let raw_bin = s(&rel.join("raw_echo"));
    let sws_bin = s(&root.join("target/release/simple-ws-server"));
    let floor_bin = s(&rel.join("ws_floor"));
    let tt_bin = s(&rel.join("peer_tokio_tungstenite"));
    let wsrs_bin = s(&rel.join("peer_ws_rs"));
    let py_script = s(&bench.join("peers/python_original.py"));
    let node_script = s(&bench.join("peers/node_ws.js"));
    let py = s(venv_py);
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
        // Echo figures only, on request (`--servers ws-floor`): see src/bin/ws_floor.rs.
        Server {
            name: "ws-floor",
            ws: true,
            cmd: Box::new(move |_, _| {
                vec![
                    floor_bin.clone(),
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    "0".into(),
                ]
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
            "ws-floor" => rel.join("ws_floor"),
            "tokio-tungstenite" => rel.join("peer_tokio_tungstenite"),
            "ws-rs" => rel.join("peer_ws_rs"),
            "node-ws" => bench.join("node_modules/ws/package.json"),
            "python-original" => venv_py.to_path_buf(),
            _ => unreachable!(),
        };
        if need.exists() {
            Ok(())
        } else {
            Err(format!("{} not found", need.display()))
        }
    };
    let default_servers: &[&str] = if level == Level::Smoke {
        // The floor too, so that CI sees it still echoes.
        &["raw-mio-echo", "simple-ws-server", "ws-floor"]
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
    servers
}
