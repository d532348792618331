//! Command-line options: the `Opts` struct, its parser and the usage text.

use std::net::SocketAddr;

#[derive(Clone, Debug)]
pub struct Opts {
    pub addr: SocketAddr,
    pub proto_ws: bool,
    pub mode: String,
    pub conns: usize,
    pub inflight: usize,
    pub size: usize,
    pub duration: f64,
    pub warmup: f64,
    pub server_pid: Option<u32>,
    pub label: String,
    pub src_ips: usize,
    pub text: bool,
    pub setup_timeout: f64,
    pub per_ip: usize,
    pub window: usize,
    pub deflate: bool,
    pub touch: bool,
    pub browser_offer: bool,
    pub payload_file: Option<Vec<u8>>,
}

pub fn usage() -> ! {
    eprintln!(
        "usage: loadgen --addr IP:PORT [--proto ws|raw] [--mode echo|broadcast|idle|handshake|upgrade]\n\
         \t[--conns N] [--inflight K] [--size BYTES] [--duration S] [--warmup S]\n\
         \t[--server-pid PID] [--label NAME] [--src-ips N] [--per-ip N] [--text] [--setup-timeout S]\n\
         \t[--connect-window N (connections being set up at once)] [--deflate] [--browser-offer] [--payload-file F]\n\
         \t[--touch (idle: each connection echoes one message before the memory is read)]"
    );
    std::process::exit(2)
}

pub fn parse_opts() -> Opts {
    let mut o = Opts {
        addr: "127.0.0.1:8000".parse().unwrap(),
        proto_ws: true,
        mode: "echo".into(),
        conns: 64,
        inflight: 1,
        size: 32,
        duration: 5.0,
        warmup: 0.5,
        server_pid: None,
        label: String::new(),
        src_ips: 0,
        text: false,
        setup_timeout: 60.0,
        per_ip: 20_000,
        window: 256,
        deflate: false,
        touch: false,
        browser_offer: false,
        payload_file: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let k = args[i].as_str();
        if ["--text", "--deflate", "--touch", "--browser-offer"].contains(&k) {
            match k {
                "--text" => o.text = true,
                "--deflate" => o.deflate = true,
                "--browser-offer" => o.browser_offer = true,
                _ => o.touch = true,
            }
            i += 1;
            continue;
        }
        let v = args.get(i + 1).unwrap_or_else(|| usage()).clone();
        let bad = |_| usage();
        match k {
            "--addr" => o.addr = v.parse().unwrap_or_else(|_| usage()),
            "--proto" => o.proto_ws = v == "ws",
            "--mode" => o.mode = v,
            "--conns" => o.conns = v.parse().unwrap_or_else(bad),
            "--inflight" => o.inflight = v.parse().unwrap_or_else(bad),
            "--size" => o.size = v.parse().unwrap_or_else(bad),
            "--duration" => o.duration = v.parse().unwrap_or_else(|_| usage()),
            "--warmup" => o.warmup = v.parse().unwrap_or_else(|_| usage()),
            "--server-pid" => o.server_pid = Some(v.parse().unwrap_or_else(|_| usage())),
            "--label" => o.label = v,
            "--src-ips" => o.src_ips = v.parse().unwrap_or_else(bad),
            "--per-ip" => o.per_ip = v.parse().unwrap_or_else(bad),
            "--connect-window" => o.window = v.parse().unwrap_or_else(bad),
            "--payload-file" => {
                let b = std::fs::read(&v).unwrap_or_else(|e| {
                    eprintln!("--payload-file {v}: {e}");
                    std::process::exit(2)
                });
                o.size = b.len();
                o.payload_file = Some(b);
            }
            "--setup-timeout" => o.setup_timeout = v.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
        i += 2;
    }
    if o.inflight == 0 || o.size == 0 || o.conns == 0 {
        usage()
    }
    o
}
