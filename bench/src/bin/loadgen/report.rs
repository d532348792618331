//! The result: the JSON report's common and per-message fields, and its human-readable line.

use crate::opts::Opts;
use serde_json::json;

pub struct Report {
    pub v: serde_json::Value,
}

pub fn base_report(o: &Opts) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("label".into(), json!(o.label));
    m.insert("proto".into(), json!(if o.proto_ws { "ws" } else { "raw" }));
    m.insert("mode".into(), json!(o.mode));
    m.insert("conns".into(), json!(o.conns));
    m.insert("inflight".into(), json!(o.inflight));
    m.insert("size".into(), json!(o.size));
    m.insert("deflate".into(), json!(o.deflate));
    m
}

/// Wire bytes per message each way and server CPU microseconds per message.
pub fn per_msg(
    m: &mut serde_json::Map<String, serde_json::Value>,
    msgs: u64,
    wire_out: u64,
    wire_in: u64,
    scpu: Option<f64>,
) {
    let n = msgs.max(1) as f64;
    m.insert("wire_out_per_msg".into(), json!(wire_out as f64 / n));
    m.insert("wire_in_per_msg".into(), json!(wire_in as f64 / n));
    m.insert(
        "server_cpu_us_per_msg".into(),
        json!(scpu.map(|c| c * 1e6 / n)),
    );
}

pub fn human(v: &serde_json::Value) -> String {
    let f = |k: &str| v.get(k).and_then(|x| x.as_f64());
    let mut s = format!(
        "{:<22} {:>4} {:<9} conns={:<6} inflight={:<3} size={:<6}",
        v["label"].as_str().unwrap_or(""),
        v["proto"].as_str().unwrap_or(""),
        v["mode"].as_str().unwrap_or(""),
        v["conns"],
        v["inflight"],
        v["size"]
    );
    if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
        s += &format!(" ERROR {e}");
        return s;
    }
    for (k, name, scale) in [
        ("msgs_per_s", "msg/s", 1.0),
        ("deliveries_per_s", "deliv/s", 1.0),
        ("handshakes_per_s", "hs/s", 1.0),
        ("handshakes_per_server_cpu_s", "hs/srv-cpu-s", 1.0),
        ("p50_us", "p50us", 1.0),
        ("p99_us", "p99us", 1.0),
        ("p999_us", "p99.9us", 1.0),
        ("rss_per_conn_bytes", "B/conn", 1.0),
        ("server_cpu", "srv-cpu", 100.0),
        ("client_cpu", "cli-cpu", 100.0),
        ("server_runq_wait", "srv-wait%", 100.0),
        ("client_runq_wait", "cli-wait%", 100.0),
    ] {
        if let Some(x) = f(k) {
            s += &format!(" {name}={:.0}", x * scale);
        }
    }
    s
}
