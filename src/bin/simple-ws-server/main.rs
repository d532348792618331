//! The `simple-ws-server` command: runs a built-in example server (the demo handlers in
//! `examples/`, written against the library's public API only). Built with the `cli` feature.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;

use argh::FromArgs;
#[cfg(feature = "redis")]
use simple_ws_server::redis_bridge::{BridgeConfig, RedisBridge};
use simple_ws_server::{Cluster, Config, Error, Handle, Handler, Relay, Server};

mod cli;
mod examples;
mod ops;
use cli::Args;
use ops::WithOps;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let name = args
        .first()
        .map(String::as_str)
        .unwrap_or("simple-ws-server");
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let args = match Args::from_args(&[name], &rest) {
        Ok(args) => args,
        Err(exit) => {
            return if exit.status.is_ok() {
                print!("{}", exit.output);
                ExitCode::SUCCESS
            } else {
                eprint!("{}", exit.output);
                ExitCode::from(2)
            };
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("simple-ws-server: {err}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<(), Error> {
    let handler: Box<dyn Handler<State = ()>> = match args.example.as_str() {
        "echo" => Box::new(examples::Echo),
        "chat" => Box::new(examples::Chat),
        "stream" => Box::new(examples::Stream::default()),
        "rooms" => Box::new(examples::Rooms::new(0)),
        other => {
            return Err(Error::Config(format!(
                "unknown example {other:?}; choose echo, chat, rooms or stream"
            )))
        }
    };
    if args.threads == 0 {
        return Err(Error::Config("--threads must be at least 1".into()));
    }
    if let Some(url) = &args.redis {
        if args.example != "chat" && args.example != "rooms" {
            return Err(Error::Config(
                "--redis works with --example chat or rooms only".into(),
            ));
        }
        check_redis_url(url)?;
    }
    let config = args.config()?.reuse_port(args.threads > 1);
    let max_message_size = config.get_max_message_size();
    let (ws, http) = if config.is_tls() {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    let server = bind(args.host.as_deref(), args.port, config)?;
    let addr = server.local_addr();
    let shown = display_host(args.host.as_deref(), addr.ip());
    let mut out = std::io::stdout().lock();
    // A closed stdout must not stop the server: the lines are a courtesy.
    let _ = writeln!(out, "listening on {ws}://{shown}:{}/", addr.port());
    let _ = writeln!(out, "open {http}://{shown}:{}/ in a browser", addr.port());
    let _ = out.flush();
    drop(out);
    if args.threads == 1 && args.redis.is_none() {
        stop_on_signals(vec![server.handle()])?;
        return server.run(WithOps(handler)).map(drop);
    }
    drop(handler);
    let cluster = Cluster::from_server(server, args.threads)?;
    stop_on_signals(cluster.handles())?;
    scale_out(cluster, &args, max_message_size)
}

/// Runs the example on every loop of the cluster; chat lines (and rooms' topics) go through a
/// [`Relay`] to every loop, and through Redis to other instances with --redis.
fn scale_out(cluster: Cluster, args: &Args, max_message_size: usize) -> Result<(), Error> {
    match args.example.as_str() {
        "chat" => {
            let relay = Relay::new(cluster.handles());
            let relay = match &args.redis {
                Some(url) => with_redis(relay, url, &args.redis_channel, max_message_size)?,
                None => relay,
            };
            cluster.run(|index| WithOps(examples::RelayChat::new(relay.for_loop(index))))
        }
        "rooms" => {
            // Built for its side effect: it links the loops (which keep it), so a room's lines
            // reach every loop, and with a broker every instance.
            let relay = Relay::new(cluster.handles());
            if let Some(url) = &args.redis {
                with_redis(relay, url, &args.redis_channel, max_message_size)?;
            }
            cluster.run(|index| WithOps(examples::Rooms::new(index)))
        }
        "echo" => cluster.run(|_| WithOps(examples::Echo)),
        "stream" => cluster.run(|_| WithOps(examples::Stream::default())),
        other => Err(Error::Config(format!("unknown example {other:?}"))),
    }
}

/// Checks a --redis URL before anything is bound.
#[cfg(feature = "redis")]
fn check_redis_url(url: &str) -> Result<(), Error> {
    simple_ws_server::redis_bridge::check_url(url)
}

/// Without the `redis` feature, --redis is refused at once.
#[cfg(not(feature = "redis"))]
fn check_redis_url(_url: &str) -> Result<(), Error> {
    Err(no_redis())
}

#[cfg(not(feature = "redis"))]
fn no_redis() -> Error {
    Error::Config(
        "--redis needs a build with the `redis` feature (cargo install simple-ws-server --features redis)"
            .into(),
    )
}

/// The relay, with a Redis bridge to other instances as its broker.
#[cfg(feature = "redis")]
fn with_redis(
    relay: Relay,
    url: &str,
    channel: &str,
    max_message_size: usize,
) -> Result<Relay, Error> {
    // Nothing larger than a client may send reaches the clients from another instance.
    // Topics (rooms) travel on `<channel>:topic:<room>`, so deployments on different channels
    // keep their rooms apart too.
    let config = BridgeConfig::default()
        .max_message_size(max_message_size)
        .topic_prefix(channel);
    let bridge = RedisBridge::start_with_relay(url, channel, config, relay.clone())?;
    Ok(relay.with_broker(std::sync::Arc::new(bridge)))
}

#[cfg(not(feature = "redis"))]
fn with_redis(_: Relay, _: &str, _: &str, _: usize) -> Result<Relay, Error> {
    Err(no_redis())
}

/// Binds the given host, or all interfaces (dual-stack, falling back to IPv4 alone where the
/// machine has no IPv6).
fn bind(host: Option<&str>, port: u16, config: Config) -> Result<Server, Error> {
    match host {
        Some(host) => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            match host.parse::<IpAddr>() {
                Ok(ip) => Server::bind(SocketAddr::new(ip, port), config),
                Err(_) => Server::bind((host, port), config).map_err(|err| match err {
                    Error::Resolve { source, .. } => Error::Resolve {
                        host: host.to_owned(),
                        source,
                    },
                    err => err,
                }),
            }
        }
        None => Server::bind(
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port),
            config.clone(),
        )
        .or_else(|err| match err {
            Error::Bind { ref source, .. } if source.kind() != std::io::ErrorKind::AddrInUse => {
                Server::bind(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port), config)
            }
            err => Err(err),
        }),
    }
}

/// The host to print: `localhost` for all interfaces, else the address (IPv6 in brackets).
fn display_host(host: Option<&str>, ip: IpAddr) -> String {
    match (host, ip) {
        (_, ip) if ip.is_unspecified() => "localhost".into(),
        (_, IpAddr::V6(v6)) => format!("[{v6}]"),
        (_, IpAddr::V4(v4)) => v4.to_string(),
    }
}

/// Off Unix the signals are not caught: Ctrl-C ends the process at once.
#[cfg(not(unix))]
fn stop_on_signals(_handles: Vec<Handle>) -> Result<(), Error> {
    Ok(())
}

/// Ctrl-C and SIGTERM stop the server gracefully through its handles (one per loop).
#[cfg(unix)]
fn stop_on_signals(handles: Vec<Handle>) -> Result<(), Error> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(|source| {
        Error::EventLoop {
            context: "installing signal handlers",
            source,
        }
    })?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                log::info!("shutting down");
                for handle in &handles {
                    let _ = handle.stop();
                }
            }
        })
        .map_err(|source| Error::EventLoop {
            context: "starting the signal thread",
            source,
        })?;
    Ok(())
}
