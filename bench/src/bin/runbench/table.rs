//! The table: medians of the quiet rounds, ratios to the raw echo, number formatting.

use crate::args::Level;
use crate::figures::Figure;
use crate::rounds::{runs, Vals};
use crate::servers::Server;
use serde_json::Value;

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

/// The table of every figure (rows) by server (columns), as printed.
pub fn table(vals: &Vals, figures: &[Figure], servers: &[Server], level: Level) -> String {
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
    for fig in figures {
        let raw = med(fig.id, "raw-mio-echo", fig.metric);
        let cells = names
            .iter()
            .map(|n| {
                let x = med(fig.id, n, fig.metric);
                if !x.is_finite() {
                    if runs(level, n, fig) { "fail" } else { "-" }.to_string()
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
    table
}
