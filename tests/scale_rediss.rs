//! The Redis bridge over TLS (`rediss://`, features `redis` and `tls`) to a real redis-server
//! with a TLS port and a password, its certificate made at test time.

mod common;
mod scale_support;

use std::time::Duration;

use common::*;
use scale_support::*;

/// Two instances chat through a redis reached over `rediss://`, with a password that needs
/// percent-encoding in the URL (decoded by the `redis` crate's URL parsing). The instances trust
/// the test's CA through `SSL_CERT_FILE`, which the redis crate's root store reads.
#[test]
fn two_instances_chat_over_rediss_with_a_percent_encoded_password() {
    let pki = Pki::new();
    let dir = temp_dir("rediss");
    let (cert, key) = pki.write(&dir);
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let tls_port = free_port().to_string();
    let Some(redis) = Redis::start_with(&[
        "--tls-port",
        &tls_port,
        "--tls-cert-file",
        cert,
        "--tls-key-file",
        key,
        "--tls-ca-cert-file",
        cert,
        "--tls-auth-clients",
        "no",
        "--requirepass",
        "p@ss word",
    ]) else {
        return;
    };
    let url = format!("rediss://:p%40ss%20word@127.0.0.1:{tls_port}/");
    let start = || {
        let instance = Instance::start_with_env(
            &["--example", "chat", "--redis", &url],
            &[("SSL_CERT_FILE", cert)],
        );
        instance.wait_for("redis: subscribed to", 1, Duration::from_secs(10));
        instance
    };
    let (a, b) = (start(), start());
    let mut b1 = connect(b.addr);
    let _a1 = connect(a.addr);
    // A's newcomer is announced to B's client through redis, over TLS.
    assert_eq!(recv_text(&mut b1), "127.0.0.1 - connected");
    assert_eq!(a.count("unreachable") + b.count("unreachable"), 0);
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}
