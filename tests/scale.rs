//! One loop per core: `--threads N` loops on one port through SO_REUSEPORT, and chat between
//! clients of different loops.

mod common;
mod scale_support;

use std::time::Duration;

use common::examples::{Echo, RelayChat};
use common::*;
use scale_support::*;
use simple_ws_server::{Cluster, Config, Error, Relay, Server};
use tungstenite::Message;

const CLIENTS: usize = 16;

#[test]
fn clients_land_on_both_loops_and_chat_across_them() {
    let server = Instance::start(&["--example", "chat", "--threads", "2"]);
    let mut clients = Vec::new();
    let mut loops = Vec::new();
    for _ in 0..CLIENTS {
        let client = connect(server.addr);
        let local = client.get_ref().local_addr().unwrap();
        // Each client is logged by exactly one of the two loops.
        let index = server.loop_of(local);
        assert!(index < 2, "client {local} on loop {index} of 2");
        assert_eq!(server.count(&format!(": {local} connected")), 1);
        loops.push(index);
        clients.push(client);
    }
    // With 16 clients both loops get some (all on one: odds 2 in 65,536).
    assert!(
        loops.contains(&0) && loops.contains(&1),
        "all clients on one loop: {loops:?}"
    );

    // Client i heard of each later arrival exactly once, whichever loop it was on.
    for (i, client) in clients.iter_mut().enumerate() {
        for _ in i + 1..CLIENTS {
            assert_eq!(recv_text(client), "127.0.0.1 - connected");
        }
    }
    for client in clients.iter_mut() {
        assert_silent(client, Duration::from_millis(100));
    }

    // One client on each loop speaks; everyone else hears it exactly once, the speaker not at all.
    for speaker_loop in [0, 1] {
        let speaker = loops.iter().position(|&l| l == speaker_loop).unwrap();
        let text = format!("hello from loop {speaker_loop}");
        clients[speaker].send(Message::text(text.clone())).unwrap();
        for (i, client) in clients.iter_mut().enumerate() {
            if i != speaker {
                assert_eq!(recv_text(client), format!("127.0.0.1 - {text}"));
            }
        }
        for client in clients.iter_mut() {
            assert_silent(client, Duration::from_millis(100));
        }
    }

    // A client of loop 1 leaves: the clients of loop 0 hear it.
    let leaver = loops.iter().position(|&l| l == 1).unwrap();
    let mut gone = clients.remove(leaver);
    gone.close(None).unwrap();
    let _ = gone.read();
    for client in clients.iter_mut() {
        assert_eq!(recv_text(client), "127.0.0.1 - disconnected");
    }
}

#[test]
fn echo_runs_on_every_loop_and_sigterm_stops_them_all() {
    let mut server = Instance::start(&["--example", "echo", "--threads", "2"]);
    let mut clients: Vec<_> = (0..CLIENTS).map(|_| connect(server.addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.send(Message::text(format!("echo {i}"))).unwrap();
        assert_eq!(recv_text(client), format!("echo {i}"));
    }
    let status = Command::kill_term(&mut server);
    assert!(status.success(), "exit status {status:?}");
    // Every client, on either loop, was told the server is going away.
    for client in clients.iter_mut() {
        assert_eq!(recv_close_code(client), 1001);
    }
}

#[test]
fn a_cluster_binds_one_port_for_all_its_loops() {
    let cluster = Cluster::bind("127.0.0.1:0", Config::default(), 3).unwrap();
    assert_eq!(cluster.len(), 3);
    let addr = cluster.local_addr();
    assert_ne!(addr.port(), 0);
    let handles = cluster.handles();
    let relay = Relay::new(handles.clone());
    let thread = std::thread::spawn(move || cluster.run(|i| RelayChat::new(relay.for_loop(i))));
    let mut a = connect(addr);
    let mut b = connect(addr);
    assert_eq!(recv_text(&mut a), "127.0.0.1 - connected");
    b.send(Message::text("hi")).unwrap();
    assert_eq!(recv_text(&mut a), "127.0.0.1 - hi");
    // Stopping one loop stops the cluster.
    handles[2].stop().unwrap();
    thread.join().unwrap().unwrap();
    assert_eq!(recv_close_code(&mut a), 1001);
}

#[test]
fn several_loops_need_reuse_port_and_at_least_one_loop() {
    let plain = Server::bind("127.0.0.1:0", Config::default()).unwrap();
    assert!(matches!(
        Cluster::from_server(plain, 2),
        Err(Error::Config(_))
    ));
    let plain = Server::bind("127.0.0.1:0", Config::default()).unwrap();
    let addr = plain.local_addr();
    // Without SO_REUSEPORT the port stays the first server's alone.
    let err = Server::bind(addr, Config::default().reuse_port(true)).err();
    assert!(matches!(err, Some(Error::Bind { .. })), "{err:?}");
    assert!(matches!(
        Cluster::bind("127.0.0.1:0", Config::default(), 0),
        Err(Error::Config(_))
    ));
    // One loop needs nothing special and runs on the calling thread.
    let one = Cluster::bind("127.0.0.1:0", Config::default(), 1).unwrap();
    let handle = one.handles().remove(0);
    handle.stop().unwrap();
    one.run(|_| Echo).unwrap();
}

#[test]
fn threads_zero_is_refused() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_simple-ws-server"))
        .args(["--threads", "0", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--threads"));
}

/// Without the `redis` feature the command has no bridge: `--redis` is refused with one line on
/// stderr and exit status 2, before anything listens. (Run by `scripts/test` on a default build.)
#[cfg(not(feature = "redis"))]
#[test]
fn redis_without_the_redis_feature_is_one_line_and_exit_2() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_simple-ws-server"))
        .args([
            "--example",
            "chat",
            "--redis",
            "redis://127.0.0.1/",
            "--port",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("`redis` feature"), "{stderr}");
}

/// SIGTERM for an [`Instance`].
struct Command;

impl Command {
    fn kill_term(instance: &mut Instance) -> std::process::ExitStatus {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &instance.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = instance.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < IO_TIMEOUT, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
