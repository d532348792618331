//! `echo` mode: N connections, each keeping K messages in flight.

use crate::conn::{drain, open_all};
use crate::cpu::Cpu;
use crate::opts::Opts;
use crate::payload::{payload, ws_frame};
use crate::report::{base_report, per_msg, Report};
use mio::{Events, Poll};
use serde_json::json;
use simple_ws_bench::Histogram;
use std::time::{Duration, Instant};

pub fn echo(o: &Opts) -> Result<Report, String> {
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut conns = open_all(o, &mut poll, o.conns, 0, o.window)?;
    let p = payload(o);
    let one = if o.proto_ws {
        ws_frame(o, if o.text { 1 } else { 2 }, &p)
    } else {
        p.clone()
    };
    let batch: Vec<u8> = one.repeat(o.inflight);
    let flen = one.len();
    let size = o.size;
    let mut hist = Histogram::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 256 * 1024];
    let start = Instant::now();
    for c in conns.iter_mut() {
        for _ in 0..o.inflight {
            c.sent_at.push_back(start);
        }
        if !c.send(&batch) {
            return Err("initial send failed".into());
        }
    }
    let warm_end = start + Duration::from_secs_f64(o.warmup);
    let end = warm_end + Duration::from_secs_f64(o.duration);
    let mut measuring = false;
    let mut cpu = Cpu::now(o.server_pid);
    let mut msgs: u64 = 0;
    let mut bad_frames = 0u64;
    let (mut wire_in, mut wire_out) = (0u64, 0u64);
    loop {
        let now = Instant::now();
        if !measuring && now >= warm_end {
            measuring = true;
            hist.clear();
            msgs = 0;
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
            let c = &mut conns[ev.token().0];
            if ev.is_writable() && !c.flush() {
                return Err("write failed".into());
            }
            if !ev.is_readable() {
                continue;
            }
            let mut done = 0usize;
            let ok = if o.proto_ws {
                let dec = &mut c.dec;
                let win = &mut wire_in;
                drain(&mut c.s, &mut buf, |chunk| {
                    if measuring {
                        *win += chunk.len() as u64;
                    }
                    dec.feed(chunk, |f| {
                        let len_ok = if o.deflate {
                            f.len >= 1
                        } else {
                            f.len == size as u64
                        };
                        if f.fin && (f.opcode == 1 || f.opcode == 2) && len_ok {
                            done += 1;
                        } else {
                            bad_frames += 1;
                        }
                    })
                })
            } else {
                let carry = &mut c.carry;
                drain(&mut c.s, &mut buf, |chunk| {
                    let t = *carry + chunk.len();
                    done += t / size;
                    *carry = t % size;
                })
            };
            if !ok {
                return Err("connection closed by server".into());
            }
            if done > 0 {
                let t = Instant::now();
                for _ in 0..done {
                    if let Some(s) = c.sent_at.pop_front() {
                        if measuring {
                            hist.record(t - s);
                        }
                    }
                }
                if measuring {
                    msgs += done as u64;
                }
                let mut left = done;
                while left > 0 {
                    let k = left.min(o.inflight);
                    for _ in 0..k {
                        c.sent_at.push_back(t);
                    }
                    if !c.send(&batch[..k * flen]) {
                        return Err("send failed".into());
                    }
                    if measuring {
                        wire_out += (k * flen) as u64;
                    }
                    left -= k;
                }
            }
        }
    }
    let (swait, cwait) = cpu.waits(o.server_pid);
    let (wall, scpu, ccpu) = cpu.since(o.server_pid);
    let mut m = base_report(o);
    m.insert("server_runq_wait".into(), json!(swait));
    m.insert("client_runq_wait".into(), json!(cwait));
    m.insert("msgs".into(), json!(msgs));
    m.insert("msgs_per_s".into(), json!(msgs as f64 / wall));
    m.insert("p50_us".into(), json!(hist.quantile(0.5) as f64 / 1e3));
    m.insert("p99_us".into(), json!(hist.quantile(0.99) as f64 / 1e3));
    m.insert("p999_us".into(), json!(hist.quantile(0.999) as f64 / 1e3));
    m.insert("wall_s".into(), json!(wall));
    m.insert("server_cpu".into(), json!(scpu.map(|c| c / wall)));
    m.insert("client_cpu".into(), json!(ccpu / wall));
    m.insert("unexpected_frames".into(), json!(bad_frames));
    per_msg(&mut m, msgs, wire_out, wire_in, scpu);
    Ok(Report {
        v: serde_json::Value::Object(m),
    })
}
