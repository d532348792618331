#!/usr/bin/env python3
"""permessage-deflate figures (issue 13): simple-ws-server --deflate against Node ws with
perMessageDeflate, both also without deflate, on a fixed ~1.2 KB JSON message
(bench/payloads/message-1k.json). Same pinning as runbench: server on CPU 0, load on CPU 1.

  python3 bench/deflate_bench.py [--rounds N] [--duration S] [--idle-conns N]

Needs target/release/simple-ws-server, bench/target/release/loadgen and bench/node_modules
(scripts/bench --quick builds and installs them). Prints a table of medians; every run is
appended as a JSON line to bench/target/deflate-results.jsonl. See BENCHMARKS.md.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWS = os.path.join(ROOT, "target/release/simple-ws-server")
LOADGEN = os.path.join(ROOT, "bench/target/release/loadgen")
NODE = os.path.join(ROOT, "bench/peers/node_ws.js")
PAYLOAD = os.path.join(ROOT, "bench/payloads/message-1k.json")
OUT = os.path.join(ROOT, "bench/target/deflate-results.jsonl")

SERVERS = {
    "sws": ([SWS], False),
    "sws-deflate": ([SWS, "--deflate", "--deflate-mode", "shared"], True),
    "sws-deflate-dedicated": ([SWS, "--deflate", "--deflate-mode", "dedicated"], True),
    "node": (["node", NODE], False),
    "node-deflate": (["node", NODE, "--deflate", "1"], True),
}


def start(name, example, conns):
    cmd, _ = SERVERS[name]
    cmd = ["taskset", "-c", "0"] + cmd + ["--example", example, "--host", "127.0.0.1", "--port", "0"]
    if name.startswith("sws") and conns + 16 > 10_000:
        cmd += ["--max-connections", str(conns + 16)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=dict(os.environ, RUST_LOG="warn"), text=True)
    for line in p.stdout:
        m = re.search(r"listening on \S*?127\.0\.0\.1:(\d+)", line)
        if m:
            return p, int(m.group(1))
    raise RuntimeError(f"{name} printed no 'listening on' line")


def run(name, fig, args, rounds_log):
    mode, conns, inflight, extra = fig
    example = "chat" if mode == "broadcast" else "echo"
    p, port = start(name, example, conns)
    try:
        cmd = ["taskset", "-c", "1", LOADGEN, "--addr", f"127.0.0.1:{port}", "--mode", mode,
               "--conns", str(conns), "--inflight", str(inflight), "--text",
               "--payload-file", PAYLOAD, "--duration", str(args.duration),
               "--warmup", str(args.warmup), "--server-pid", str(p.pid), "--label", name] + extra
        if SERVERS[name][1]:
            cmd.append("--deflate")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        v = json.loads(r.stdout.strip().splitlines()[-1])
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    v["load_avg"] = os.getloadavg()[0]
    rounds_log.write(json.dumps(v) + "\n")
    rounds_log.flush()
    print(f"  {name:22} {mode:9} x{inflight:<2} {r.stderr.strip()[-160:]}", file=sys.stderr)
    return v


def med(vs, k):
    xs = [v[k] for v in vs if v.get(k) is not None and "error" not in v]
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--idle-conns", type=int, default=2000)
    args = ap.parse_args()
    load_figs = {
        "echo 1.2 KB JSON, 64 conns x 1": ("echo", 64, 1, []),
        "echo 1.2 KB JSON, 64 conns x 16": ("echo", 64, 16, []),
        "chat 1.2 KB JSON to 1,000 clients, 16 in flight": ("broadcast", 1000, 16, []),
    }
    idle_figs = {
        "idle, handshake only": ("idle", args.idle_conns, 1, []),
        "idle, after one echoed message": ("idle", args.idle_conns, 1, ["--touch"]),
        "idle, after one echoed message, browser offer": (
            "idle", args.idle_conns, 1, ["--touch", "--browser-offer"]),
    }
    load_servers = ["sws", "sws-deflate", "node", "node-deflate"]
    idle_servers = ["sws", "sws-deflate", "sws-deflate-dedicated", "node", "node-deflate"]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    res = {}
    with open(OUT, "a") as log:
        for rnd in range(args.rounds):
            print(f"round {rnd + 1}/{args.rounds}, uptime: {os.popen('uptime').read().strip()}",
                  file=sys.stderr)
            for fname, fig in load_figs.items():
                for s in load_servers:
                    res.setdefault((fname, s), []).append(run(s, fig, args, log))
            for fname, fig in idle_figs.items():
                for s in idle_servers:
                    if "browser" in fname and not SERVERS[s][1]:
                        continue
                    res.setdefault((fname, s), []).append(run(s, fig, args, log))
    print(f"\nmedians of {args.rounds} rounds, {args.duration}s each (+{args.warmup}s warm-up); "
          f"server on CPU 0, loadgen on CPU 1")
    print("| figure | server | msg/s (chat: deliveries/s) | server CPU us/msg | wire B/msg client->server "
          "| wire B/msg server->client | server CPU % | run-queue wait server/loadgen |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for fname, fig in load_figs.items():
        for s in load_servers:
            vs = res[(fname, s)]
            rate = med(vs, "deliveries_per_s" if fig[0] == "broadcast" else "msgs_per_s")
            print(f"| {fname} | {s} | {rate:,.0f} | {med(vs, 'server_cpu_us_per_msg'):.2f} "
                  f"| {med(vs, 'wire_out_per_msg'):.0f} | {med(vs, 'wire_in_per_msg'):.0f} "
                  f"| {100 * med(vs, 'server_cpu'):.0f} "
                  f"| {100 * med(vs, 'server_runq_wait'):.0f}% / {100 * med(vs, 'client_runq_wait'):.0f}% |")
    print("\n| figure | server | RSS per connection (bytes) | connections |")
    print("|---|---|---:|---:|")
    for fname, fig in idle_figs.items():
        for s in idle_servers:
            if (fname, s) not in res:
                continue
            vs = res[(fname, s)]
            print(f"| {fname} | {s} | {med(vs, 'rss_per_conn_bytes'):,.0f} | {fig[1]} |")
    errs = [v for vs in res.values() for v in vs if "error" in v]
    for v in errs:
        print(f"ERROR {v['label']} {v['mode']}: {v['error']}")


if __name__ == "__main__":
    main()
