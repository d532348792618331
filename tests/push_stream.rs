//! The `stream` example: samples pushed to every client on a timer, checked for cadence and
//! content, through the binary (`--example stream`) and the library.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use simple_ws_server::examples::Stream;
use simple_ws_server::tungstenite::{self, protocol::WebSocket, Message};
use simple_ws_server::{Config, Handle, Server};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

type Client = WebSocket<TcpStream>;

fn connect(addr: SocketAddr) -> Client {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let (client, _) = tungstenite::client(format!("ws://{addr}/"), tcp).expect("handshake");
    client
}

fn recv_text(client: &mut Client) -> String {
    for _ in 0..1000 {
        match client.read().expect("read a message") {
            Message::Text(text) => return text.as_str().to_owned(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected text, got {other:?}"),
        }
    }
    panic!("only pings and pongs arrived");
}

/// The next sample, parsed and checked for its shape.
fn recv_sample(client: &mut Client) -> Value {
    let text = recv_text(client);
    let sample: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert_eq!(sample["stream"], "sample", "{text}");
    for field in ["seq", "t_ms", "clients"] {
        assert!(sample[field].is_u64(), "{field} is a whole number: {text}");
    }
    for field in ["in_per_s", "out_per_s", "signal"] {
        assert!(sample[field].is_f64(), "{field} is a number: {text}");
    }
    let signal = sample["signal"].as_f64().unwrap();
    assert!((-1.3..=1.3).contains(&signal), "{text}");
    sample
}

/// The binary, killed when dropped.
struct Binary(Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_stream_example_pushes_five_numbered_samples_a_second() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_simple-ws-server"))
        .args(["--example", "stream", "--port", "0", "--host", "127.0.0.1"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start simple-ws-server");
    let stdout = child.stdout.take().unwrap();
    let _guard = Binary(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the banner");
    let addr: SocketAddr = line
        .trim_end()
        .strip_prefix("listening on ws://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
        .parse()
        .expect("an address");

    let connected = Instant::now();
    let mut client = connect(addr);
    let mut samples = Vec::new();
    let mut arrivals = Vec::new();
    for _ in 0..10 {
        samples.push(recv_sample(&mut client));
        arrivals.push(connected.elapsed());
    }
    let took = arrivals[9];
    eprintln!("10 samples in {took:?}; arrivals {arrivals:?}");
    assert!(
        took < Duration::from_millis(2500),
        "10 samples took {took:?}"
    );
    // Nine intervals of 200 ms between the first and the tenth (with room for a loaded machine).
    let span = arrivals[9] - arrivals[0];
    assert!(
        span >= Duration::from_millis(1700) && span <= Duration::from_millis(2300),
        "the first and tenth samples are {span:?} apart"
    );
    for (i, sample) in samples.iter().enumerate() {
        assert_eq!(sample["seq"], i as u64 + 1, "{sample}");
        assert_eq!(sample["clients"], 1, "{sample}");
    }
    let times: Vec<u64> = samples
        .iter()
        .map(|s| s["t_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(times[0], 0);
    for pair in times.windows(2) {
        let step = pair[1] - pair[0];
        assert!((100..=400).contains(&step), "t_ms steps {times:?}");
    }
    // The server counts its own sends: after a second, 5 samples per second to one client.
    let out = samples[9]["out_per_s"].as_f64().unwrap();
    assert!((4.0..=6.0).contains(&out), "out_per_s {out}");
    let signals: Vec<f64> = samples
        .iter()
        .map(|s| s["signal"].as_f64().unwrap())
        .collect();
    assert!(
        signals.windows(2).any(|w| w[0] != w[1]),
        "the signal moves: {signals:?}"
    );
}

/// The stream example in a thread of the test process.
struct Running {
    addr: SocketAddr,
    handle: Handle,
    thread: Option<JoinHandle<simple_ws_server::Result<()>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.handle.stop();
        if let Some(thread) = self.thread.take() {
            let result = thread.join();
            if !std::thread::panicking() {
                result.expect("no panic").expect("the server ran");
            }
        }
    }
}

fn start(stream: Stream) -> Running {
    let server = Server::bind("127.0.0.1:0", Config::default()).unwrap();
    let (addr, handle) = (server.local_addr(), server.handle());
    let thread = std::thread::spawn(move || server.run(stream));
    Running {
        addr,
        handle,
        thread: Some(thread),
    }
}

#[test]
fn every_client_gets_the_samples_and_its_own_messages_back() {
    let server = start(Stream::with_interval(Duration::from_millis(50)));
    let mut a = connect(server.addr);
    let first = recv_sample(&mut a);
    assert_eq!(first["seq"], 1);
    let mut b = connect(server.addr);
    // Both clients see the same samples once b is counted.
    let mut seen_by_b = recv_sample(&mut b);
    for _ in 0..20 {
        if seen_by_b["clients"] == 2 {
            break;
        }
        seen_by_b = recv_sample(&mut b);
    }
    assert_eq!(seen_by_b["clients"], 2, "{seen_by_b}");
    let seq = seen_by_b["seq"].as_u64().unwrap();
    let mut seen_by_a = recv_sample(&mut a);
    for _ in 0..40 {
        if seen_by_a["seq"].as_u64().unwrap() >= seq {
            break;
        }
        seen_by_a = recv_sample(&mut a);
    }
    assert_eq!(seen_by_a, seen_by_b, "one broadcast, the same sample");

    // A message is sent back to its sender among the samples, and counted as received.
    a.send(Message::text("hello stream")).unwrap();
    let mut echoed = false;
    let mut in_rate = 0.0;
    for _ in 0..40 {
        let text = recv_text(&mut a);
        if text == "hello stream" {
            echoed = true;
            continue;
        }
        let sample: Value = serde_json::from_str(&text).unwrap();
        in_rate = sample["in_per_s"].as_f64().unwrap();
        if echoed && in_rate > 0.0 {
            break;
        }
    }
    assert!(echoed, "the message came back");
    assert!(in_rate > 0.0, "the received message is counted");

    // When the last client leaves the samples stop; the next client starts a new series.
    drop(a);
    drop(b);
    std::thread::sleep(Duration::from_millis(200));
    let mut c = connect(server.addr);
    let sample = recv_sample(&mut c);
    assert_eq!(sample["seq"], 1, "{sample}");
    assert_eq!(sample["clients"], 1, "{sample}");
}
