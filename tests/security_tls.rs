//! wss://: TLS 1.2 and 1.3 on the same loop, a TLS handshake that never blocks other clients,
//! older protocol versions refused, and the command line's --ssl with its certificate checks.
//! Certificates are made at test time (rcgen, and openssl for the PKCS#1 and SEC1 key forms).

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::process::Command;
use std::time::{Duration, Instant};

use common::examples::Echo;
use common::*;
use simple_ws_server::rustls::version::{TLS12, TLS13};
use simple_ws_server::rustls::ProtocolVersion;
use simple_ws_server::{Config, Error};
use tungstenite::Message;

#[test]
fn wss_echo_over_tls_1_3_and_1_2() {
    let pki = Pki::new();
    let server = TestServer::start(Echo, Config::default().tls(pki.server_config()));
    for (versions, expected) in [
        (&[&TLS13][..], ProtocolVersion::TLSv1_3),
        (&[&TLS12][..], ProtocolVersion::TLSv1_2),
    ] {
        let mut client = wss_connect(server.addr, pki.client_config(versions));
        assert_eq!(client.get_ref().conn.protocol_version(), Some(expected));
        assert_eq!(client.get_ref().conn.alpn_protocol(), None);
        assert_echoes(&mut client, "hello over TLS");
        // Larger than one TLS record (16 KiB) and than the read buffer: many records each way.
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        client.send(Message::binary(big.clone())).unwrap();
        assert_eq!(recv(&mut client), Message::binary(big));
        client.close(None).unwrap();
        // The close handshake completes: the server answers and ends the connection.
        loop {
            match client.read() {
                Ok(_) => continue,
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("expected a clean close, got {e}"),
            }
        }
    }
}

#[test]
fn the_page_is_served_over_https() {
    let pki = Pki::new();
    let server = TestServer::start(Echo, Config::default().tls(pki.server_config()));
    let mut stream = tls_connect(server.addr, pki.client_config(&[&TLS13]));
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    // The server closes after the response (with close_notify or a bare FIN).
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("<html"), "{text}");
}

/// The original ran the TLS handshake blocking inside its loop: one idle TCP connection to the
/// wss port froze every client. Here three stalled connections (silent, half a ClientHello, TLS
/// done but no HTTP request) are open while another client connects and is served at once.
#[test]
fn stalled_tls_connections_never_delay_other_clients() {
    let pki = Pki::new();
    let server = TestServer::start(Echo, Config::default().tls(pki.server_config()));
    let _silent = tcp(server.addr);
    let mut half_hello = tcp(server.addr);
    half_hello
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03])
        .unwrap();
    let _tls_no_request = tls_connect(server.addr, pki.client_config(&[&TLS13]));
    // A client already open before, and a new one.
    let mut before = wss_connect(server.addr, pki.client_config(&[&TLS13]));
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    let mut client = wss_connect(server.addr, pki.client_config(&[&TLS12]));
    for i in 0..20 {
        assert_echoes(&mut client, &format!("message {i}"));
        assert_echoes(&mut before, &format!("message {i}"));
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "serving a client took {elapsed:?} while others stalled"
    );
}

/// TLS 1.0 and 1.1 are refused; 1.2 and 1.3 are served (openssl's client, which still speaks the
/// old versions when asked to).
#[test]
fn only_tls_1_2_and_1_3_are_spoken() {
    let pki = Pki::new();
    let server = TestServer::start(Echo, Config::default().tls(pki.server_config()));
    let connect = format!("127.0.0.1:{}", server.addr.port());
    let s_client = |version: &str| {
        let out = Command::new("openssl")
            .args(["s_client", "-connect", &connect, version])
            .args(["-cipher", "DEFAULT@SECLEVEL=0"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl (scripts/install/security-tests installs it)");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    for old in ["-tls1", "-tls1_1"] {
        let out = s_client(old);
        assert!(out.contains("Cipher is (NONE)"), "{old}: {out}");
        assert!(out.contains("alert"), "{old}: {out}");
    }
    for (new, name) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let out = s_client(new);
        assert!(
            out.contains(&format!("New, {name}, Cipher is")),
            "{new}: {out}"
        );
    }
    let mut client = wss_connect(server.addr, pki.client_config(&[&TLS13]));
    assert_echoes(&mut client, "still serving");
}

/// Plain HTTP to the TLS port gets a TLS alert and a close; the loop goes on.
#[test]
fn plain_http_to_the_tls_port_ends_only_that_connection() {
    let pki = Pki::new();
    let server = TestServer::start(Echo, Config::default().tls(pki.server_config()));
    let mut open = wss_connect(server.addr, pki.client_config(&[&TLS13]));
    let mut stream = tcp(server.addr);
    stream.write_all(upgrade_request("/").as_bytes()).unwrap();
    let answer = read_to_close(&mut stream);
    assert!(!answer.starts_with(b"HTTP"), "{answer:?}");
    assert_echoes(&mut open, "still here");
}

/// A TLS handshake that never finishes is ended by the handshake timeout.
#[test]
fn a_stalled_tls_handshake_is_timed_out() {
    let pki = Pki::new();
    let server = TestServer::start(
        Echo,
        Config::default()
            .tls(pki.server_config())
            .handshake_timeout(Duration::from_millis(300)),
    );
    let start = Instant::now();
    let mut half_hello = tcp(server.addr);
    half_hello.write_all(&[0x16, 0x03, 0x01, 0x02]).unwrap();
    read_to_close(&mut half_hello);
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "closed after {elapsed:?}"
    );
}

/// Makes a key and a self-signed certificate for it with openssl, in the given key form.
fn openssl_pair(dir: &std::path::Path, form: &str) -> (String, String) {
    let key = dir.join(format!("{form}-key.pem"));
    let cert = dir.join(format!("{form}-cert.pem"));
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl (scripts/install/security-tests installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let key_s = key.to_str().unwrap();
    match form {
        "pkcs1" => openssl(&["genrsa", "-traditional", "-out", key_s, "2048"]),
        "sec1" => openssl(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            key_s,
        ]),
        _ => unreachable!(),
    }
    openssl(&[
        "req",
        "-x509",
        "-key",
        key_s,
        "-out",
        cert.to_str().unwrap(),
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-days",
        "2",
    ]);
    (
        cert.to_str().unwrap().to_owned(),
        key.to_str().unwrap().to_owned(),
    )
}

#[test]
fn the_binary_serves_wss_with_pkcs8_pkcs1_and_sec1_keys() {
    let dir = temp_dir("key-forms");
    let pki = Pki::new();
    let (cert, key) = pki.write(&dir);
    assert!(pki.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let pkcs8 = (
        cert.to_str().unwrap().to_owned(),
        key.to_str().unwrap().to_owned(),
    );
    let pkcs1 = openssl_pair(&dir, "pkcs1");
    let sec1 = openssl_pair(&dir, "sec1");
    assert!(std::fs::read_to_string(&pkcs1.1)
        .unwrap()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert!(std::fs::read_to_string(&sec1.1)
        .unwrap()
        .starts_with("-----BEGIN EC PRIVATE KEY-----"));
    for (form, (cert, key)) in [("pkcs8", pkcs8), ("pkcs1", pkcs1), ("sec1", sec1)] {
        let server = Binary::start(&["--ssl", "--cert", &cert, "--key", &key]);
        let port = server.addr.port();
        assert_eq!(
            server.first_lines,
            [
                format!("listening on wss://127.0.0.1:{port}/"),
                format!("open https://127.0.0.1:{port}/ in a browser"),
            ],
            "{form}"
        );
        // Trust exactly the certificate the server was given.
        let pem = std::fs::read(&cert).unwrap();
        let ca = simple_ws_server::rustls::pki_types::CertificateDer::from_pem_slice(&pem)
            .expect("a certificate");
        let ca = if form == "pkcs8" {
            pki.ca_der.clone()
        } else {
            ca
        };
        let client_pki = Pki {
            ca_der: ca,
            ..Pki::new()
        };
        let mut client = wss_connect(server.addr, client_pki.client_config(&[&TLS13, &TLS12]));
        assert_echoes(&mut client, form);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

use simple_ws_server::rustls::pki_types::pem::PemObject;

/// Each bad certificate or key ends the command with one line on stderr and status 2, before it
/// listens (nothing on stdout).
#[test]
fn bad_certificates_and_keys_exit_2_with_one_line_before_listening() {
    let dir = temp_dir("bad-certs");
    let pki = Pki::new();
    let (cert, key) = pki.write(&dir);
    let other_key = dir.join("other-key.pem");
    std::fs::write(
        &other_key,
        rcgen::KeyPair::generate().unwrap().serialize_pem(),
    )
    .unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "this is not PEM\n").unwrap();
    let missing = dir.join("missing.pem");
    let cert_s = cert.to_str().unwrap();
    let key_s = key.to_str().unwrap();
    let cases: [(&str, &str, &str); 6] = [
        ("missing certificate", missing.to_str().unwrap(), key_s),
        ("missing key", cert_s, missing.to_str().unwrap()),
        ("unreadable (a directory)", dir.to_str().unwrap(), key_s),
        ("not a certificate", garbage.to_str().unwrap(), key_s),
        ("a certificate as the key", cert_s, cert_s),
        (
            "a key of another certificate",
            cert_s,
            other_key.to_str().unwrap(),
        ),
    ];
    for (what, cert, key) in cases {
        let (code, stdout, stderr) = run_binary(&[
            "--ssl",
            "--cert",
            cert,
            "--key",
            key,
            "--port",
            "0",
            "--host",
            "127.0.0.1",
        ]);
        assert_eq!(code, Some(2), "{what}: {stderr}");
        assert_eq!(stdout, "", "{what}: it must not listen");
        assert_eq!(stderr.lines().count(), 1, "{what}: {stderr:?}");
        assert!(
            stderr.starts_with("simple-ws-server: TLS: "),
            "{what}: {stderr:?}"
        );
    }
    // The library reports the same problems as Error::Tls.
    assert!(matches!(
        simple_ws_server::tls::load_pem(&cert, &other_key),
        Err(Error::Tls(_))
    ));
    assert!(simple_ws_server::tls::load_pem(&cert, &key).is_ok());
    // Without --ssl the files are not read at all.
    let mut plain = Binary::start(&["--cert", missing.to_str().unwrap()]);
    assert!(plain.first_lines[0].starts_with("listening on ws://"));
    assert!(plain.is_running());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The TLS connection's write side is shut down cleanly when the server closes after a response.
#[test]
fn a_rejected_tls_handshake_gets_its_http_status() {
    let pki = Pki::new();
    let server = TestServer::start(
        Echo,
        Config::default()
            .tls(pki.server_config())
            .allow_origin("https://good.example"),
    );
    let mut stream = tls_connect(server.addr, pki.client_config(&[&TLS13]));
    stream
        .write_all(upgrade_request_with("/", "Origin: https://evil.example\r\n").as_bytes())
        .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    let _ = stream.sock.shutdown(Shutdown::Both);
}
