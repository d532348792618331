//! `broadcast` mode: N receivers plus 1 sender against a chat server; deliveries/s.

use crate::conn::{drain, open_all};
use crate::cpu::Cpu;
use crate::opts::Opts;
use crate::payload::{payload, ws_frame, MARK, MIN_COUNTED};
use crate::report::{base_report, per_msg, Report};
use mio::{Events, Poll};
use serde_json::json;
use simple_ws_bench::Histogram;
use std::time::{Duration, Instant};

pub fn broadcast(o: &Opts) -> Result<Report, String> {
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let n = o.conns;
    let w = o.inflight;
    let size = o.size;
    // Receivers first (0..n), then the sender (n).
    let mut conns = open_all(o, &mut poll, n, 0, o.window)?;
    let mut sender = {
        let mut o1 = o.clone();
        o1.src_ips = 0;
        open_all(&o1, &mut poll, 1, n, 1)?.pop().unwrap()
    };
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 256 * 1024];
    // Settle: swallow the join notices until the line is quiet.
    let settle_deadline = Instant::now() + Duration::from_secs_f64(o.setup_timeout);
    let mut quiet_since = Instant::now();
    while Instant::now() < settle_deadline
        && quiet_since.elapsed() < Duration::from_millis(if o.proto_ws { 300 } else { 50 })
    {
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            let i = ev.token().0;
            let c = if i == n { &mut sender } else { &mut conns[i] };
            if ev.is_readable() {
                let mut got = false;
                let dec = &mut c.dec;
                if !drain(&mut c.s, &mut buf, |chunk| {
                    got = true;
                    dec.feed(chunk, |_| {});
                }) {
                    return Err("closed by server while settling".into());
                }
                if got {
                    quiet_since = Instant::now();
                }
            }
        }
    }
    let p = payload(o);
    let one = if o.proto_ws {
        ws_frame(o, 1, &p)
    } else {
        p.clone()
    };
    let batch = one.repeat(w);
    let flen = one.len();
    let mut slot_count = vec![0usize; w];
    let mut slot_sent = vec![Instant::now(); w];
    let mut sent: u64 = 0;
    let mut completed: u64 = 0;
    let mut deliveries: u64 = 0;
    let mut hist = Histogram::new();
    let start = Instant::now();
    let warm_end = start + Duration::from_secs_f64(o.warmup);
    let end = warm_end + Duration::from_secs_f64(o.duration);
    let mut measuring = false;
    let mut cpu = Cpu::now(o.server_pid);
    let mut msgs_done: u64 = 0;
    let (mut wire_in, mut wire_out) = (0u64, 0u64);
    let counted = if o.deflate || o.payload_file.is_some() {
        MIN_COUNTED
    } else {
        size as u64
    };
    let need_mark = o.payload_file.is_none() && !o.deflate;
    loop {
        // Top up the sender's window.
        let room = (w as u64 - (sent - completed)) as usize;
        if room > 0 {
            let t = Instant::now();
            for k in 0..room {
                slot_sent[((sent + k as u64) % w as u64) as usize] = t;
            }
            if !sender.send(&batch[..room * flen]) {
                return Err("sender: send failed".into());
            }
            if measuring {
                wire_out += (room * flen) as u64;
            }
            sent += room as u64;
        }
        let now = Instant::now();
        if !measuring && now >= warm_end {
            measuring = true;
            hist.clear();
            deliveries = 0;
            msgs_done = 0;
            wire_in = 0;
            wire_out = 0;
            cpu = Cpu::now(o.server_pid);
        }
        if now >= end {
            break;
        }
        poll.poll(&mut events, Some(Duration::from_millis(5)))
            .map_err(|e| e.to_string())?;
        for ev in events.iter() {
            let i = ev.token().0;
            if i == n {
                if ev.is_writable() && !sender.flush() {
                    return Err("sender: write failed".into());
                }
                if ev.is_readable() && !drain(&mut sender.s, &mut buf, |_| {}) {
                    return Err("sender closed by server".into());
                }
                continue;
            }
            let c = &mut conns[i];
            if !ev.is_readable() {
                continue;
            }
            let mut got = 0u64;
            let ok = if o.proto_ws {
                let dec = &mut c.dec;
                let win = &mut wire_in;
                drain(&mut c.s, &mut buf, |chunk| {
                    if measuring {
                        *win += chunk.len() as u64;
                    }
                    dec.feed(chunk, |f| {
                        if f.fin
                            && f.opcode == 1
                            && (!need_mark || f.last == MARK)
                            && f.len >= counted
                        {
                            got += 1;
                        }
                    })
                })
            } else {
                let carry = &mut c.carry;
                drain(&mut c.s, &mut buf, |chunk| {
                    let t = *carry + chunk.len();
                    got += (t / size) as u64;
                    *carry = t % size;
                })
            };
            if !ok {
                return Err(format!("receiver #{i} closed by server"));
            }
            if got == 0 {
                continue;
            }
            let t = Instant::now();
            for _ in 0..got {
                let k = c.recv;
                c.recv += 1;
                let slot = (k % w as u64) as usize;
                slot_count[slot] += 1;
                if slot_count[slot] == n {
                    slot_count[slot] = 0;
                    completed += 1;
                    if measuring {
                        msgs_done += 1;
                        hist.record(t - slot_sent[slot]);
                    }
                }
            }
            if measuring {
                deliveries += got;
            }
        }
    }
    let (swait, cwait) = cpu.waits(o.server_pid);
    let (wall, scpu, ccpu) = cpu.since(o.server_pid);
    let mut m = base_report(o);
    m.insert("server_runq_wait".into(), json!(swait));
    m.insert("client_runq_wait".into(), json!(cwait));
    m.insert("deliveries".into(), json!(deliveries));
    m.insert("deliveries_per_s".into(), json!(deliveries as f64 / wall));
    m.insert("msgs_per_s".into(), json!(msgs_done as f64 / wall));
    // Per delivered message: bytes in are per receiver, bytes out per message sent.
    per_msg(&mut m, deliveries, 0, wire_in, scpu);
    m.insert(
        "wire_out_per_msg".into(),
        json!(wire_out as f64 / msgs_done.max(1) as f64),
    );
    m.insert("p50_us".into(), json!(hist.quantile(0.5) as f64 / 1e3));
    m.insert("p99_us".into(), json!(hist.quantile(0.99) as f64 / 1e3));
    m.insert("p999_us".into(), json!(hist.quantile(0.999) as f64 / 1e3));
    m.insert("wall_s".into(), json!(wall));
    m.insert("server_cpu".into(), json!(scpu.map(|c| c / wall)));
    m.insert("client_cpu".into(), json!(ccpu / wall));
    Ok(Report {
        v: serde_json::Value::Object(m),
    })
}
