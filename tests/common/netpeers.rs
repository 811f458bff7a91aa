//! Peers for the reach tests: certificates made by rcgen (a CA, leaves it signs, self-signed
//! and expired ones), WebSocket echo servers over TLS (optionally asking for a client
//! certificate) or plain TCP, started in-process; and the third-party proxies (tinyproxy,
//! microsocks, mitmproxy) as child processes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

/// A certificate and its key, as PEM.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

impl Pem {
    /// Write `NAME.crt` and `NAME.key` into `dir`; returns their paths.
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, &self.cert).unwrap();
        std::fs::write(&key, &self.key).unwrap();
        (cert, key)
    }
}

/// A certificate authority made for one test.
pub struct Ca {
    pub pem: Pem,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let pem = Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        };
        Ca {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses) signed by this CA,
    /// valid until `not_after` (year, month, day) or for years ahead.
    pub fn server(&self, names: &[&str], not_after: Option<(i32, u8, u8)>) -> Pem {
        self.leaf(names, not_after, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate (for mutual TLS) signed by this CA.
    pub fn client(&self, name: &str) -> Pem {
        self.leaf(&[name], None, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(
        &self,
        names: &[&str],
        not_after: Option<(i32, u8, u8)>,
        usage: ExtendedKeyUsagePurpose,
    ) -> Pem {
        let mut params = leaf_params(names, not_after);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

fn leaf_params(names: &[&str], not_after: Option<(i32, u8, u8)>) -> CertificateParams {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("server"),
    );
    if let Some((y, m, d)) = not_after {
        params.not_before = rcgen::date_time_ymd(y - 1, m, d);
        params.not_after = rcgen::date_time_ymd(y, m, d);
    }
    params
}

/// A self-signed server certificate, as `openssl req -x509` makes (it is its own CA).
pub fn self_signed(names: &[&str]) -> Pem {
    let mut params = leaf_params(names, None);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(pem: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A running echo server; the task ends with the test's runtime.
pub struct Echo {
    pub addr: SocketAddr,
}

impl Echo {
    pub fn ws_url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
    pub fn wss_url(&self) -> String {
        format!("wss://{}/", self.addr)
    }
}

/// A WebSocket echo server over TLS with this certificate; with `client_ca`, it asks every
/// client for a certificate issued by that CA (mutual TLS). Call inside a tokio runtime.
pub async fn tls_echo(server: &Pem, client_ca: Option<&Pem>) -> Echo {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add_parsable_certificates(certs(&ca.cert));
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                roots.into(),
                provider(),
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let key = PrivateKeyDer::from_pem_slice(server.key.as_bytes()).unwrap();
    let config = Arc::new(builder.with_single_cert(certs(&server.cert), key).unwrap());
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    echo(tls).await;
                }
            });
        }
    });
    Echo { addr }
}

/// A plain (`ws://`) WebSocket echo server. Call inside a tokio runtime.
pub async fn plain_echo() -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(echo(tcp));
        }
    });
    Echo { addr }
}

async fn echo(io: impl AsyncRead + AsyncWrite + Unpin) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(io).await else {
        return;
    };
    // After a Close, tungstenite answers it on the next poll; the stream then ends.
    while let Some(Ok(msg)) = ws.next().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            return;
        }
    }
}

/// True if `bin` is on `PATH`; otherwise a skip note (or a failure under
/// `WSDECK_REQUIRE_PEERS=1`) saying how to install it.
pub fn have(bin: &str, install: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(bin).is_file()));
    if !found {
        super::peers::skip_or_fail(&format!("{bin} is not installed ({install})"));
    }
    found
}

/// A third-party proxy run by a test; killed when dropped. Its output goes to a file.
pub struct ProxyPeer {
    pub child: std::process::Child,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl ProxyPeer {
    /// `scheme://[user:pass@]127.0.0.1:PORT`.
    pub fn url(&self, scheme: &str, login: Option<(&str, &str)>) -> String {
        match login {
            Some((u, p)) => format!("{scheme}://{u}:{p}@{}", self.addr),
            None => format!("{scheme}://{}", self.addr),
        }
    }

    /// Everything it printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("out.log")).unwrap_or_default()
    }

    /// A file in its private directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn spawn(dir: tempfile::TempDir, mut cmd: std::process::Command, what: &str) -> Self {
        let out = std::fs::File::create(dir.path().join("out.log")).unwrap();
        let child = cmd
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        ProxyPeer {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            dir,
        }
    }

    /// Wait until something accepts on `addr` (the proxy is up).
    fn wait_listening(mut self, addr: SocketAddr, what: &str) -> Self {
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{what} exited ({status}) before listening: {}", self.log());
            }
            assert!(
                start.elapsed() < super::GUARD,
                "{what} never listened: {}",
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        self.addr = addr;
        self
    }
}

impl Drop for ProxyPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// tinyproxy (HTTP CONNECT) on 127.0.0.1, asking for `login` with BasicAuth when given.
/// Call `have("tinyproxy", …)` first.
pub fn tinyproxy(login: Option<(&str, &str)>) -> ProxyPeer {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut conf =
        format!("Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 50\nLogLevel Connect\n");
    if let Some((u, p)) = login {
        conf.push_str(&format!("BasicAuth {u} {p}\n"));
    }
    let conf_path = dir.path().join("tinyproxy.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut cmd = std::process::Command::new("tinyproxy");
    cmd.arg("-d").arg("-c").arg(&conf_path);
    ProxyPeer::spawn(dir, cmd, "tinyproxy")
        .wait_listening(SocketAddr::from(([127, 0, 0, 1], port)), "tinyproxy")
}

/// microsocks (SOCKS5) on 127.0.0.1, asking for `login` when given. Call
/// `have("microsocks", …)` first.
pub fn microsocks(login: Option<(&str, &str)>) -> ProxyPeer {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = std::process::Command::new("microsocks");
    cmd.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
    if let Some((u, p)) = login {
        cmd.args(["-u", u, "-P", p]);
    }
    ProxyPeer::spawn(dir, cmd, "microsocks")
        .wait_listening(SocketAddr::from(([127, 0, 0, 1], port)), "microsocks")
}

/// mitmproxy's `mitmdump` in regular mode (the blog post's Burp), accepting any upstream
/// certificate; its CA is `path("mitmproxy-ca-cert.pem")`. Call `have("mitmdump", …)` first.
pub fn mitmproxy() -> ProxyPeer {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new("mitmdump");
    cmd.args([
        "--listen-host",
        "127.0.0.1",
        "--listen-port",
        "0",
        "--ssl-insecure",
    ])
    .arg("--set")
    .arg(format!("confdir={}", dir.path().display()))
    .env("PYTHONUNBUFFERED", "1");
    let peer = ProxyPeer::spawn(dir, cmd, "mitmdump");
    // Python starts slowly on a busy machine: a longer guard than the others.
    let start = std::time::Instant::now();
    loop {
        let log = peer.log();
        if let Some(rest) = log.split("proxy listening at ").nth(1) {
            let addr = rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('.');
            let addr: SocketAddr = addr.parse().unwrap();
            return peer.wait_listening(addr, "mitmdump");
        }
        assert!(
            start.elapsed() < super::GUARD * 3,
            "mitmdump never said where it listens: {log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A minimal HTTPS proxy (CONNECT over TLS with this certificate), in-process: nothing
/// packaged does that in a few lines. Call inside a tokio runtime.
pub async fn https_connect_proxy(cert: &Pem) -> Echo {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let key = PrivateKeyDer::from_pem_slice(cert.key.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs(&cert.cert), key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if tls.read(&mut b).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let text = String::from_utf8_lossy(&head);
                let Some(target) = text
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split(' ').next())
                else {
                    return;
                };
                let Ok(mut up) = tokio::net::TcpStream::connect(target).await else {
                    let _ = tls.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let _ = tls
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    Echo { addr }
}

/// mosquitto (an MQTT broker) with a WebSocket listener on 127.0.0.1 (its address is the
/// peer's `url("ws", None)`), anonymous clients allowed, nothing persisted. Call
/// `have("mosquitto", …)` first.
pub fn mosquitto() -> ProxyPeer {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // mosquitto 2.0.11 (Debian 12) will not start with a WebSocket listener alone ("Unable to
    // start any listening sockets"): a plain MQTT listener on loopback goes first.
    let tcp = free_port();
    let conf = format!(
        "listener {tcp} 127.0.0.1\nlistener {port} 127.0.0.1\nprotocol websockets\n\
         allow_anonymous true\npersistence false\nlog_dest stdout\nlog_type all\n"
    );
    let conf_path = dir.path().join("mosquitto.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut cmd = std::process::Command::new("mosquitto");
    cmd.arg("-c").arg(&conf_path);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    ProxyPeer::spawn(dir, cmd, "mosquitto").wait_listening(addr, "mosquitto")
}
