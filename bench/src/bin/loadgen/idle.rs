//! `idle` mode: opens N connections (optionally echoing one message each) and reports the
//! server's memory growth per connection.

use crate::conn::{drain, open_all, Conn};
use crate::cpu::Cpu;
use crate::opts::Opts;
use crate::payload::{payload, ws_frame};
use crate::report::{base_report, Report};
use mio::{Events, Poll};
use serde_json::json;
use simple_ws_bench::{anon_bytes, rss_bytes};
use std::time::{Duration, Instant};

/// Idle mode's `--touch`: every connection sends one message (compressed with `--deflate`) to
/// an echo server and waits for it back, so state a server creates lazily on the first
/// message (a zlib stream) is in the memory figure.
fn touch_all(o: &Opts, poll: &mut Poll, conns: &mut [Conn]) -> Result<(), String> {
    let frame = ws_frame(o, 1, &payload(o));
    for (i, c) in conns.iter_mut().enumerate() {
        if !c.send(&frame) {
            return Err(format!("touch #{i}: send failed"));
        }
    }
    let mut left = conns.len();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs_f64(o.setup_timeout);
    while left > 0 {
        if Instant::now() > deadline {
            return Err(format!("touch: {left} echoes missing"));
        }
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            let Some(c) = conns.get_mut(ev.token().0) else {
                continue;
            };
            if ev.is_writable() && !c.flush() {
                return Err("touch: write failed".into());
            }
            let (dec, recv) = (&mut c.dec, &mut c.recv);
            let was = *recv;
            if !drain(&mut c.s, &mut buf, |chunk| {
                dec.feed(chunk, |f| {
                    if f.fin && f.opcode == 1 {
                        *recv += 1;
                    }
                })
            }) {
                return Err("touch: closed by server".into());
            }
            if was == 0 && *recv > 0 {
                left -= 1;
            }
        }
    }
    Ok(())
}

pub fn idle(o: &Opts) -> Result<Report, String> {
    let pid = o.server_pid.ok_or("idle mode needs --server-pid")?;
    let before = rss_bytes(pid).ok_or("cannot read server VmRSS")?;
    let anon_before = anon_bytes(pid).ok_or("cannot read server RssAnon")?;
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let cpu = Cpu::now(o.server_pid);
    let mut conns = open_all(o, &mut poll, o.conns, 0, o.window)?;
    if o.touch {
        touch_all(o, &mut poll, &mut conns)?;
    }
    let setup = t0.elapsed().as_secs_f64();
    let (_, scpu, _) = cpu.since(o.server_pid);
    // Let the server finish whatever it does after the handshake, then measure.
    std::thread::sleep(Duration::from_secs_f64(o.warmup.max(0.5)));
    let after = rss_bytes(pid).ok_or("cannot read server VmRSS")?;
    let anon_after = anon_bytes(pid).ok_or("cannot read server RssAnon")?;
    let mut m = base_report(o);
    m.insert(
        "anon_per_conn_bytes".into(),
        json!((anon_after as f64 - anon_before as f64) / o.conns as f64),
    );
    m.insert("rss_before_bytes".into(), json!(before));
    m.insert("rss_after_bytes".into(), json!(after));
    m.insert(
        "rss_per_conn_bytes".into(),
        json!((after as f64 - before as f64) / o.conns as f64),
    );
    m.insert("setup_s".into(), json!(setup));
    m.insert("server_cpu_s".into(), json!(scpu));
    m.insert("src_ips".into(), json!(o.src_ips));
    m.insert("touched".into(), json!(o.touch));
    drop(conns);
    Ok(Report {
        v: serde_json::Value::Object(m),
    })
}
