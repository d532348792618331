//! `handshake` and `upgrade` modes: concurrent connect + upgrade (+ close) cycles.

use crate::conn::{connect, handshake_bytes, read_all, Conn, St};
use crate::cpu::Cpu;
use crate::opts::Opts;
use crate::report::{base_report, Report};
use mio::{Events, Interest, Poll, Token};
use serde_json::json;
use simple_ws_bench::{close_frame, upgrade_request, Histogram};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

pub fn handshake(o: &Opts) -> Result<Report, String> {
    // `handshake`: connect, upgrade, close handshake, TCP close. `upgrade`: connect, upgrade,
    // TCP close (one round trip, like the raw cycle: connect, one byte echoed, TCP close).
    let close_handshake = o.mode == "handshake";
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let req = upgrade_request(&o.addr.to_string(), "/");
    let close = close_frame();
    let c_max = o.conns;
    let mut slots: Vec<Option<Conn>> = (0..c_max).map(|_| None).collect();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 16 * 1024];
    let mut opened: usize = 0;
    let mut done_total: u64 = 0;
    let mut errors: u64 = 0;
    let mut hist = Histogram::new();
    let mut started_at: Vec<Instant> = vec![Instant::now(); c_max];
    let start = Instant::now();
    let warm_end = start + Duration::from_secs_f64(o.warmup);
    let end = warm_end + Duration::from_secs_f64(o.duration);
    let mut measuring = false;
    let mut cpu = Cpu::now(o.server_pid);
    let mut finished: Vec<usize> = Vec::new();
    let mut first_err: Option<String> = None;
    let n_ips = o.src_ips.max(1);
    let refill = |slots: &mut Vec<Option<Conn>>,
                  started_at: &mut Vec<Instant>,
                  poll: &mut Poll,
                  i: usize,
                  opened: &mut usize|
     -> Result<(), String> {
        let ip = Ipv4Addr::new(127, 0, 0, 2 + (*opened % n_ips) as u8);
        *opened += 1;
        let src = if o.src_ips == 0 { None } else { Some(ip) };
        let mut s = connect(o.addr, src).map_err(|e| format!("connect: {e}"))?;
        poll.registry()
            .register(&mut s, Token(i), Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| e.to_string())?;
        slots[i] = Some(Conn::new(s));
        started_at[i] = Instant::now();
        Ok(())
    };
    for i in 0..c_max {
        refill(&mut slots, &mut started_at, &mut poll, i, &mut opened)?;
    }
    loop {
        let now = Instant::now();
        if !measuring && now >= warm_end {
            measuring = true;
            done_total = 0;
            errors = 0;
            hist.clear();
            cpu = Cpu::now(o.server_pid);
        }
        if now >= end {
            break;
        }
        poll.poll(&mut events, Some(Duration::from_millis(5)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            let i = ev.token().0;
            let Some(c) = slots[i].as_mut() else { continue };
            let mut fail = |why: String| {
                if first_err.is_none() {
                    first_err = Some(why);
                }
            };
            if c.st == St::Connecting {
                if let Ok(Some(e)) = c.s.take_error() {
                    fail(format!("connect: {e}"));
                    c.st = St::Done;
                    errors += 1;
                    finished.push(i);
                    continue;
                }
                if c.s.peer_addr().is_err() {
                    continue;
                }
                if o.proto_ws {
                    c.st = St::Handshaking;
                    if !c.send(&req) {
                        c.st = St::Done;
                    }
                } else {
                    c.st = St::Closing;
                    if !c.send(b"x") {
                        c.st = St::Done;
                    }
                }
                if c.st == St::Done {
                    errors += 1;
                    finished.push(i);
                    continue;
                }
            }
            if ev.is_writable() && !c.flush() {
                c.st = St::Done;
                errors += 1;
                finished.push(i);
                continue;
            }
            if ev.is_readable() {
                let mut data = Vec::new();
                let mut herr = None;
                let st_before = c.st;
                let ok = read_all(&mut c.s, &mut buf, &mut data);
                if c.st == St::Handshaking && !data.is_empty() {
                    match handshake_bytes(c, &data) {
                        Ok(Some(rest)) => data = rest,
                        Ok(None) => data.clear(),
                        Err(e) => herr = Some(e),
                    }
                }
                if let Some(e) = herr {
                    fail(e);
                    c.st = St::Done;
                    errors += 1;
                    finished.push(i);
                    continue;
                }
                if st_before == St::Handshaking && c.st == St::Open && !close_handshake {
                    // `upgrade`: done at the 101, then the TCP close, as the raw cycle ends
                    // at its echo.
                    done_total += 1;
                    if measuring {
                        hist.record(Instant::now() - started_at[i]);
                    }
                    c.st = St::Done;
                    finished.push(i);
                    continue;
                }
                if st_before == St::Handshaking && c.st == St::Open {
                    c.st = St::Closing;
                    if !c.send(&close) {
                        c.st = St::Done;
                        errors += 1;
                        finished.push(i);
                        continue;
                    }
                }
                let mut closed = !ok;
                if c.st == St::Closing {
                    if o.proto_ws {
                        c.dec.feed(&data, |f| {
                            if f.opcode == 8 {
                                closed = true;
                            }
                        });
                    } else if !data.is_empty() {
                        closed = true;
                    }
                }
                if closed {
                    if c.st == St::Closing && (ok || o.proto_ws) {
                        done_total += 1;
                        if measuring {
                            hist.record(Instant::now() - started_at[i]);
                        }
                    } else {
                        fail("closed before the handshake finished".into());
                        errors += 1;
                    }
                    c.st = St::Done;
                    finished.push(i);
                }
            }
        }
        for i in finished.drain(..) {
            // Dropping a Conn closes it with RST (see its Drop): no TIME_WAIT on either side.
            drop(slots[i].take());
            refill(&mut slots, &mut started_at, &mut poll, i, &mut opened)?;
        }
    }
    let (swait, cwait) = cpu.waits(o.server_pid);
    let (wall, scpu, ccpu) = cpu.since(o.server_pid);
    let mut m = base_report(o);
    m.insert("server_runq_wait".into(), json!(swait));
    m.insert("client_runq_wait".into(), json!(cwait));
    m.insert("handshakes".into(), json!(done_total));
    m.insert("handshakes_per_s".into(), json!(done_total as f64 / wall));
    m.insert(
        "handshakes_per_server_cpu_s".into(),
        json!(scpu.map(|c| done_total as f64 / c.max(1e-9))),
    );
    m.insert("errors".into(), json!(errors));
    m.insert("first_error".into(), json!(first_err));
    m.insert("p50_us".into(), json!(hist.quantile(0.5) as f64 / 1e3));
    m.insert("p99_us".into(), json!(hist.quantile(0.99) as f64 / 1e3));
    m.insert("wall_s".into(), json!(wall));
    m.insert("server_cpu".into(), json!(scpu.map(|c| c / wall)));
    m.insert("client_cpu".into(), json!(ccpu / wall));
    Ok(Report {
        v: serde_json::Value::Object(m),
    })
}
