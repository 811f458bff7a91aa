//! wsdeck's own certificate authority for `proxy --mitm`: created on first use in the config
//! directory (`ca.pem`, and `ca-key.pem` readable by its owner only), then used to sign a
//! certificate for each host a client tunnels to. Clients that should be watched trust
//! `ca.pem` (`wsdeck ca` prints where it is).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const CERT_FILE: &str = "ca.pem";
const KEY_FILE: &str = "ca-key.pem";
const CA_NAME: &str = "wsdeck local CA";

/// The local CA, loaded.
pub struct Ca {
    dir: PathBuf,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    /// One TLS configuration per host name, made on first use.
    hosts: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").field("dir", &self.dir).finish()
    }
}

/// Where the CA lives by default: `ca/` in wsdeck's config directory
/// (`~/.config/wsdeck/ca` on Linux).
pub fn default_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "wsdeck")
        .map(|d| d.config_dir().join("ca"))
        .context("cannot find a config directory for the CA (no home directory?)")
}

/// The subject and constraints of the CA; the same every time, so certificates signed after
/// a restart chain to the `ca.pem` written on first use.
fn ca_params() -> anyhow::Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.distinguished_name.push(DnType::CommonName, CA_NAME);
    p.distinguished_name
        .push(DnType::OrganizationName, "wsdeck proxy (local, not public)");
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(3650);
    Ok(p)
}

impl Ca {
    /// Load the CA from `dir`, creating it (and `dir`) when it is not there yet.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Ca> {
        let cert_path = dir.join(CERT_FILE);
        let key_path = dir.join(KEY_FILE);
        let (cert_pem, key) = match (cert_path.exists(), key_path.exists()) {
            (true, true) => {
                let cert = crate::files::read_text(&cert_path, crate::files::MAX_SMALL_FILE)
                    .with_context(|| format!("cannot read {}", cert_path.display()))?;
                let key_pem = crate::files::read_text(&key_path, crate::files::MAX_SMALL_FILE)
                    .with_context(|| format!("cannot read {}", key_path.display()))?;
                let key = KeyPair::from_pem(&key_pem).with_context(|| {
                    format!(
                        "{} is not a PEM private key; delete {} and {} to make a new CA",
                        key_path.display(),
                        cert_path.display(),
                        key_path.display()
                    )
                })?;
                (cert, key)
            }
            (false, false) => create(dir, &cert_path, &key_path)?,
            _ => bail!(
                "only one of {} and {} exists; delete it to make a new CA",
                cert_path.display(),
                key_path.display()
            ),
        };
        let der = rustls_pemfile_cert(&cert_pem)
            .with_context(|| format!("{} holds no PEM certificate", cert_path.display()))?;
        Ok(Ca {
            dir: dir.to_path_buf(),
            cert_pem,
            cert_der: der,
            issuer: Issuer::new(ca_params()?, key),
            hosts: Mutex::new(HashMap::new()),
        })
    }

    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(CERT_FILE)
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The TLS server configuration presenting a certificate for `host` signed by this CA.
    pub(crate) fn server_config(&self, host: &str) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = hosts.get(host) {
            return Ok(c.clone());
        }
        let mut p = CertificateParams::new(vec![host.to_string()])
            .with_context(|| format!("cannot make a certificate for {host:?}"))?;
        p.distinguished_name.push(DnType::CommonName, host);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now - time::Duration::days(1);
        // Browsers refuse leaf certificates valid for more than 398 days.
        p.not_after = now + time::Duration::days(365);
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &self.issuer)?;
        let chain = vec![cert.der().clone(), self.cert_der.clone()];
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
        // WebSocket upgrades are HTTP/1.1; offering h2 would make browsers use it.
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        let cfg = Arc::new(cfg);
        hosts.insert(host.to_string(), cfg.clone());
        Ok(cfg)
    }
}

fn create(dir: &Path, cert_path: &Path, key_path: &Path) -> anyhow::Result<(String, KeyPair)> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the CA directory {}", dir.display()))?;
    let key = KeyPair::generate()?;
    let cert = ca_params()?.self_signed(&key)?;
    write_private(key_path, key.serialize_pem().as_bytes())?;
    std::fs::write(cert_path, cert.pem())
        .with_context(|| format!("cannot write {}", cert_path.display()))?;
    Ok((cert.pem(), key))
}

/// Write a file only its owner can read (0600 on Unix), never a moment readable by others.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The first certificate of a PEM text, as DER.
fn rustls_pemfile_cert(pem: &str) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()
        .and_then(Result::ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_made_once_with_a_private_key_and_signs_host_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        let ca = Ca::load_or_create(&ca_dir).unwrap();
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(ca_dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = Ca::load_or_create(&ca_dir).unwrap();
        assert_eq!(again.cert_pem(), ca.cert_pem(), "the CA is not remade");
        let a = again.server_config("example.com").unwrap();
        let b = again.server_config("example.com").unwrap();
        assert!(Arc::ptr_eq(&a, &b), "one configuration per host");
        again.server_config("127.0.0.1").unwrap();
        std::fs::remove_file(ca_dir.join(KEY_FILE)).unwrap();
        let err = Ca::load_or_create(&ca_dir).unwrap_err().to_string();
        assert!(err.contains("only one of"), "{err}");
    }
}
