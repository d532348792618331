//! Runs the benchmark matrix: every server (raw mio echo, simple-ws-server, peers) pinned to
//! CPU 0, the load generator pinned to CPU 1, several rounds interleaved, medians, one table of
//! ratios to the raw echo. Called by `scripts/bench`.

mod args;
mod figures;
mod process;
mod rounds;
mod servers;
mod table;

use args::{parse_args, Args, Level};
use figures::figures;
use process::fd_soft_limit;
use rounds::{run_all, Plan};
use servers::servers;
use std::path::{Path, PathBuf};
use std::time::Instant;
use table::table;

fn main() {
    let Args {
        level,
        rounds,
        duration,
        only,
        figs_only,
        root,
    } = parse_args();
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

    let servers = servers(&root, &bench, &rel, &venv_py, level, &only);
    let figures = figures(chat_n, idle_n, &figs_only);

    let s = |p: &Path| p.to_string_lossy().into_owned();
    let results_path = bench.join("target/bench-results.jsonl");
    let mut results_file = std::fs::File::create(&results_path).expect("results file");
    let loadgen = s(&rel.join("loadgen"));
    let started = Instant::now();
    eprintln!(
        "runbench: level={level:?} rounds={rounds} duration={dur}s warmup={warm}s idle_conns={idle_n} chat_receivers={chat_n} fd_limit={fdlim}"
    );
    let plan = Plan {
        level,
        rounds,
        dur,
        warm,
        logs: &logs,
        loadgen: &loadgen,
    };
    let (vals, failures) = run_all(&plan, &figures, &servers, &mut results_file);
    let elapsed = started.elapsed().as_secs_f64();
    let table = table(&vals, &figures, &servers, level);
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
