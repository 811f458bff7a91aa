//! The seed's own Python peers (`../shared/peers` beside the clone): where they are, whether
//! they can run, and skip-or-fail when they cannot (`WSDECK_REQUIRE_PEERS=1` makes it a failure).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

/// Set to `1` to make missing peers a test failure instead of a skip.
pub const REQUIRE_ENV: &str = "WSDECK_REQUIRE_PEERS";

/// `../shared/peers` relative to the crate root.
pub fn peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WSDECK_PEERS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join("peers")
}

pub fn seed_server_py() -> PathBuf {
    peers_dir().join("seed_server.py")
}

pub fn seed_client_py() -> PathBuf {
    peers_dir().join("seed_client.py")
}

/// The Python interpreter to run the peers with.
pub fn python() -> &'static str {
    "python3"
}

/// True if `python3` runs and has the `websockets` module with its asyncio API.
pub fn python_websockets_available() -> bool {
    Command::new(python())
        .args([
            "-c",
            "import websockets.asyncio.client, websockets.asyncio.server",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// True when `WSDECK_REQUIRE_PEERS=1`.
pub fn require_peers() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v.trim() == "1")
}

/// Print a skip note, or panic when peers are required.
pub fn skip_or_fail(reason: &str) {
    if require_peers() {
        panic!("{reason} (and {REQUIRE_ENV}=1 requires the peer tests to run)");
    }
    // Straight to the process's stderr: the harness captures `eprintln!` of a passing test,
    // which would hide the skip (issue 14 item 12).
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {reason} (set {REQUIRE_ENV}=1 to make this a failure)"
    );
}

/// Everything a peer test needs is there. Otherwise prints a skip note and returns false
/// (or panics under `WSDECK_REQUIRE_PEERS=1`). Use as `if !peers_available() { return; }`.
pub fn peers_available() -> bool {
    let dir = peers_dir();
    if !seed_server_py().is_file() || !seed_client_py().is_file() {
        skip_or_fail(&format!(
            "the seed peers are not in {} (seed_server.py, seed_client.py)",
            dir.display()
        ));
        return false;
    }
    if !python_websockets_available() {
        skip_or_fail(
            "python3 with the `websockets` module is not available (pip install websockets)",
        );
        return false;
    }
    true
}

/// A running `seed_server.py`; killed when dropped.
pub struct SeedServer {
    pub child: Child,
    pub addr: SocketAddr,
    /// Lines it printed after `listening on …`.
    pub stdout: mpsc::Receiver<String>,
}

/// Start `seed_server.py --host 127.0.0.1 --port 0` with these credentials and wait until
/// it listens. Call `peers_available()` first.
pub fn spawn_seed_server(user: &str, password: &str) -> SeedServer {
    let mut child = Command::new(python())
        .arg(seed_server_py())
        .args(["--host", "127.0.0.1", "--port", "0", "--user", user])
        .args(["--password", password])
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start seed_server.py");
    let stdout = super::lines_of(child.stdout.take().expect("piped stdout"));
    let addr = super::read_listening_line(&stdout, "seed_server.py");
    SeedServer {
        child,
        addr,
        stdout,
    }
}

impl SeedServer {
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

impl Drop for SeedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/peers` in the crate: peer scripts and their `package.json` (node `ws`).
pub fn test_peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("peers")
}

/// True if `node` runs and `tests/peers/node_modules/ws` is installed (`npm ci` there).
/// Otherwise prints a skip note (or panics under `WSDECK_REQUIRE_PEERS=1`).
pub fn node_ws_available() -> bool {
    let installed = test_peers_dir()
        .join("node_modules/ws/package.json")
        .is_file();
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed || !node {
        skip_or_fail("node with the `ws` package is not available (run `npm ci` in tests/peers)");
        return false;
    }
    true
}

/// A third-party server started by a test (node `ws`, Python `websockets`); killed on drop.
pub struct PeerServer {
    pub child: Child,
    pub addr: SocketAddr,
    /// Lines it printed after `listening on …`.
    pub stdout: mpsc::Receiver<String>,
}

impl PeerServer {
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Start `cmd`, a server that prints `listening on HOST:PORT` first.
    pub fn start_cmd(cmd: Command, what: &str) -> PeerServer {
        Self::start(cmd, what)
    }

    fn start(mut cmd: Command, what: &str) -> PeerServer {
        let mut child = cmd
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let stdout = super::lines_of(child.stdout.take().expect("piped stdout"));
        let addr = super::read_listening_line(&stdout, what);
        PeerServer {
            child,
            addr,
            stdout,
        }
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/peers/ws_server.js`: a node `ws` echo server (`big N` answers N bytes) with these
/// perMessageDeflate options (JSON, or `off`). Call `node_ws_available()` first.
pub fn spawn_node_ws(deflate: &str) -> PeerServer {
    let mut cmd = Command::new("node");
    cmd.arg(test_peers_dir().join("ws_server.js")).arg(deflate);
    PeerServer::start(cmd, "ws_server.js")
}

/// `tests/peers/py_server.py`: a Python `websockets` echo server, default compression.
/// Call `peers_available()` first.
pub fn spawn_py_websockets() -> PeerServer {
    let mut cmd = Command::new(python());
    cmd.arg(test_peers_dir().join("py_server.py"));
    PeerServer::start(cmd, "py_server.py")
}

/// `tests/peers/py_server.py` speaking these subprotocols (comma-separated).
/// Call `peers_available()` first.
pub fn spawn_py_websockets_speaking(subprotocols: &str) -> PeerServer {
    let mut cmd = Command::new(python());
    cmd.arg(test_peers_dir().join("py_server.py"))
        .arg(subprotocols);
    PeerServer::start(cmd, "py_server.py")
}

/// A Python `websockets` server written inline by the test (`python3 -c SCRIPT`); it must
/// print `listening on HOST:PORT`. Call `peers_available()` first.
pub fn spawn_py_script(script: &str, what: &str) -> PeerServer {
    let mut cmd = Command::new(python());
    cmd.arg("-c").arg(script);
    PeerServer::start(cmd, what)
}

/// Run `tests/peers/ws_client.js` (a node `ws` client speaking the seed's protocol) against
/// `url` with these perMessageDeflate options (JSON, or `off`): log in with `login`, send
/// `count` texts of `size` bytes, each echoed before the next, close. Returns its stdout
/// lines once it exited (bounded by `GUARD`). Call `node_ws_available()` first.
pub fn run_node_ws_client(
    url: &str,
    deflate: &str,
    login: &str,
    size: usize,
    count: usize,
) -> Vec<String> {
    let mut child = Command::new("node")
        .arg(test_peers_dir().join("ws_client.js"))
        .args([url, deflate, login, &size.to_string(), &count.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ws_client.js");
    let lines = super::lines_of(child.stdout.take().expect("piped stdout"));
    let status = super::wait_guarded(&mut child, "ws_client.js");
    // The child is gone: its stdout ends, and so does the channel.
    let mut out = Vec::new();
    while let Ok(line) = lines.recv_timeout(super::GUARD) {
        out.push(line);
    }
    assert!(status.success(), "ws_client.js failed ({status}): {out:#?}");
    out
}

/// True if `websockify` (pip install websockify) runs. Otherwise prints a skip note (or
/// panics under `WSDECK_REQUIRE_PEERS=1`).
pub fn websockify_available() -> bool {
    let ok = Command::new("websockify")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip_or_fail("websockify is not available (pip install websockify)");
    }
    ok
}

/// A running `websockify` in front of a TCP echo server, both on 127.0.0.1; killed (and the
/// echo server left to end with the test) on drop.
pub struct Websockify {
    pub child: Child,
    pub port: u16,
}

impl Websockify {
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Websockify {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP echo server on a thread: every connection gets back what it sends.
fn tcp_echo() -> u16 {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// `websockify PORT 127.0.0.1:ECHO` (a free port), waiting until it accepts connections.
/// Call `websockify_available()` first.
pub fn spawn_websockify() -> Websockify {
    let echo = tcp_echo();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new("websockify")
        .arg(format!("127.0.0.1:{port}"))
        .arg(format!("127.0.0.1:{echo}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start websockify");
    let w = Websockify { child, port };
    let deadline = std::time::Instant::now() + super::GUARD;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "websockify never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    w
}

/// Chromium for the browser tests: `$CHROMIUM`, else Debian's binary itself
/// (`/usr/lib/chromium/chromium`; the `/usr/bin/chromium` wrapper adds Google API keys and
/// remote extensions, whose calls home would go through the proxy under test), else
/// `/usr/bin/chromium`.
pub fn chromium_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(p);
    }
    let binary = PathBuf::from("/usr/lib/chromium/chromium");
    if binary.is_file() {
        return binary;
    }
    PathBuf::from("/usr/bin/chromium")
}

/// True if Chromium is installed (apt-get install chromium) and node has `playwright-core`
/// (`npm ci` in tests/peers). Otherwise prints a skip note (or panics under
/// `WSDECK_REQUIRE_PEERS=1`).
pub fn chromium_available() -> bool {
    if !node_ws_available() {
        return false;
    }
    let playwright = test_peers_dir()
        .join("node_modules/playwright-core/package.json")
        .is_file();
    if !playwright {
        skip_or_fail("node's `playwright-core` is not installed (run `npm ci` in tests/peers)");
        return false;
    }
    if !chromium_path().is_file() {
        skip_or_fail(&format!(
            "Chromium is not at {} (apt-get install chromium, or set CHROMIUM)",
            chromium_path().display()
        ));
        return false;
    }
    true
}

/// Open `page_url` in headless Chromium with these flags (`tests/peers/browser.js`) and wait
/// for the seed page to close its WebSocket: `(title, the page's log lines)`.
/// Call `chromium_available()` first.
pub fn run_browser(page_url: &str, flags: &[&str]) -> (String, Vec<String>) {
    run_browser_env(page_url, flags, &[])
}

/// [`run_browser`] with these environment variables for Chromium (`HOME`, whose
/// `.pki/nssdb` holds the certificates Chromium trusts on Linux).
pub fn run_browser_env(
    page_url: &str,
    flags: &[&str],
    env: &[(&str, &std::path::Path)],
) -> (String, Vec<String>) {
    let mut cmd = Command::new("node");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .arg(test_peers_dir().join("browser.js"))
        .arg(page_url)
        .args(flags)
        .env("CHROMIUM", chromium_path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start browser.js");
    let lines = super::lines_of(child.stdout.take().expect("piped stdout"));
    let errs = super::lines_of(child.stderr.take().expect("piped stderr"));
    // Chromium's start plus the page's 20 s bound.
    let status = super::wait_guarded_for(&mut child, "browser.js", super::GUARD * 2);
    let out: Vec<String> = lines.try_iter().collect();
    let err: Vec<String> = errs.try_iter().collect();
    assert!(
        status.success(),
        "browser.js failed ({status}): {out:#?}\n{err:#?}"
    );
    let v: serde_json::Value = out
        .iter()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("browser.js printed no JSON line: {out:#?}\n{err:#?}"));
    let log = v["log"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    (v["title"].as_str().unwrap_or("").to_string(), log)
}
