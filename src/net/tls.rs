//! rustls client configuration: whom to trust (the system store plus the bundled roots,
//! `--cacert`, `SSL_CERT_FILE`/`SSL_CERT_DIR`, or nobody checked for `--insecure`), the
//! client certificate for mutual TLS, and TLS failures told as sentences with the way out.

use std::io;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, OtherError,
    RootCertStore, SignatureScheme,
};

use super::certs;
use crate::model::TlsInfo;
use crate::reach::Trust;

/// Why the TLS client configuration could not be built: a sentence naming the flag, file or
/// variable at fault and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TlsSetupError {
    #[error("no TLS protocol versions: {0}")]
    Versions(rustls::Error),
    #[error("cannot use the trusted certificates: {0}")]
    Verifier(String),
    #[error("--cert and --key do not go together ({0}): the key must be the certificate's")]
    KeyMismatch(rustls::Error),
    #[error("--cacert {0}: none of its certificates can be used as a CA")]
    NoUsableCa(String),
    #[error("SSL_CERT_FILE/SSL_CERT_DIR: cannot load the certificates: {0}")]
    EnvUnreadable(String),
    #[error("SSL_CERT_FILE/SSL_CERT_DIR name no usable CA certificate")]
    EnvEmpty,
    #[error("{flag} {path}: cannot read it: {why}")]
    Unreadable {
        flag: &'static str,
        path: String,
        why: String,
    },
    #[error("{flag} {path}: not a PEM file: {why}")]
    NotPem {
        flag: &'static str,
        path: String,
        why: String,
    },
    #[error("{flag} {path}: it holds no -----BEGIN CERTIFICATE----- block")]
    NoCertificate { flag: &'static str, path: String },
    #[error("--key needs --cert (the client certificate it belongs to)")]
    KeyWithoutCert,
    #[error("--key {0}: it holds no PEM private key")]
    NoKey(String),
    #[error("--cert {0} holds no private key: pass it with --key FILE")]
    NoKeyInCert(String),
}

/// A host that rustls cannot check a certificate against.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host:?} cannot be used as a TLS server name: {why}")]
pub struct BadServerName {
    pub host: String,
    pub why: String,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client configuration for `wss://` (and `https://` proxies): the roots `trust` names,
/// its client certificate, or any server certificate when `insecure`. The error is a
/// sentence naming the file or variable at fault.
pub(crate) fn client_config(
    insecure: bool,
    trust: &Trust,
) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::Versions)?;
    let builder = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
    } else {
        let (roots, source, pinned) = roots(trust)?;
        let inner = WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| TlsSetupError::Verifier(e.to_string()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Explaining {
                inner,
                source,
                pinned,
            }))
    };
    let mut config = match client_identity(trust)? {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(TlsSetupError::KeyMismatch)?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What a certificate was checked against, for the way out of an unknown issuer.
#[derive(Debug, Clone)]
enum RootSource {
    /// `--cacert FILE`.
    CaFile(String),
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR`.
    Env,
    /// The system store plus the bundled roots.
    System,
}

/// The trusted roots, where they came from, and the `--cacert` certificates themselves (for
/// a server that shows one of them: [`Explaining::pinned`]).
type Roots = (Arc<RootCertStore>, RootSource, Vec<CertificateDer<'static>>);

fn roots(trust: &Trust) -> Result<Roots, TlsSetupError> {
    if let Some(path) = &trust.cacert {
        let certs = read_certs(path, "--cacert")?;
        let mut store = RootCertStore::empty();
        let (added, _) = store.add_parsable_certificates(certs.iter().cloned());
        if added == 0 {
            return Err(TlsSetupError::NoUsableCa(path.display().to_string()));
        }
        return Ok((
            Arc::new(store),
            RootSource::CaFile(path.display().to_string()),
            certs,
        ));
    }
    static DEFAULT: OnceLock<Result<(Arc<RootCertStore>, bool), TlsSetupError>> = OnceLock::new();
    let (store, from_env) = DEFAULT.get_or_init(default_roots).clone()?;
    Ok((
        store,
        if from_env {
            RootSource::Env
        } else {
            RootSource::System
        },
        Vec::new(),
    ))
}

/// `SSL_CERT_FILE`/`SSL_CERT_DIR` when set (those alone), else the system store plus the
/// bundled webpki roots. The flag says whether the environment chose.
fn default_roots() -> Result<(Arc<RootCertStore>, bool), TlsSetupError> {
    let set = |v: &str| std::env::var_os(v).is_some_and(|v| !v.is_empty());
    let from_env = set("SSL_CERT_FILE") || set("SSL_CERT_DIR");
    let loaded = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(loaded.certs);
    if from_env {
        if let Some(e) = loaded.errors.first() {
            return Err(TlsSetupError::EnvUnreadable(e.to_string()));
        }
        if store.is_empty() {
            return Err(TlsSetupError::EnvEmpty);
        }
    } else {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    Ok((Arc::new(store), from_env))
}

fn read_certs(
    path: &Path,
    flag: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let shown = || path.display().to_string();
    let bytes = crate::files::read_bounded(path, crate::files::MAX_SMALL_FILE).map_err(|e| {
        TlsSetupError::Unreadable {
            flag,
            path: shown(),
            why: e.to_string(),
        }
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSetupError::NotPem {
            flag,
            path: shown(),
            why: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate {
            flag,
            path: shown(),
        });
    }
    Ok(certs)
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// `--cert` (chain) and `--key` (or the key inside the `--cert` file).
fn client_identity(trust: &Trust) -> Result<Option<Identity>, TlsSetupError> {
    let Some(cert) = &trust.cert else {
        if trust.key.is_some() {
            return Err(TlsSetupError::KeyWithoutCert);
        }
        return Ok(None);
    };
    let chain = read_certs(cert, "--cert")?;
    let key_path = trust.key.as_deref().unwrap_or(cert);
    let bytes =
        crate::files::read_bounded(key_path, crate::files::MAX_SMALL_FILE).map_err(|e| {
            TlsSetupError::Unreadable {
                flag: "--key",
                path: key_path.display().to_string(),
                why: e.to_string(),
            }
        })?;
    let key = PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| match &trust.key {
        Some(k) => TlsSetupError::NoKey(k.display().to_string()),
        None => TlsSetupError::NoKeyInCert(cert.display().to_string()),
    })?;
    Ok(Some((chain, key)))
}

/// The webpki verifier, with its refusals turned into sentences.
#[derive(Debug)]
struct Explaining {
    inner: Arc<WebPkiServerVerifier>,
    source: RootSource,
    /// The certificates given with `--cacert`. A server showing one of them, alone, is
    /// trusted as that certificate (when it names the host and has not expired), as curl
    /// and OpenSSL trust it: `openssl req -x509` makes a self-signed certificate that is
    /// also a CA, which webpki will not take as a server's own.
    pinned: Vec<CertificateDer<'static>>,
}

impl Explaining {
    /// `end_entity`, shown alone, is a `--cacert` certificate valid for `server_name` now.
    fn pinned_and_valid(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> bool {
        let pinned = |c: &CertificateDer<'_>| self.pinned.iter().any(|p| p.as_ref() == c.as_ref());
        if !pinned(end_entity) || !intermediates.iter().all(pinned) {
            return false;
        }
        certs::read(end_entity).is_some_and(|leaf| {
            certs::covers(&leaf.info.names, &server_name.to_str())
                && leaf.not_after > i64::try_from(now.as_secs()).unwrap_or(i64::MAX)
        })
    }
}

/// A refused server certificate, said as a sentence (travels inside rustls's error).
#[derive(Debug)]
struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

impl ServerCertVerifier for Explaining {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .or_else(
                |e| match self.pinned_and_valid(end_entity, intermediates, server_name, now) {
                    true => Ok(ServerCertVerified::assertion()),
                    false => Err(e),
                },
            )
            .map_err(|e| {
                let why = refusal(&e, end_entity, intermediates, server_name, &self.source);
                rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                    Refusal(why),
                ))))
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why the server's certificate was refused, with the way out.
fn refusal(
    err: &rustls::Error,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
    source: &RootSource,
) -> String {
    let host = server_name.to_str();
    let Some(leaf) = certs::read(end_entity) else {
        return format!("the server's certificate was refused ({err})");
    };
    let who = format!("the server's certificate ({})", leaf.info.subject);
    let other_names = || {
        if leaf.info.names.is_empty() {
            "no host name at all".to_string()
        } else {
            format!("other names: {}", leaf.info.names.join(", "))
        }
    };
    let also_names = if certs::covers(&leaf.info.names, &host) {
        String::new()
    } else {
        format!("; it is also for {}, not {host}", other_names())
    };
    let rustls::Error::InvalidCertificate(cert_err) = err else {
        return format!("{who} was refused ({err})");
    };
    use CertificateError as E;
    match cert_err {
        E::UnknownIssuer | E::Other(_) if leaf.self_issued && intermediates.is_empty() => format!(
            "{who} is self-signed, so no CA vouches for it{also_names}: trust it with \
             --cacert FILE (that certificate in PEM), or skip every check with --insecure"
        ),
        E::UnknownIssuer => {
            let issuer = intermediates
                .last()
                .and_then(certs::read)
                .map_or(leaf.info.issuer.clone(), |c| c.info.issuer);
            let checked = match source {
                RootSource::CaFile(f) => format!("not among the CAs in --cacert {f}"),
                RootSource::Env => "not among the CAs of SSL_CERT_FILE/SSL_CERT_DIR".into(),
                RootSource::System => "not trusted by this system".into(),
            };
            format!(
                "{who} is issued by an unknown CA ({issuer}, {checked}){also_names}: pass \
                 --cacert FILE with that CA's certificate"
            )
        }
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            format!("{who} is for {}, not {host}", other_names())
        }
        E::Expired | E::ExpiredContext { .. } => {
            let when = match cert_err {
                E::ExpiredContext { not_after, .. } => certs::day(not_after.as_secs() as i64),
                _ => certs::day(leaf.not_after),
            };
            format!("{who} expired on {when}: the server must renew it (or --insecure)")
        }
        E::NotValidYet | E::NotValidYetContext { .. } => format!(
            "{who} is not valid before {}: check this machine's clock",
            leaf.info.not_before
        ),
        E::Revoked => format!("{who} has been revoked"),
        E::BadSignature => format!("{who} is not correctly signed by its issuer"),
        E::InvalidPurpose | E::InvalidPurposeContext { .. } => {
            format!("{who} is not meant for a TLS server")
        }
        _ => format!("{who} was refused by the certificate check ({err})"),
    }
}

/// Accepts every certificate (`--insecure`) but still checks the handshake signatures, so the
/// peer at least holds the key of the certificate it showed.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The server name rustls checks the certificate against (DNS name or IP address).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, BadServerName> {
    ServerName::try_from(host.to_string()).map_err(|e| BadServerName {
        host: host.to_string(),
        why: e.to_string(),
    })
}

/// What the session agreed on and the chain the server showed.
pub(crate) fn session_info(conn: &rustls::ClientConnection, insecure: bool) -> TlsInfo {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => String::new(),
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|s| {
            s.suite()
                .as_str()
                .map_or_else(|| format!("{:?}", s.suite()), str::to_string)
        })
        .unwrap_or_default();
    TlsInfo {
        version,
        cipher,
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        unverified: insecure,
        chain: conn
            .peer_certificates()
            .map(certs::describe_chain)
            .unwrap_or_default(),
    }
}

/// Describe a failed TLS handshake with `addr` as a sentence: the refused certificate, the
/// server's alert, or a peer that does not speak TLS at all.
pub(crate) fn describe_error(err: &io::Error, addr: &str) -> String {
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    match inner {
        Some(tls) => describe_rustls(tls, addr),
        None if err.kind() == io::ErrorKind::UnexpectedEof => format!(
            "{addr} closed the connection during the TLS handshake (if it is a plain ws:// \
             port, use ws://)"
        ),
        None => format!("TLS handshake with {addr} failed: {err}"),
    }
}

/// The sentence for a rustls error met on a connection to `addr`.
pub(crate) fn describe_rustls(err: &rustls::Error, addr: &str) -> String {
    use rustls::Error as R;
    match err {
        R::InvalidCertificate(CertificateError::Other(OtherError(e))) => {
            match e.downcast_ref::<Refusal>() {
                Some(r) => r.0.clone(),
                None => format!("the server's certificate was refused ({e})"),
            }
        }
        R::InvalidMessage(_) | R::InappropriateMessage { .. } => format!(
            "{addr} does not answer in TLS: wss:// was asked of a port that does not speak it \
             (if it is a plain ws:// port, use ws://)"
        ),
        R::AlertReceived(AlertDescription::CertificateRequired) => {
            format!("{addr} asks for a client certificate: pass --cert FILE and --key FILE")
        }
        R::AlertReceived(
            AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::AccessDenied,
        ) => format!(
            "{addr} refused the client certificate (--cert): it does not trust the CA that \
             issued it, or wants another"
        ),
        R::AlertReceived(AlertDescription::HandshakeFailure) => format!(
            "{addr} refused the TLS handshake (no protocol version or cipher in common, or \
             it wants a client certificate: --cert FILE --key FILE)"
        ),
        R::AlertReceived(_) => format!("{addr} ended the TLS handshake ({err})"),
        other => format!("TLS with {addr} failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_configs_build() {
        assert!(client_config(false, &Trust::default()).is_ok());
        assert!(client_config(true, &Trust::default()).is_ok());
    }

    #[test]
    fn missing_or_empty_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let trust = |cacert: Option<&Path>, cert: Option<&Path>| Trust {
            cacert: cacert.map(Path::to_path_buf),
            cert: cert.map(Path::to_path_buf),
            key: None,
        };
        let err =
            client_config(false, &trust(Some(&dir.path().join("none.pem")), None)).unwrap_err();
        let err = err.to_string();
        assert!(
            err.starts_with("--cacert ") && err.contains("cannot read it"),
            "{err}"
        );
        let err = client_config(false, &trust(Some(&empty), None))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no -----BEGIN CERTIFICATE----- block"),
            "{err}"
        );
        let err = client_config(false, &trust(None, Some(&empty)))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--cert "), "{err}");
        let only_key = Trust {
            key: Some(empty.clone()),
            ..Trust::default()
        };
        assert!(
            client_config(false, &only_key)
                .unwrap_err()
                .to_string()
                .contains("--key needs --cert")
        );
    }

    #[test]
    fn a_peer_that_does_not_speak_tls_is_named() {
        let err = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
        );
        let said = describe_error(&err, "h:1");
        assert!(said.contains("use ws://"), "{said}");
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "eof");
        assert!(describe_error(&eof, "h:1").contains("plain ws:// port"));
    }

    #[test]
    fn ip_addresses_are_server_names() {
        assert!(matches!(
            server_name("127.0.0.1"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name("example.com"),
            Ok(ServerName::DnsName(_))
        ));
    }
}
