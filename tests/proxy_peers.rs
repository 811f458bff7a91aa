//! Real third-party peers through `wsdeck proxy --no-ui`: the seed's HTML page in headless
//! Chromium (playwright-core), reverse and forward mode, to the seed's Python server; Python
//! `websockets` over TLS through forward mode with `--mitm` (and `--ignore-hosts`);
//! permessage-deflate sessions (Chromium, node `ws`, Python `websockets`), steered.

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

/// Chromium always offers permessage-deflate: both legs agreed to it, and every text went
/// compressed both ways (shown inflated).
fn assert_compressed_both_ways(proxy: &ProxyProcess, conn: u64) {
    let answer = |leg: Option<&str>| {
        let hs = proxy
            .seen
            .iter()
            .find(|v| {
                v["type"] == "handshake"
                    && v["conn"] == conn
                    && v.get("leg").and_then(Value::as_str) == leg
            })
            .unwrap_or_else(|| panic!("no {leg:?} handshake:\n{}", proxy.dump()));
        hs["response"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == "Sec-WebSocket-Extensions")
            .and_then(|h| h["value"].as_str())
            .map(String::from)
    };
    let client = answer(Some("client")).unwrap_or_default();
    assert!(client.starts_with("permessage-deflate"), "{client:?}");
    let server = answer(None).unwrap_or_default();
    assert!(server.starts_with("permessage-deflate"), "{server:?}");
    for f in proxy.frames(conn).iter().filter(|f| f["opcode"] == "text") {
        assert!(f["compressed"].is_u64(), "not compressed: {f}");
    }
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
    assert_compressed_both_ways(&proxy, conn);
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
    assert_compressed_both_ways(&proxy, conn);
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

/// A node `ws` client with compression on (every message compressed): argv URL COUNT; sends
/// COUNT similar texts one after the other, each after the echo of the one before; prints
/// `extensions: …`, `echo N ok`, `bytes read: N` and `closed: CODE`.
const NODE_DEFLATE_CLIENT: &str = r#"
const WebSocket = require('ws');
const [url, count] = process.argv.slice(1);
const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
const text = (i) => `message ${i}, ` + 'the proxy inflates and compresses again. '.repeat(50);
let sent = 0;
ws.on('upgrade', (res) => console.log(`extensions: ${res.headers['sec-websocket-extensions'] || ''}`));
ws.on('open', () => ws.send(text(0)));
ws.on('message', (data) => {
  if (data.toString() !== text(sent)) { console.log(`error: echo ${sent} differs`); process.exit(1); }
  console.log(`echo ${sent} ok`);
  sent += 1;
  if (sent < Number(count)) { ws.send(text(sent)); return; }
  console.log(`bytes read: ${ws._socket.bytesRead}`);
  ws.close(1000, 'done');
});
ws.on('close', (code) => { console.log(`closed: ${code}`); process.exit(0); });
ws.on('error', (e) => { console.log(`error: ${e.message}`); process.exit(1); });
"#;

#[test]
fn node_ws_client_and_server_keep_permessage_deflate_through_the_proxy_each_leg_its_own() {
    if !peers::node_ws_available() {
        return;
    }
    let server = peers::spawn_node_ws("{}");
    let mut proxy = spawn_proxy(&[&server.url()]);
    let out = common::output_guarded(
        Command::new("node")
            .args(["-e", NODE_DEFLATE_CLIENT, &proxy.url(), "5"])
            .current_dir(peers::test_peers_dir()),
        "the node client",
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert!(out.status.success(), "{lines:#?}\n{}", proxy.dump());
    // wsdeck answered the client's offer, and made its own to the server.
    assert_eq!(lines[0], "extensions: permessage-deflate", "{lines:#?}");
    assert_eq!(
        server.stdout.recv_timeout(common::GUARD).unwrap(),
        "extensions: permessage-deflate; client_max_window_bits"
    );
    assert_eq!(lines.last().unwrap(), "closed: 1000");
    let conn = conn_to(&mut proxy, &format!("{}/", server.url()));
    proxy.until_closed(conn);
    let frames = proxy.frames(conn);
    let texts: Vec<&Value> = frames.iter().filter(|f| f["opcode"] == "text").collect();
    assert_eq!(texts.len(), 10, "{}", proxy.dump());
    for f in &texts {
        // Shown inflated, with the size it had compressed on the wire.
        let text = f["text"].as_str().unwrap();
        assert!(
            text.contains("the proxy inflates and compresses again."),
            "{f}"
        );
        assert_eq!(f["len"], text.len());
        let compressed = f["compressed"].as_u64().unwrap_or(u64::MAX);
        assert!(compressed * 4 < text.len() as u64, "{f}");
    }
    // 5 echoes of over 2 KB each came in compressed to a few hundred bytes.
    let read: usize = lines
        .iter()
        .find_map(|l| l.strip_prefix("bytes read: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(read < 5 * 2000, "{read} bytes read");
}

/// intercept, edit, drop and inject inside compressed sessions that keep their compression
/// context between messages on both legs (Python `websockets` client, node `ws` server):
/// every later message still inflates on both sides.
mod compressed_steering {
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;
    use wsdeck::model::{Direction, FrameRecord, Opcode, Origin};
    use wsdeck::proxy::{ProxyCommand, ProxyConfig, ProxyEvent, RunningProxy};

    use super::common::{self, peers};

    /// A Python `websockets` client (compression on, its default): each stdin line is sent,
    /// each message received printed as `got TEXT`; the server's extension answer first.
    const LINE_CLIENT: &str = r#"
import asyncio, sys
from websockets.asyncio.client import connect

async def main(url):
    async with connect(url) as ws:
        print("extensions", ws.response.headers.get("Sec-WebSocket-Extensions"), flush=True)
        async def reader():
            async for m in ws:
                print("got", m, flush=True)
        task = asyncio.create_task(reader())
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            await ws.send(line.rstrip("\n"))
        await ws.close()
        await task
        print("closed", ws.close_code, flush=True)

asyncio.run(main(sys.argv[1]))
"#;

    async fn next_event(p: &mut RunningProxy, pred: impl Fn(&ProxyEvent) -> bool) -> ProxyEvent {
        let wait = async {
            loop {
                match p.recv().await {
                    Some(e) if pred(&e) => return e,
                    Some(_) => {}
                    None => panic!("the proxy ended"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .expect("a proxy event within 20 s")
    }

    async fn held(p: &mut RunningProxy) -> FrameRecord {
        match next_event(p, |e| matches!(e, ProxyEvent::Held { .. })).await {
            ProxyEvent::Held { frame, .. } => frame,
            _ => unreachable!(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn edited_dropped_and_injected_messages_never_break_either_compression_context() {
        if !peers::peers_available() || !peers::node_ws_available() {
            return;
        }
        let server = peers::spawn_node_ws("{}");
        let mut cfg = ProxyConfig::new("127.0.0.1:0".parse().unwrap(), Some(server.url()));
        cfg.intercept = Some(Arc::new(|f: &FrameRecord| {
            f.dir == Direction::ClientToServer && f.text().is_some_and(|t| t.starts_with("hold"))
        }));
        let mut proxy = wsdeck::proxy::start(cfg).await.unwrap();
        let mut client = Command::new(peers::python())
            .args(["-c", LINE_CLIENT, &format!("ws://{}/", proxy.local_addr())])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdin = client.stdin.take().unwrap();
        let out = common::lines_of(client.stdout.take().unwrap());
        let line = |want: &str| {
            let got = out
                .recv_timeout(common::GUARD)
                .unwrap_or_else(|_| panic!("the client printed nothing more; expected {want:?}"));
            assert_eq!(got, want);
        };
        let mut send = |text: &str| writeln!(stdin, "{text}").unwrap();
        line("extensions permessage-deflate");

        let w = "compressed world, compressed world, compressed world";
        send(&format!("hello {w}"));
        line(&format!("got hello {w}"));
        send(&format!("hold me {w}"));
        let h = held(&mut proxy).await;
        assert!(h.wire_len.is_some(), "it came in compressed");
        assert!(proxy.send(ProxyCommand::Edit {
            conn: h.conn,
            seq: h.seq,
            payload: Bytes::from(format!("edited {w}")),
        }));
        line(&format!("got edited {w}"));
        send(&format!("hold and drop {w}"));
        let h = held(&mut proxy).await;
        assert!(proxy.send(ProxyCommand::Drop {
            conn: h.conn,
            seq: h.seq
        }));
        let dropped = next_event(&mut proxy, |e| match e {
            ProxyEvent::Frames { frames, .. } => frames.iter().any(|f| f.record.seq == h.seq),
            _ => false,
        })
        .await;
        let ProxyEvent::Frames { frames, .. } = dropped else {
            unreachable!()
        };
        assert!(frames.iter().any(|f| f.record.origin == Origin::Dropped));
        send(&format!("after the drop {w}"));
        line(&format!("got after the drop {w}"));
        for (dir, text) in [
            (Direction::ServerToClient, format!("injected down {w}")),
            (Direction::ClientToServer, format!("injected up {w}")),
        ] {
            assert!(proxy.send(ProxyCommand::Inject {
                conn: h.conn,
                dir,
                opcode: Opcode::Text,
                payload: Bytes::from(text.clone()),
            }));
            line(&format!("got {text}"));
        }
        send(&format!("the end {w}"));
        line(&format!("got the end {w}"));
        drop(stdin);
        line("closed 1000");
        let _ = common::wait_guarded(&mut client, "the Python client");
        match next_event(&mut proxy, |e| matches!(e, ProxyEvent::Closed(_))).await {
            ProxyEvent::Closed(c) => {
                assert_eq!(c.client.map(|c| c.code), Some(1000));
                assert_eq!(c.server.map(|c| c.code), Some(1000));
            }
            _ => unreachable!(),
        }
    }
}

/// The seed's protocol over TLS (Python `websockets`): argv CERT KEY.
const TLS_SEED_SERVER: &str = r#"
import asyncio, ssl, sys
from websockets.asyncio.server import serve

async def handler(ws):
    while (await ws.recv()) != "admin:123456":
        await ws.send("sorry, the username or password is wrong, please submit again")
    await ws.send("congratulation, you have connect with server\r\nnow, you can do something else")
    async for msg in ws:
        await ws.send(f"your submit context: {msg}")

async def main(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    async with serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
        print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().create_future()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"#;

#[test]
fn chromium_trusting_the_wsdeck_ca_in_its_nss_database_is_decrypted_by_mitm() {
    if !peers::peers_available()
        || !peers::chromium_available()
        || !common::netpeers::have("certutil", "apt-get install libnss3-tools")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config_home = dir.path().join("config");
    let upstream_ca = common::netpeers::Ca::new("upstream test CA");
    let (upstream_ca_file, _) = upstream_ca.pem.write(dir.path(), "upstream-ca");
    let (cert, key) = upstream_ca
        .server(&["127.0.0.1"], None)
        .write(dir.path(), "upstream");
    let server = {
        let mut cmd = Command::new(peers::python());
        cmd.args(["-c", TLS_SEED_SERVER]).arg(&cert).arg(&key);
        common::peers::PeerServer::start_cmd(cmd, "the TLS seed server")
    };
    let ca = common::output_guarded(
        Command::new(env!("CARGO_BIN_EXE_wsdeck"))
            .arg("ca")
            .env("XDG_CONFIG_HOME", &config_home),
        "wsdeck ca",
    );
    let printed = String::from_utf8(ca.stdout).unwrap();
    let ca_file = PathBuf::from(printed.lines().next().unwrap());
    // Chromium on Linux trusts the CAs in $HOME/.pki/nssdb: the README's recipe.
    let home = dir.path().join("home");
    let nssdb = home.join(".pki/nssdb");
    std::fs::create_dir_all(&nssdb).unwrap();
    let db = format!("sql:{}", nssdb.display());
    for args in [
        vec!["-d", &db, "-N", "--empty-password"],
        vec![
            "-d",
            &db,
            "-A",
            "-t",
            "C,,",
            "-n",
            "wsdeck",
            "-i",
            ca_file.to_str().unwrap(),
        ],
    ] {
        let out = common::output_guarded(Command::new("certutil").args(&args), "certutil");
        assert!(out.status.success(), "certutil {args:?}: {out:?}");
    }

    // The server's CA by --cacert (the other --mitm test uses SSL_CERT_FILE).
    let mut proxy = spawn_proxy_env(
        &["--mitm", "--cacert", upstream_ca_file.to_str().unwrap()],
        &[("XDG_CONFIG_HOME", config_home.to_str().unwrap())],
    );
    let web = PageServer::start();
    let wss = format!("wss://{}/", server.addr);
    let proxy_flag = format!("--proxy-server=http://{}", proxy.addr);
    let flags = [
        proxy_flag.as_str(),
        "--proxy-bypass-list=<-loopback>;*.google.com;*.googleapis.com;*.gvt1.com",
    ];
    let (title, log) = peers::run_browser_env(&web.page_url(&wss), &flags, &[("HOME", &home)]);
    assert_page_saw_the_echo(&title, &log);
    let conn = conn_to(&mut proxy, &wss);
    proxy.until_closed(conn);
    assert_eq!(
        summary(&proxy.frames(conn)),
        seed_page_conversation(),
        "{}",
        proxy.dump()
    );
    assert_compressed_both_ways(&proxy, conn);
    assert_no_password(&proxy);

    // A profile without the CA refuses wsdeck's certificate: the page never connects.
    let bare_home = dir.path().join("bare-home");
    std::fs::create_dir_all(&bare_home).unwrap();
    let (title, _) = peers::run_browser_env(&web.page_url(&wss), &flags, &[("HOME", &bare_home)]);
    assert_eq!(title, "closed 1006");
    let refused = proxy.until("the refusal", |v| v["type"] == "refused");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("refused wsdeck's certificate for 127.0.0.1"),
        "{refused}"
    );
}
