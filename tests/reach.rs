//! Reaching servers the way users meet them: private CAs, self-signed, expired and misnamed
//! certificates, mutual TLS, the wrong scheme for a port (certificates made by rcgen, servers
//! started by the test); proxies (tinyproxy, microsocks, mitmproxy, started by the test).

mod common;

use std::process::{Output, Stdio};
use std::time::Duration;

use common::GUARD;
use common::client::Client;
use common::netpeers::{
    Ca, have, https_connect_proxy, microsocks, mitmproxy, plain_echo, self_signed, tinyproxy,
    tls_echo,
};
use tokio::io::AsyncWriteExt as _;
use wsdeck::model::{NetCommand, NetErrorKind};
use wsdeck::reach::{ProxyChoice, ProxyUrl, Trust};
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
async fn a_self_signed_certificate_made_as_openssl_makes_it_is_trusted_with_cacert() {
    // `openssl req -x509` marks it CA:TRUE: given with --cacert it is the server's own.
    let dir = tempfile::tempdir().unwrap();
    let cert = self_signed(&["localhost", "127.0.0.1"]);
    let server = tls_echo(&cert, None).await;
    let mut s = spec(&server.wss_url());
    s.trust.cacert = Some(cert.write(dir.path(), "server").0);
    let c = echoes(s).await;
    let tls = c.handshake().unwrap().tls.expect("TLS session info");
    assert!(!tls.unverified, "{tls:?}");
    // Trusted for the names it carries only.
    let elsewhere = self_signed(&["a.example"]);
    let other = tls_echo(&elsewhere, None).await;
    let mut s = spec(&other.wss_url());
    s.trust.cacert = Some(elsewhere.write(dir.path(), "other").0);
    let msg = failure(s).await;
    assert!(msg.contains("a.example"), "{msg}");
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

// ---- proxies -------------------------------------------------------------------------

const ALICE: (&str, &str) = ("alice", "s3cret-Pw9");

fn via(url: &str, proxy: &str) -> ConnectSpec {
    let mut s = spec(url);
    s.proxy = ProxyChoice::Url(ProxyUrl::parse(proxy).unwrap());
    s
}

async fn proxy_failure(spec: ConnectSpec) -> (NetErrorKind, String) {
    let mut c = Client::start(spec);
    c.until_ended().await;
    let e = c.failure();
    (e.kind, e.message)
}

fn install(apt: &str) -> String {
    format!("apt-get install -y {apt}; .ci/run installs it")
}

#[tokio::test]
async fn tinyproxy_tunnels_ws_and_wss_and_the_handshake_names_it() {
    if !have("tinyproxy", &install("tinyproxy")) {
        return;
    }
    let proxy = tinyproxy(None);
    let plain = plain_echo().await;
    let c = echoes(via(&plain.ws_url(), &proxy.url("http", None))).await;
    let hs = c.handshake().unwrap();
    assert_eq!(hs.proxy.as_deref(), Some(proxy.url("http", None).as_str()));
    assert!(hs.tls.is_none());
    let log = proxy.log();
    assert!(
        log.contains(&format!("CONNECT {} HTTP/1.1", plain.addr)),
        "{log}"
    );

    // wss:// goes through the same CONNECT, TLS end to end with the server.
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Tunnel CA");
    let server = tls_echo(&ca.server(&["127.0.0.1"], None), None).await;
    let mut s = via(&server.wss_url(), &proxy.url("http", None));
    s.trust.cacert = Some(ca.pem.write(dir.path(), "ca").0);
    let c = echoes(s).await;
    assert_eq!(
        c.handshake().unwrap().tls.unwrap().chain[0].issuer,
        "CN=Tunnel CA"
    );
    assert!(
        proxy
            .log()
            .contains(&format!("CONNECT {} HTTP/1.1", server.addr))
    );
}

#[tokio::test]
async fn a_proxy_asking_for_credentials_is_named_as_the_proxys_answer() {
    if !have("tinyproxy", &install("tinyproxy")) {
        return;
    }
    let proxy = tinyproxy(Some(ALICE));
    let plain = plain_echo().await;
    let (kind, msg) = proxy_failure(via(&plain.ws_url(), &proxy.url("http", None))).await;
    assert_eq!(kind, NetErrorKind::Proxy(407));
    assert_eq!(
        msg,
        format!(
            "the proxy http://{p} refused the tunnel to {s}: 407 Proxy Authentication Required \
             — pass credentials in --proxy http://user:pass@{p}",
            p = proxy.addr,
            s = plain.addr
        )
    );
    let wrong = proxy.url("http", Some(("alice", "nope")));
    let (_, msg) = proxy_failure(via(&plain.ws_url(), &wrong)).await;
    assert!(
        msg.contains("did not accept the user name and password"),
        "{msg}"
    );
    assert!(!msg.contains("nope"), "{msg}");

    let c = echoes(via(&plain.ws_url(), &proxy.url("http", Some(ALICE)))).await;
    let shown = c.handshake().unwrap().proxy.unwrap();
    assert_eq!(shown, format!("http://alice:***@{}", proxy.addr));
}

#[tokio::test]
async fn a_host_only_the_proxy_can_reach_is_not_looked_up_here() {
    if !have("tinyproxy", &install("tinyproxy")) {
        return;
    }
    let proxy = tinyproxy(None);
    let url = "ws://only-behind-the-proxy.invalid:9/";
    let (kind, msg) = proxy_failure(via(url, &proxy.url("http", None))).await;
    assert!(
        matches!(kind, NetErrorKind::Proxy(500..=504)),
        "{kind:?}: {msg}"
    );
    assert!(
        msg.starts_with(&format!(
            "the proxy http://{} refused the tunnel to only-behind-the-proxy.invalid:9: 50",
            proxy.addr
        )),
        "{msg}"
    );
    assert!(!msg.contains("DNS"), "{msg}");
}

/// One run of `pipe` with proxy variables, and the proxy its recording must name.
struct EnvCase {
    url: String,
    vars: Vec<(&'static str, String)>,
    flags: &'static [&'static str],
    want: Option<String>,
}

impl EnvCase {
    fn new(
        url: &str,
        vars: &[(&'static str, &str)],
        no_proxy: &(&'static str, String),
        want: Option<String>,
    ) -> Self {
        let mut vars: Vec<_> = vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
        vars.push(no_proxy.clone());
        EnvCase {
            url: url.to_string(),
            vars,
            flags: &[],
            want,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_environment_is_read_as_curl_reads_it_and_never_shows_the_password() {
    if !have("tinyproxy", &install("tinyproxy")) {
        return;
    }
    let proxy = tinyproxy(Some(ALICE));
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Env Proxy CA");
    let server = tls_echo(&ca.server(&["127.0.0.1"], None), None).await;
    let plain = plain_echo().await;
    let ca_file = ca.pem.write(dir.path(), "ca").0;
    let with_login = proxy.url("http", Some(ALICE));
    let record = dir.path().join("s.jsonl");
    let har = dir.path().join("s.har");
    let (wss, ws) = (server.wss_url(), plain.ws_url());
    let run = |url: &str, extra: &[&str]| {
        let mut args = vec![
            url.to_string(),
            "--auth".into(),
            "none".into(),
            "--cacert".into(),
            ca_file.to_str().unwrap().into(),
            // Each case replaces the files (by default they would be kept).
            "--overwrite".into(),
            "--record".into(),
            record.to_str().unwrap().into(),
            "--har".into(),
            har.to_str().unwrap().into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let proxy_of_record = || -> Option<String> {
        let rec = wsdeck::record::jsonl::read(&record).unwrap();
        rec.handshake.unwrap().proxy
    };
    // Loopback servers skip the environment's proxy unless NO_PROXY says <-loopback>.
    let shown = |var: &str| Some(format!("http://alice:***@{} (from {var})", proxy.addr));
    let loopback = ("NO_PROXY", "<-loopback>".to_string());
    let cases = vec![
        EnvCase::new(
            &wss,
            &[("https_proxy", &with_login)],
            &loopback,
            shown("https_proxy"),
        ),
        EnvCase::new(
            &ws,
            &[
                ("http_proxy", &with_login),
                ("https_proxy", "http://127.0.0.1:9"),
            ],
            &("no_proxy", "<-loopback>".into()),
            shown("http_proxy"),
        ),
        EnvCase::new(
            &wss,
            &[("ALL_PROXY", &with_login)],
            &loopback,
            shown("ALL_PROXY"),
        ),
        EnvCase::new(
            &wss,
            &[("https_proxy", &with_login)],
            &("NO_PROXY", "<-loopback>,127.0.0.1".into()),
            None,
        ),
        EnvCase::new(
            &wss,
            &[("https_proxy", &with_login)],
            &("NO_PROXY", String::new()),
            None,
        ),
        EnvCase {
            flags: &["--no-proxy"],
            ..EnvCase::new(&wss, &[("https_proxy", &with_login)], &loopback, None)
        },
    ];
    for EnvCase {
        url,
        vars,
        flags: extra,
        want,
    } in cases
    {
        let vars_ref: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = pipe(
            &run(&url, extra)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            &vars_ref,
            "hello\n",
        )
        .await;
        let err = text(&out.stderr);
        assert!(out.status.success(), "{vars:?} {extra:?}: {err}");
        assert_eq!(text(&out.stdout), "hello\n", "{vars:?}");
        assert_eq!(proxy_of_record(), want, "{vars:?} {extra:?}");
        for (what, body) in [
            ("stdout", text(&out.stdout)),
            ("stderr", err),
            ("JSONL", std::fs::read_to_string(&record).unwrap()),
            ("HAR", std::fs::read_to_string(&har).unwrap()),
        ] {
            assert!(
                !body.contains(ALICE.1),
                "the proxy password in {what}: {body}"
            );
        }
    }
    // --proxy on the command line wins over the environment.
    let out = pipe(
        &run(&wss, &["--proxy", &with_login])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &[
            ("https_proxy", "http://127.0.0.1:9"),
            ("NO_PROXY", "<-loopback>"),
        ],
        "hello\n",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        proxy_of_record(),
        Some(format!("http://alice:***@{}", proxy.addr))
    );
}

#[tokio::test]
async fn microsocks_carries_socks5_and_socks5h_with_a_login() {
    if !have("microsocks", &install("microsocks")) {
        return;
    }
    let proxy = microsocks(Some(ALICE));
    let plain = plain_echo().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Socks CA");
    let server = tls_echo(&ca.server(&["localhost"], None), None).await;

    // socks5h: the proxy resolves the name.
    let c = echoes(via(&plain.ws_url(), &proxy.url("socks5h", Some(ALICE)))).await;
    assert_eq!(
        c.handshake().unwrap().proxy.unwrap(),
        format!("socks5h://alice:***@{}", proxy.addr)
    );
    let by_name = format!("wss://localhost:{}/", server.addr.port());
    let mut s = via(&by_name, &proxy.url("socks5h", Some(ALICE)));
    s.trust.cacert = Some(ca.pem.write(dir.path(), "ca").0);
    echoes(s.clone()).await;
    // socks5: resolved here, an address sent.
    s.proxy = ProxyChoice::Url(ProxyUrl::parse(&proxy.url("socks5", Some(ALICE))).unwrap());
    echoes(s).await;

    let (kind, msg) = proxy_failure(via(&plain.ws_url(), &proxy.url("socks5", None))).await;
    assert_eq!(kind, NetErrorKind::Proxy(407), "{msg}");
    assert!(
        msg.contains("refused the tunnel") && msg.contains("pass --proxy socks5://user:pass@"),
        "{msg}"
    );
    let wrong = proxy.url("socks5", Some(("alice", "nope")));
    let (_, msg) = proxy_failure(via(&plain.ws_url(), &wrong)).await;
    assert!(
        msg.contains("did not accept the user name and password"),
        "{msg}"
    );
}

#[tokio::test]
async fn mitmproxy_in_regular_mode_sits_between_as_the_blogs_burp_did() {
    if !have("mitmdump", "pip install mitmproxy; .ci/run installs it") {
        return;
    }
    let proxy = mitmproxy();
    let mitm_ca = proxy.path("mitmproxy-ca-cert.pem");
    let server = tls_echo(&self_signed(&["127.0.0.1"]), None).await;

    // wss://: mitmproxy decrypts with its own CA, which the client is told to trust.
    let mut s = via(&server.wss_url(), &proxy.url("http", None));
    let msg = failure(s.clone()).await;
    assert!(msg.contains("unknown CA (CN=mitmproxy"), "{msg}");
    s.trust.cacert = Some(mitm_ca);
    let c = echoes(s).await;
    let tls = c.handshake().unwrap().tls.unwrap();
    assert!(tls.chain[0].issuer.contains("mitmproxy"), "{tls:?}");

    // ws:// through its CONNECT too.
    let plain = plain_echo().await;
    echoes(via(&plain.ws_url(), &proxy.url("http", None))).await;
    let start = std::time::Instant::now();
    while !proxy.log().contains("101") && start.elapsed() < GUARD {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        proxy.log().contains("101"),
        "mitmproxy saw no upgrade: {}",
        proxy.log()
    );
}

#[tokio::test]
async fn an_https_proxy_is_reached_over_tls_and_checked_like_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Proxy CA");
    let proxy = https_connect_proxy(&ca.server(&["127.0.0.1"], None)).await;
    let plain = plain_echo().await;
    let url = format!("https://{}", proxy.addr);
    let msg = failure(via(&plain.ws_url(), &url)).await;
    assert!(
        msg.starts_with(&format!("TLS to the proxy {url}: ")),
        "{msg}"
    );
    assert!(msg.contains("unknown CA (CN=Proxy CA"), "{msg}");
    let mut s = via(&plain.ws_url(), &url);
    s.trust.cacert = Some(ca.pem.write(dir.path(), "ca").0);
    let c = echoes(s).await;
    assert_eq!(c.handshake().unwrap().proxy.unwrap(), url);
}

#[tokio::test]
async fn a_proxy_that_is_not_running_is_named() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let plain = plain_echo().await;
    let (kind, msg) =
        proxy_failure(via(&plain.ws_url(), &format!("http://127.0.0.1:{port}"))).await;
    assert_eq!(kind, NetErrorKind::Refused);
    assert_eq!(
        msg,
        format!("connection refused by the proxy http://127.0.0.1:{port} (is it running?)")
    );
}

// ---- subprotocols --------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_subprotocols_are_offered_and_the_servers_choice_is_kept() {
    if !common::peers::peers_available() {
        return;
    }
    let server = common::peers::spawn_py_websockets_speaking("v2.chat");
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("s.jsonl");
    let url = server.url();
    let args = [
        url.as_str(),
        "--auth",
        "none",
        "--subprotocol",
        "v1.chat",
        "--subprotocol",
        "v2.chat,mqtt",
        "--record",
        record.to_str().unwrap(),
    ];
    let out = pipe(&args, &[], "hello\n").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\n");
    let hs = wsdeck::record::jsonl::read(&record)
        .unwrap()
        .handshake
        .unwrap();
    let header = |h: &wsdeck::model::HttpHead| {
        h.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-protocol"))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header(&hs.request).as_deref(),
        Some("v1.chat, v2.chat, mqtt")
    );
    assert_eq!(header(&hs.response).as_deref(), Some("v2.chat"));
}

#[tokio::test]
async fn a_server_that_chooses_none_of_them_is_told_as_such() {
    let port = common::raw::mute_server(common::raw::Mute::Forever).await;
    let mut s = spec(&format!("ws://127.0.0.1:{port}/"));
    s.subprotocols = vec!["chat".into(), "superchat".into()];
    let (kind, msg) = proxy_failure(s).await;
    assert_eq!(kind, NetErrorKind::Protocol);
    assert_eq!(
        msg,
        "the server chose none of the subprotocols asked for (chat, superchat): its 101 has no \
         Sec-WebSocket-Protocol; leave out --subprotocol if it speaks none of them"
    );
}
