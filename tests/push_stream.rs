//! The `stream` example: samples pushed to every client on a timer, checked for cadence and
//! content, through the binary (`--example stream`) and the library.

mod common;

use std::time::{Duration, Instant};

use common::*;

use common::examples::Stream;
use serde_json::Value;
use simple_ws_server::Config;
use tungstenite::Message;

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

#[test]
fn the_stream_example_pushes_five_numbered_samples_a_second() {
    let server = Binary::start(&["--example", "stream"]);
    let addr = server.addr;

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

#[test]
fn every_client_gets_the_samples_and_its_own_messages_back() {
    let server = TestServer::start(
        Stream::with_interval(Duration::from_millis(50)),
        Config::default(),
    );
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
