//! Reaching servers the way users meet them: private CAs, self-signed, expired and misnamed
//! certificates, mutual TLS, the wrong scheme for a port (certificates made by rcgen, servers
//! started by the test); proxies (tinyproxy, microsocks, mitmproxy, started by the test).

mod common;

use std::process::{Output, Stdio};
use std::time::Duration;

use common::GUARD;
use common::client::Client;
use common::netpeers::{Ca, plain_echo, self_signed, tls_echo};
use tokio::io::AsyncWriteExt as _;
use wsdeck::model::{NetCommand, NetErrorKind};
use wsdeck::reach::Trust;
use wsdeck::spec::{AuthMethod, ConnectSpec};

fn spec(url: &str) -> ConnectSpec {
    let mut spec = ConnectSpec::new(url);
    spec.auth = AuthMethod::None;
    spec.reconnect = false;
    spec.ping_interval = None;
    spec.connect_timeout = Duration::from_secs(10);
    spec
}

/// Connect, and return the failure's message (the session must fail).
async fn failure(spec: ConnectSpec) -> String {
    let mut c = Client::start(spec);
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::Tls, "{}", e.message);
    e.message
}

/// Connect, send `hi`, expect it back; the client for further checks.
async fn echoes(spec: ConnectSpec) -> Client {
    let mut c = Client::start(spec);
    c.until_logged_in().await;
    c.send(NetCommand::SendText("hi".into()));
    c.until_text("hi").await;
    c
}

fn no_debug_text(msg: &str) {
    for debug in [
        "UnknownIssuer",
        "CaUsedAsEndEntity",
        "OtherError",
        "NotValidForName",
        "Expired",
    ] {
        assert!(!msg.contains(debug), "Rust debug text in {msg:?}");
    }
}

#[tokio::test]
async fn a_private_ca_is_trusted_with_cacert_and_the_chain_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Test Private CA");
    let server = tls_echo(&ca.server(&["localhost", "127.0.0.1"], None), None).await;
    let (ca_file, _) = ca.pem.write(dir.path(), "ca");

    let msg = failure(spec(&server.wss_url())).await;
    assert!(
        msg.contains("issued by an unknown CA (CN=Test Private CA")
            && msg.contains("pass --cacert FILE"),
        "{msg}"
    );
    no_debug_text(&msg);

    let mut s = spec(&server.wss_url());
    s.trust.cacert = Some(ca_file);
    let c = echoes(s).await;
    let tls = c
        .handshake()
        .unwrap()
        .tls
        .expect("a wss:// handshake reports its TLS session");
    assert!(tls.version.starts_with("TLS 1."), "{tls:?}");
    assert!(tls.cipher.starts_with("TLS"), "{tls:?}");
    assert!(!tls.unverified);
    let leaf = &tls.chain[0];
    assert_eq!(leaf.subject, "CN=localhost");
    assert_eq!(leaf.issuer, "CN=Test Private CA");
    assert_eq!(leaf.names, ["localhost", "127.0.0.1"]);
    assert_eq!(leaf.sha256.len(), 95, "{}", leaf.sha256);
    assert!(leaf.not_after.ends_with('Z'), "{}", leaf.not_after);
}

#[tokio::test]
async fn a_self_signed_certificate_is_called_self_signed() {
    let server = tls_echo(&self_signed(&["127.0.0.1"]), None).await;
    let msg = failure(spec(&server.wss_url())).await;
    assert!(msg.contains("is self-signed"), "{msg}");
    assert!(
        msg.contains("--cacert FILE") && msg.contains("--insecure"),
        "{msg}"
    );
    no_debug_text(&msg);
}

#[tokio::test]
async fn a_certificate_for_other_names_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Names CA");
    let server = tls_echo(&ca.server(&["a.example", "b.example"], None), None).await;
    let mut s = spec(&server.wss_url());
    s.trust.cacert = Some(ca.pem.write(dir.path(), "ca").0);
    let msg = failure(s).await;
    assert!(
        msg.contains("is for other names: a.example, b.example, not 127.0.0.1"),
        "{msg}"
    );
    no_debug_text(&msg);
}

#[tokio::test]
async fn an_expired_certificate_says_when_it_expired() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Old CA");
    let server = tls_echo(&ca.server(&["127.0.0.1"], Some((2020, 2, 1))), None).await;
    let mut s = spec(&server.wss_url());
    s.trust.cacert = Some(ca.pem.write(dir.path(), "ca").0);
    let msg = failure(s).await;
    assert!(msg.contains("expired on 2020-02-01"), "{msg}");
    no_debug_text(&msg);
}

#[tokio::test]
async fn mutual_tls_sends_the_client_certificate_and_says_when_one_is_wanted() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Server CA");
    let clients = Ca::new("Client CA");
    let server = tls_echo(&ca.server(&["127.0.0.1"], None), Some(&clients.pem)).await;
    let ca_file = ca.pem.write(dir.path(), "ca").0;

    let mut without = spec(&server.wss_url());
    without.trust.cacert = Some(ca_file.clone());
    let msg = failure(without).await;
    assert!(
        msg.contains("asks for a client certificate: pass --cert FILE"),
        "{msg}"
    );

    let (cert, key) = clients.client("alice").write(dir.path(), "alice");
    let mut with = spec(&server.wss_url());
    with.trust = Trust {
        cacert: Some(ca_file.clone()),
        cert: Some(cert),
        key: Some(key),
    };
    echoes(with).await;

    // A certificate from a CA the server does not trust is refused, and said so.
    let (cert, key) = Ca::new("Stranger CA")
        .client("mallory")
        .write(dir.path(), "mallory");
    let mut stranger = spec(&server.wss_url());
    stranger.trust = Trust {
        cacert: Some(ca_file),
        cert: Some(cert),
        key: Some(key),
    };
    let msg = failure(stranger).await;
    assert!(
        msg.contains("refused the client certificate (--cert)"),
        "{msg}"
    );
}

#[tokio::test]
async fn the_wrong_scheme_for_a_port_is_named() {
    let tls = tls_echo(&self_signed(&["127.0.0.1"]), None).await;
    let msg = failure(spec(&tls.ws_url())).await;
    assert!(
        msg.contains("answered in TLS") && msg.contains("use wss://"),
        "{msg}"
    );

    let plain = plain_echo().await;
    let msg = failure(spec(&plain.wss_url())).await;
    assert!(msg.contains("use ws://"), "{msg}");
}

/// `wsdeck pipe ARGS…` with `stdin`, no proxy variables from the test's environment.
async fn pipe(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_wsdeck"));
    cmd.arg("pipe").args(args);
    for var in [
        "http_proxy",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start wsdeck pipe");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(GUARD, child.wait_with_output())
        .await
        .expect("wsdeck pipe ended")
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_cert_file_is_trusted_and_the_recording_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Env CA");
    let server = tls_echo(&ca.server(&["127.0.0.1"], None), None).await;
    let ca_file = ca.pem.write(dir.path(), "ca").0;
    let url = server.wss_url();

    let out = pipe(&[&url, "--auth", "none"], &[], "hello\n").await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("issued by an unknown CA (CN=Env CA, not trusted by this system)"),
        "{err}"
    );

    let record = dir.path().join("s.jsonl");
    let args = [
        url.as_str(),
        "--auth",
        "none",
        "--record",
        record.to_str().unwrap(),
    ];
    let ca_env = ca_file.to_str().unwrap();
    let out = pipe(&args, &[("SSL_CERT_FILE", ca_env)], "hello\n").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\n");
    let first = std::fs::read_to_string(&record).unwrap();
    let hs: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(hs["type"], "handshake");
    assert_eq!(hs["tls"]["chain"][0]["issuer"], "CN=Env CA");
    assert!(hs["tls"]["version"].as_str().unwrap().starts_with("TLS 1."));
    assert_eq!(hs["tls"]["chain"][0]["sha256"].as_str().unwrap().len(), 95);
    // Read back, the recording keeps it (replay shows it in the handshake panel).
    let rec = wsdeck::record::jsonl::read(&record).unwrap();
    let tls = rec.handshake.unwrap().tls.unwrap();
    assert_eq!(tls.chain[0].issuer, "CN=Env CA");

    // The wrong file in SSL_CERT_FILE is named, not silently ignored.
    let other = Ca::new("Other CA").pem.write(dir.path(), "other").0;
    let out = pipe(
        &[&url, "--auth", "none"],
        &[("SSL_CERT_FILE", other.to_str().unwrap())],
        "x\n",
    )
    .await;
    assert!(
        text(&out.stderr).contains("not among the CAs of SSL_CERT_FILE"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_connects_to_anything_and_says_so_on_stderr() {
    let server = tls_echo(&self_signed(&["elsewhere.example"]), None).await;
    let out = pipe(
        &[&server.wss_url(), "--auth", "none", "--insecure"],
        &[],
        "hello\n",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\n");
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: --insecure") && err.contains("not checked"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cacert_and_client_certificates_work_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Flag CA");
    let clients = Ca::new("Flag Client CA");
    let server = tls_echo(&ca.server(&["127.0.0.1"], None), Some(&clients.pem)).await;
    let ca_file = ca.pem.write(dir.path(), "ca").0;
    // One file holding both certificate and key works for --cert alone, as in curl.
    let alice = clients.client("alice");
    let both = dir.path().join("alice.pem");
    std::fs::write(&both, format!("{}{}", alice.cert, alice.key)).unwrap();
    let url = server.wss_url();
    let args = [
        url.as_str(),
        "--auth",
        "none",
        "--cacert",
        ca_file.to_str().unwrap(),
        "--cert",
        both.to_str().unwrap(),
    ];
    let out = pipe(&args, &[], "hello\n").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\n");
}
