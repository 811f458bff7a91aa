//! Optional TLS for the demo server (`--tls-cert`, `--tls-key`): loading the PEM files into a
//! rustls configuration (ring provider, TLS 1.2 and 1.3), and [`Stream`], the one socket type
//! the rest of the server works with whether or not TLS is on.

use std::io;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;

/// Build the server's TLS configuration from a PEM certificate chain (leaf first) and a PEM
/// private key (PKCS#8, PKCS#1 or SEC1). Errors name the file and what is wrong with it.
pub fn load_tls_config(
    cert_pem: &Path,
    key_pem: &Path,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let cert_bytes = crate::files::read_bounded(cert_pem, crate::files::MAX_SMALL_FILE)
        .with_context(|| format!("cannot read --tls-cert {}", cert_pem.display()))?;
    let key_bytes = crate::files::read_bounded(key_pem, crate::files::MAX_SMALL_FILE)
        .with_context(|| format!("cannot read --tls-key {}", key_pem.display()))?;
    tls_config_from_pem(&cert_bytes, &key_bytes).with_context(|| {
        format!(
            "cannot use --tls-cert {} with --tls-key {}",
            cert_pem.display(),
            key_pem.display()
        )
    })
}

/// [`load_tls_config`] from the PEM texts themselves.
pub fn tls_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("the certificate file is not valid PEM: {e}"))?;
    if certs.is_empty() {
        bail!("the certificate file holds no CERTIFICATE block");
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| anyhow::anyhow!("the key file holds no usable private key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("no TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and the key do not go together")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client connection, plain or TLS: the byte stream the client and the proxy run over too.
pub(crate) type Stream = crate::wire::stream::BoxIo;

/// Open the connection: the TLS handshake when `tls` is set, else the plain socket.
pub(crate) async fn open(
    tcp: TcpStream,
    tls: Option<&Arc<rustls::ServerConfig>>,
) -> io::Result<Stream> {
    match tls {
        None => Ok(Box::new(tcp)),
        Some(config) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
            let tls = acceptor.accept(tcp).await?;
            Ok(Box::new(tls))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_pair_loads_and_mismatch_or_garbage_is_named() {
        let a = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = a.cert.pem();
        let key = a.signing_key.serialize_pem();
        assert!(tls_config_from_pem(cert.as_bytes(), key.as_bytes()).is_ok());

        let other_key = b.signing_key.serialize_pem();
        let e = tls_config_from_pem(cert.as_bytes(), other_key.as_bytes()).unwrap_err();
        assert!(format!("{e:#}").contains("do not go together"), "{e:#}");

        let e = tls_config_from_pem(b"not pem", key.as_bytes()).unwrap_err();
        assert!(format!("{e:#}").contains("no CERTIFICATE"), "{e:#}");
        let e = tls_config_from_pem(cert.as_bytes(), cert.as_bytes()).unwrap_err();
        assert!(format!("{e:#}").contains("private key"), "{e:#}");
    }
}
