//! Command-line options: the run level (smoke, quick, full) and the overrides of its defaults.

use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Level {
    Smoke,
    Quick,
    Full,
}

/// The parsed command line.
pub struct Args {
    pub level: Level,
    pub rounds: Option<usize>,
    pub duration: Option<f64>,
    pub only: Option<Vec<String>>,
    pub figs_only: Option<Vec<String>>,
    pub root: PathBuf,
}

/// Parses the command line; prints the usage and exits with 2 on an unknown argument.
pub fn parse_args() -> Args {
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
    Args {
        level,
        rounds,
        duration,
        only,
        figs_only,
        root,
    }
}
