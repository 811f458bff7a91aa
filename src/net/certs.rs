//! Certificates in the words people read them with: names, issuer, validity dates and
//! fingerprint (x509-parser), for the handshake panel, the recording and error sentences.

use std::net::IpAddr;

use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::model::CertInfo;

/// A certificate read for what a person needs from it.
pub(crate) struct Cert {
    pub info: CertInfo,
    /// Issuer and subject are the same name: it signed itself.
    pub self_issued: bool,
    /// UNIX seconds of notAfter.
    pub not_after: i64,
}

/// Read one DER certificate; `None` when it does not parse (the chain then shows only what
/// parsed, and the error sentence falls back to what rustls said).
pub(crate) fn read(der: &CertificateDer<'_>) -> Option<Cert> {
    let (_, c) = X509Certificate::from_der(der.as_ref()).ok()?;
    let validity = c.validity();
    let info = CertInfo {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        names: names(&c),
        not_before: rfc3339(validity.not_before.timestamp()),
        not_after: rfc3339(validity.not_after.timestamp()),
        sha256: fingerprint(der.as_ref()),
    };
    Some(Cert {
        self_issued: c.subject().as_raw() == c.issuer().as_raw(),
        not_after: validity.not_after.timestamp(),
        info,
    })
}

/// The chain as the server sent it, its own certificate first.
pub(crate) fn describe_chain(chain: &[CertificateDer<'_>]) -> Vec<CertInfo> {
    chain.iter().filter_map(read).map(|c| c.info).collect()
}

fn names(c: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = c.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(d.to_string()),
            GeneralName::IPAddress(b) => match b.len() {
                4 => Some(IpAddr::from(<[u8; 4]>::try_from(*b).ok()?).to_string()),
                16 => Some(IpAddr::from(<[u8; 16]>::try_from(*b).ok()?).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// `AB:CD:…`, the form browsers and `openssl x509 -fingerprint -sha256` show.
pub(crate) fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// `2020-02-01T00:00:00Z`.
pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{unix} (UNIX time)"))
}

/// `2020-02-01`, the day a certificate stops or starts being valid.
pub(crate) fn day(unix: i64) -> String {
    let full = rfc3339(unix);
    full.split('T').next().unwrap_or(&full).to_string()
}

/// Whether a certificate for `names` serves `host` (exact, or a `*.` wildcard for one
/// label), the way TLS clients match.
pub(crate) fn covers(names: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    names.iter().any(|n| {
        let n = n.to_ascii_lowercase();
        match n.strip_prefix("*.") {
            Some(base) => host
                .split_once('.')
                .is_some_and(|(first, rest)| !first.is_empty() && rest == base),
            None => n == host,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_reads_back_with_names_dates_and_fingerprint() {
        let mut params =
            rcgen::CertificateParams::new(vec!["a.example".into(), "127.0.0.1".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "a.example");
        params.not_after = rcgen::date_time_ymd(2020, 2, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let read = read(cert.der()).unwrap();
        assert_eq!(read.info.subject, "CN=a.example");
        assert_eq!(read.info.issuer, "CN=a.example");
        assert!(read.self_issued);
        assert_eq!(read.info.names, ["a.example", "127.0.0.1"]);
        assert_eq!(read.info.not_after, "2020-02-01T00:00:00Z");
        assert_eq!(day(read.not_after), "2020-02-01");
        assert_eq!(read.info.sha256.len(), 32 * 3 - 1);
        assert_eq!(read.info.sha256, fingerprint(cert.der()));
    }

    #[test]
    fn names_cover_hosts_as_tls_clients_match_them() {
        let names = vec!["*.example.com".to_string(), "Other.org".to_string()];
        assert!(covers(&names, "a.example.com"));
        assert!(!covers(&names, "a.b.example.com"));
        assert!(!covers(&names, "example.com"));
        assert!(covers(&names, "other.org."));
        assert!(!covers(&names, "x.org"));
    }
}
