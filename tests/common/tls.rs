//! TLS for the tests: a certificate authority and a certificate made at test time, and wss://
//! clients that trust it.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use simple_ws_server::rustls::pki_types::{CertificateDer, ServerName};
use simple_ws_server::rustls::{self, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tungstenite::{self, protocol::WebSocket};

use super::{tcp, temp_dir};

pub type TlsClient = WebSocket<StreamOwned<ClientConnection, TcpStream>>;

/// A test certificate authority and a `localhost` / `127.0.0.1` certificate it signed, made now.
pub struct Pki {
    pub ca_der: CertificateDer<'static>,
    /// The leaf then the CA, PEM.
    pub chain_pem: String,
    /// The leaf's private key, PKCS#8 PEM.
    pub key_pem: String,
    pub key_der: Vec<u8>,
    pub leaf_der: CertificateDer<'static>,
}

impl Pki {
    pub fn new() -> Pki {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "simple-ws-server test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf_params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
        Pki {
            ca_der: ca.der().clone(),
            chain_pem: format!("{}{}", leaf.pem(), ca.pem()),
            key_pem: leaf_key.serialize_pem(),
            key_der: leaf_key.serialize_der(),
            leaf_der: leaf.der().clone(),
        }
    }

    /// The server configuration for this certificate, through the library's PEM loader.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let dir = temp_dir("pki");
        let (cert, key) = self.write(&dir);
        let config = simple_ws_server::tls::load_pem(&cert, &key).expect("load the PEM files");
        let _ = std::fs::remove_dir_all(&dir);
        config
    }

    /// Writes cert.pem and key.pem into `dir`.
    pub fn write(&self, dir: &std::path::Path) -> (PathBuf, PathBuf) {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, &self.chain_pem).unwrap();
        std::fs::write(&key, &self.key_pem).unwrap();
        (cert, key)
    }

    /// A client trusting this CA, speaking only the given TLS versions.
    pub fn client_config(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(versions)
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }
}

/// A TLS connection to the server, handshake done.
pub fn tls_connect(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
) -> StreamOwned<ClientConnection, TcpStream> {
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(config, name).unwrap();
    let mut stream = StreamOwned::new(conn, tcp(addr));
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .expect("TLS handshake");
    }
    stream
}

/// A wss:// client, connected.
pub fn wss_connect(addr: SocketAddr, config: Arc<ClientConfig>) -> TlsClient {
    let stream = tls_connect(addr, config);
    let (client, response) =
        tungstenite::client(format!("wss://localhost:{}/", addr.port()), stream)
            .expect("WebSocket handshake over TLS");
    assert_eq!(response.status(), 101);
    client
}
