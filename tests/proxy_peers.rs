//! Real third-party peers through `wsdeck proxy --no-ui`: the seed's HTML page in headless
//! Chromium (playwright-core), reverse and forward mode, to the seed's Python server; Python
//! `websockets` over TLS through forward mode with `--mitm` (and `--ignore-hosts`).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::peers;
use common::proxy::{ProxyProcess, spawn_proxy, spawn_proxy_env, summary};
use serde_json::Value;

/// A plain HTTP server on a thread serving `tests/peers/seed_page.html` at
/// `/seed_page.html` (404 for anything else); it keeps each request line it was sent.
struct PageServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

impl PageServer {
    fn start() -> PageServer {
        let page = std::fs::read(peers::test_peers_dir().join("seed_page.html")).unwrap();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let page = page.clone();
                let seen = seen.clone();
                std::thread::spawn(move || serve_one(s, &page, &seen));
            }
        });
        PageServer { addr, requests }
    }

    fn page_url(&self, ws: &str) -> String {
        format!("http://{}/seed_page.html?ws={ws}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Answer one request (the connection is closed after it).
fn serve_one(mut s: std::net::TcpStream, page: &[u8], seen: &Mutex<Vec<String>>) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        match r.read_line(&mut h) {
            Ok(0) | Err(_) => return,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {}
        }
    }
    let line = line.trim_end().to_string();
    let path = line.split(' ').nth(1).unwrap_or("").to_string();
    seen.lock().unwrap().push(line);
    let (status, body, kind): (&str, &[u8], &str) = if path.starts_with("/seed_page.html") {
        ("200 OK", page, "text/html; charset=utf-8")
    } else {
        ("404 Not Found", b"not here\n", "text/plain")
    };
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(body);
}

fn s(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.to_string(), b.to_string(), c.to_string())
}

/// What the seed page and server say to each other, as the proxy prints it.
fn seed_page_conversation() -> Vec<(String, String, String)> {
    vec![
        s("c2s", "text", "admin:***"),
        s(
            "s2c",
            "text",
            "congratulation, you have connect with server\r\nnow, you can do something else",
        ),
        s("c2s", "text", "hello from the page"),
        s("s2c", "text", "your submit context: hello from the page"),
        s("c2s", "close", "page done"),
        s("s2c", "close", "page done"),
    ]
}

/// The page's own view: the echo arrived and the close was clean.
fn assert_page_saw_the_echo(title: &str, log: &[String]) {
    assert_eq!(title, "closed 1000", "{log:#?}");
    assert!(
        log.iter()
            .any(|l| l == "收到消息:your submit context: hello from the page"),
        "{log:#?}"
    );
}

/// The connection id of the WebSocket whose server leg went to `url`.
fn conn_to(proxy: &mut ProxyProcess, url: &str) -> u64 {
    let hs = proxy.until(&format!("a handshake to {url}"), |v| {
        // The server leg's line has no `leg` (a recording's handshake is the server's).
        v["type"] == "handshake" && v.get("leg").is_none() && v["url"] == url
    });
    hs["conn"].as_u64().unwrap()
}

fn assert_no_password(proxy: &ProxyProcess) {
    let all = proxy.dump();
    assert!(!all.contains("123456"), "the password leaked:\n{all}");
}

#[test]
fn the_seed_page_in_chromium_talks_to_the_seed_server_through_the_reverse_proxy() {
    if !peers::peers_available() || !peers::chromium_available() {
        return;
    }
    let server = peers::spawn_seed_server("admin", "123456");
    let web = PageServer::start();
    let mut proxy = spawn_proxy(&[&server.url()]);

    let (title, log) = peers::run_browser(&web.page_url(&format!("{}/", proxy.url())), &[]);
    assert_page_saw_the_echo(&title, &log);

    let conn = conn_to(&mut proxy, &format!("{}/", server.url()));
    let closed = proxy.until_closed(conn);
    assert_eq!(closed["client"]["code"], 1000, "{}", proxy.dump());
    assert_eq!(closed["server"]["code"], 1000);
    assert_eq!(
        summary(&proxy.frames(conn)),
        seed_page_conversation(),
        "{}",
        proxy.dump()
    );
    assert_no_password(&proxy);
    assert_eq!(
        web.requests()[0],
        format!("GET /seed_page.html?ws={}/ HTTP/1.1", proxy.url()),
        "the page loaded straight from the web server"
    );
}

#[test]
fn chromium_pointed_at_the_forward_proxy_loads_the_page_and_its_websocket_through_it() {
    if !peers::peers_available() || !peers::chromium_available() {
        return;
    }
    let server = peers::spawn_seed_server("admin", "123456");
    let web = PageServer::start();
    let mut proxy = spawn_proxy(&[]);

    let proxy_flag = format!("--proxy-server=http://{}", proxy.addr);
    // Chromium sends loopback addresses direct unless told not to (`<-loopback>`); its own
    // calls home go direct, to a resolver that knows no names (browser.js), not through
    // the proxy under test.
    let (title, log) = peers::run_browser(
        &web.page_url(&server.url()),
        &[
            &proxy_flag,
            "--proxy-bypass-list=<-loopback>;*.google.com;*.googleapis.com;*.gvt1.com",
        ],
    );
    assert_page_saw_the_echo(&title, &log);

    // The page came through the proxy's plain HTTP passthrough…
    let page_url = web.page_url(&server.url());
    let tunnel = proxy.until("the page's request", |v: &Value| {
        v["type"] == "tunnel" && v["kind"] == "http" && v["url"] == page_url
    });
    assert_eq!(tunnel["method"], "GET");
    // …and the WebSocket through a CONNECT tunnel, decoded.
    let conn = conn_to(&mut proxy, &format!("{}/", server.url()));
    let closed = proxy.until_closed(conn);
    assert_eq!(closed["client"]["code"], 1000, "{}", proxy.dump());
    assert_eq!(
        summary(&proxy.frames(conn)),
        seed_page_conversation(),
        "{}",
        proxy.dump()
    );
    assert_no_password(&proxy);
    // Nothing else went through the proxy (no call home, nothing refused).
    for v in &proxy.seen {
        let t = v["type"].as_str().unwrap_or("frame");
        assert!(
            !matches!(t, "refused" | "notice"),
            "unexpected {t} line: {v}"
        );
        if t == "tunnel" {
            assert_eq!(v["target"], web.addr.to_string(), "{v}");
        }
    }
    assert!(
        web.requests()
            .iter()
            .any(|r| r.starts_with("GET /seed_page.html?ws=")),
        "{:?}",
        web.requests()
    );
}

/// A Python `websockets` echo server over TLS: argv CERT KEY; answers `echo: TEXT`.
const TLS_SERVER: &str = r#"
import asyncio, ssl, sys
from websockets.asyncio.server import serve

async def handler(ws):
    async for msg in ws:
        await ws.send(f"echo: {msg}")

async def main(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    async with serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
        print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().create_future()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"#;

/// A Python `websockets` client through an HTTP proxy: argv URL PROXY CAFILE TEXT; sends
/// TEXT, prints `got REPLY`, closes; a failure is printed as `error: …` (exit 1).
const PROXIED_CLIENT: &str = r#"
import asyncio, ssl, sys
from websockets.asyncio.client import connect

async def main(url, proxy, cafile, text):
    ctx = ssl.create_default_context(cafile=cafile)
    async with connect(url, proxy=proxy, ssl=ctx, compression=None) as ws:
        await ws.send(text)
        print("got", await ws.recv(), flush=True)

try:
    asyncio.run(main(*sys.argv[1:5]))
except Exception as e:
    print("error:", type(e).__name__, e, flush=True)
    sys.exit(1)
"#;

/// Run [`PROXIED_CLIENT`]; (exited 0, its stdout).
fn proxied_client(url: &str, proxy: SocketAddr, cafile: &Path, text: &str) -> (bool, String) {
    let out = common::output_guarded(
        Command::new(peers::python())
            .args(["-c", PROXIED_CLIENT, url, &format!("http://{proxy}")])
            .arg(cafile)
            .arg(text)
            // The proxy under test is the only one.
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("all_proxy"),
        "the Python client",
    );
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.success(), format!("{stdout}{stderr}"))
}

#[test]
fn mitm_decrypts_a_tls_websocket_for_a_client_trusting_the_wsdeck_ca_and_ignored_hosts_stay_blind()
{
    if !peers::peers_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config_home = dir.path().join("config");
    // The upstream's own CA and certificate (rcgen), trusted by the proxy via SSL_CERT_FILE.
    let upstream_ca = common::netpeers::Ca::new("upstream test CA");
    let (upstream_ca_file, _) = upstream_ca.pem.write(dir.path(), "upstream-ca");
    let (cert, key) = upstream_ca
        .server(&["127.0.0.1", "localhost"], None)
        .write(dir.path(), "upstream");
    let server = {
        let mut cmd = Command::new(peers::python());
        cmd.args(["-c", TLS_SERVER]).arg(&cert).arg(&key);
        common::peers::PeerServer::start_cmd(cmd, "the TLS server")
    };
    let url = format!("wss://{}/", server.addr);

    // `wsdeck ca` makes the CA in the config directory and prints where it is.
    let ca = common::output_guarded(
        Command::new(env!("CARGO_BIN_EXE_wsdeck"))
            .arg("ca")
            .env("XDG_CONFIG_HOME", &config_home),
        "wsdeck ca",
    );
    assert!(ca.status.success(), "{ca:?}");
    let printed = String::from_utf8(ca.stdout).unwrap();
    let (path, pem) = printed.split_once('\n').unwrap();
    let ca_file = PathBuf::from(path);
    assert_eq!(ca_file, config_home.join("wsdeck/ca/ca.pem"));
    assert_eq!(std::fs::read_to_string(&ca_file).unwrap(), pem);

    let env = [
        ("XDG_CONFIG_HOME", config_home.to_str().unwrap()),
        ("SSL_CERT_FILE", upstream_ca_file.to_str().unwrap()),
    ];
    let mut proxy = spawn_proxy_env(&["--mitm"], &env);
    let (ok, out) = proxied_client(&url, proxy.addr, &ca_file, "secret stuff");
    assert!(ok, "{out}\n{}", proxy.dump());
    assert_eq!(out, "got echo: secret stuff");
    let conn = conn_to(&mut proxy, &url);
    proxy.until_closed(conn);
    let frames = proxy.frames(conn);
    assert_eq!(
        summary(&frames[..2]),
        [
            s("c2s", "text", "secret stuff"),
            s("s2c", "text", "echo: secret stuff")
        ],
        "{}",
        proxy.dump()
    );
    let client_leg = proxy
        .seen
        .iter()
        .find(|v| v["type"] == "handshake" && v["leg"] == "client")
        .cloned()
        .unwrap();
    assert_eq!(client_leg["url"], url, "the client asked for wss://");

    // A client that trusts only the server's CA refuses wsdeck's certificate; the proxy
    // says so.
    let (ok, out) = proxied_client(&url, proxy.addr, &upstream_ca_file, "x");
    assert!(!ok && out.contains("CERTIFICATE_VERIFY_FAILED"), "{out}");
    let refused = proxy.until("the refused line", |v| v["type"] == "refused");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("does it trust the wsdeck CA? see `wsdeck ca`"),
        "{refused}"
    );
    assert!(proxy.terminate().success());

    // --ignore-hosts: relayed blind, so the client sees the server's own certificate.
    let ignore = regex::escape(&server.addr.to_string());
    let mut proxy = spawn_proxy_env(&["--mitm", "--ignore-hosts", &ignore], &env);
    let (ok, out) = proxied_client(&url, proxy.addr, &upstream_ca_file, "not for wsdeck");
    assert!(ok, "{out}\n{}", proxy.dump());
    assert_eq!(out, "got echo: not for wsdeck");
    let tunnel = proxy.until("the blind tunnel", |v| v["type"] == "tunnel");
    assert_eq!(
        (&tunnel["kind"], &tunnel["decrypted"], &tunnel["target"]),
        (
            &"tls".into(),
            &false.into(),
            &server.addr.to_string().into()
        )
    );
    let closed = proxy.until("the tunnel's end", |v| v["type"] == "tunnel_closed");
    assert!(closed["up"].as_u64().unwrap() > 0 && closed["down"].as_u64().unwrap() > 0);
    assert!(
        proxy.seen.iter().all(|v| v["type"] != "handshake"),
        "nothing decoded: {}",
        proxy.dump()
    );
    assert!(!proxy.dump().contains("not for wsdeck"));
}
