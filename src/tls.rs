//! wss://: loading a certificate chain and private key into a rustls server configuration.
//!
//! The server accepts any ready [`rustls::ServerConfig`] through [`Config::tls`](crate::Config::tls);
//! [`load_pem`] builds one from the PEM files most deployments have.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// Builds a TLS 1.2 + 1.3 server configuration (the `ring` crypto provider, ALPN `http/1.1`) from
/// a PEM certificate chain (leaf first) and a PEM private key in PKCS#8 (`BEGIN PRIVATE KEY`),
/// PKCS#1 (`BEGIN RSA PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`) form.
///
/// Fails with [`Error::Tls`] naming the file when a file is missing or unreadable, holds no
/// certificate or key, or when the key does not belong to the certificate.
///
/// ```no_run
/// use simple_ws_server::{tls, Config};
///
/// let config = Config::default().tls(tls::load_pem("cert.pem", "key.pem")?);
/// # Ok::<(), simple_ws_server::Error>(())
/// ```
pub fn load_pem(
    cert_path: impl AsRef<Path>,
    key_path: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>> {
    let (cert_path, key_path) = (cert_path.as_ref(), key_path.as_ref());
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|err| {
            Error::Tls(format!(
                "cannot read certificate {}: {}",
                cert_path.display(),
                pem_error(&err)
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Tls(format!(
            "no PEM certificate in {}",
            cert_path.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|err| {
        Error::Tls(format!(
            "cannot read private key {}: {}",
            key_path.display(),
            pem_error(&err)
        ))
    })?;
    server_config(certs, key).map_err(|err| {
        Error::Tls(format!(
            "certificate {} and key {} do not work together: {err}",
            cert_path.display(),
            key_path.display()
        ))
    })
}

/// A server configuration for this chain and key: TLS 1.3 and 1.2 only, no client certificates.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> std::result::Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn pem_error(err: &rustls_pki_types::pem::Error) -> String {
    match err {
        rustls_pki_types::pem::Error::Io(io) => io.to_string(),
        rustls_pki_types::pem::Error::NoItemsFound => "no PEM section of that kind found".into(),
        other => format!("not valid PEM ({other:?})"),
    }
}
