//! `wsdeck proxy --no-ui` and `wsdeck ca`: the proxy's events as JSON lines on stdout (like
//! `mitmdump`), the `--record` recording and the `--har` export.
//!
//! Lines on stdout: the recording's own `handshake` lines (both legs of each connection,
//! `leg` `client` and `server`) and frame lines (with `conn`, `dir` `c2s`/`s2c`, `origin`
//! when not as sent, and `fragments` when a message came in several frames), plus
//! `{"type":"closed"…}`, `{"type":"tunnel"…}`, `{"type":"tunnel_closed"…}`,
//! `{"type":"refused"…}` and `{"type":"notice"…}` lines, and with `--intercept` a
//! `{"type":"held"…}` line per held message (the frame line's fields, `proxy_steer.rs` reads
//! the commands that steer them from stdin). Startup messages go to stderr.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::cli::ProxyArgs;
use crate::model::{CloseInfo, FrameRecord, HandshakeInfo};
use crate::proxy::{self, ProxyConfig, ProxyEvent, Redaction, TunnelKind};
use crate::record::{self, format_ts, jsonl};

#[path = "proxy_steer.rs"]
mod steer;

/// Run the proxy until SIGINT/SIGTERM; the exit code.
pub async fn run(args: ProxyArgs) -> i32 {
    let cfg = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wsdeck: {e:#}");
            return 2;
        }
    };
    match serve(cfg, &args).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("wsdeck: {e:#}");
            1
        }
    }
}

/// The connection list and monitors on the terminal (`cfg` from [`config`]), until the user
/// quits.
pub async fn run_ui(args: ProxyArgs, cfg: ProxyConfig, utc_offset: i32) -> anyhow::Result<()> {
    super::require_terminal("; run the proxy headless with --no-ui")?;
    // With --no-redact the events keep everything for the files; the screen still hides.
    let screen = (!cfg.redaction.enabled).then(|| cfg.redaction.for_screen());
    let mitm = cfg.mitm.is_some();
    let upstream = cfg.upstream.clone();
    let running = proxy::start(cfg).await?;
    let args = &args;
    let info = crate::app::proxy::ProxyInfo {
        listen: running.local_addr().to_string(),
        upstream,
        mitm,
        record: args.record.clone(),
        remote: !running.local_addr().ip().is_loopback(),
    };
    let intercept = match &args.intercept {
        Some(f) => Some(
            crate::monitor::filter::Filter::parse(f)
                .map_err(|e| anyhow::anyhow!("--intercept {f:?} is not a filter: {}", e.message))?,
        ),
        None => None,
    };
    let mut app = crate::app::proxy::ProxyApp::new(info, intercept, utc_offset);
    if let Some(policy) = screen {
        app.hide_on_screen(policy);
    }
    let opts = crate::runtime::proxy::ProxyRunOptions {
        record: args.record.clone(),
        har: args.har.clone(),
        no_redact: args.no_redact,
        overwrite: args.overwrite,
        ..Default::default()
    };
    crate::tui::run_proxy_terminal(app, running, opts).await?;
    Ok(())
}

/// `wsdeck ca`: the CA certificate's path, then its PEM.
pub fn print_ca() -> anyhow::Result<()> {
    let ca = proxy::ca::Ca::load_or_create(&proxy::ca::default_dir()?)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", ca.cert_path().display());
    let _ = out.write_all(ca.cert_pem().as_bytes());
    Ok(())
}

fn regex(flag: &str, re: &str) -> anyhow::Result<regex::Regex> {
    regex::Regex::new(re).with_context(|| format!("{flag} is not a valid regex: {re}"))
}

/// Reverse mode's server: a `ws://` or `wss://` URL with a host, its scheme written out (a
/// typo such as `ws//host` is not taken for a host name, as `connect`'s schemeless URLs are).
fn upstream_url(u: &str) -> anyhow::Result<String> {
    let t = u.trim();
    if !t.contains("://") {
        let shown = crate::reach::redact_url(t);
        bail!(
            "{shown:?} is not a ws:// or wss:// URL: give the server's URL with its scheme, \
             e.g. ws://127.0.0.1:5678 (or no URL for forward mode, an HTTP proxy)"
        );
    }
    crate::spec::validate_url(t)
}

/// Check the flags and build the proxy's configuration.
pub fn config(args: &ProxyArgs) -> anyhow::Result<ProxyConfig> {
    let upstream = match &args.url {
        Some(u) => Some(upstream_url(u)?),
        None => None,
    };
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        bail!(
            "--listen {} is reachable from other machines: anyone there could use the proxy \
             and read its traffic; add --allow-remote if that is what you want",
            args.listen
        );
    }
    if args.mitm && upstream.is_some() {
        bail!("--mitm is for forward mode (no URL): a reverse proxy's TLS is the URL's wss://");
    }
    if !args.ignore_hosts.is_empty() && !args.mitm {
        bail!(
            "--ignore-hosts only applies with --mitm: without it no TLS tunnel is decrypted, \
             so every host is relayed blind already; add --mitm, or leave --ignore-hosts out"
        );
    }
    if args.max_message == 0 {
        bail!(
            "--max-message 0 would refuse every message: give the largest message to relay, in \
             bytes (the default is {}, 1 MiB)",
            crate::server::DEFAULT_MAX_MESSAGE
        );
    }
    if args.max_connections == 0 {
        bail!(
            "--max-connections 0 would refuse every client: give at least 1 (the default is {})",
            proxy::DEFAULT_MAX_CONNECTIONS
        );
    }
    let mut cfg = ProxyConfig::new(args.listen, upstream);
    cfg.insecure = args.insecure;
    cfg.cacert = args.cacert.clone();
    cfg.max_message_size = args.max_message;
    cfg.max_connections = args.max_connections;
    cfg.handshake_timeout = Duration::from_secs(args.handshake_timeout.max(1));
    cfg.ignore_hosts = args
        .ignore_hosts
        .iter()
        .map(|r| regex("--ignore-hosts", r))
        .collect::<anyhow::Result<_>>()?;
    let template = args
        .login_template
        .as_deref()
        .unwrap_or(crate::spec::DEFAULT_LOGIN_TEMPLATE);
    let ok = regex(
        "--login-ok",
        args.login_ok
            .as_deref()
            .unwrap_or(crate::spec::DEFAULT_LOGIN_OK),
    )?;
    let rules = args
        .redact
        .iter()
        .map(|r| regex("--redact", r))
        .collect::<anyhow::Result<_>>()?;
    let policy = Redaction::new(template, ok, rules);
    cfg.redaction = if args.no_redact {
        policy.switched_off()
    } else {
        policy
    };
    if let Some(filter) = &args.intercept {
        let rule = proxy::intercept_rule(filter)
            .map_err(|e| anyhow::anyhow!("--intercept {filter:?} is not a filter: {e}"))?;
        cfg.intercept = Some(rule);
    }
    if args.mitm {
        let dir = proxy::ca::default_dir()?;
        cfg.mitm = Some(std::sync::Arc::new(proxy::ca::Ca::load_or_create(&dir)?));
    }
    Ok(cfg)
}

/// Run the headless proxy: announce it, print its events until it stops, write the HAR.
async fn serve(cfg: ProxyConfig, args: &ProxyArgs) -> anyhow::Result<()> {
    let remote = !cfg.listen.ip().is_loopback();
    let mitm = cfg.mitm.clone();
    let upstream = cfg.upstream.clone();
    let intercepting = cfg.intercept.is_some();
    let mut running = proxy::start(cfg).await?;
    // Only with --intercept: stdin steers the held messages (and its end releases them).
    let stdin = intercepting.then(steer::stdin_lines);
    // The same recorder as the proxy's UI (`proxy::tape`).
    let (mut recorder, appended) = open_recording(args)?;
    let mut printer = Printer {
        out: std::io::stdout().lock(),
        line: Vec::with_capacity(OUT_CHUNK + (1 << 12)),
        har: args.har.as_ref().map(|_| BTreeMap::new()),
        held: HashMap::new(),
    };
    announce(
        &running,
        upstream.as_deref(),
        mitm.as_deref(),
        remote,
        appended,
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let result =
        print_until_stopped(&mut running, &mut printer, &mut recorder, stdin, &mut term).await;
    // Every connection is closed with 1000 both ways, and its end printed and recorded.
    let mut failed = false;
    running
        .shut_down(proxy::SHUTDOWN_WAIT, |ev| {
            failed = failed || printer.event(&ev, recorder.as_mut()).is_err();
        })
        .await;
    finish(&mut printer, &mut recorder, args)?;
    result
}

/// The `--record` recording (none without the flag), and the sentence about a file already there.
fn open_recording(args: &ProxyArgs) -> anyhow::Result<(Option<proxy::tape::Tape>, Option<String>)> {
    Ok(match &args.record {
        Some(path) => {
            let (t, said) = proxy::tape::Tape::create(path, args.overwrite)?;
            (Some(t), said)
        }
        None => (None, None),
    })
}

/// The startup messages on stderr: where the proxy listens, what it relays, its warnings.
fn announce(
    running: &proxy::RunningProxy,
    upstream: Option<&str>,
    mitm: Option<&proxy::ca::Ca>,
    remote: bool,
    appended: Option<String>,
) {
    eprintln!("listening on {}", running.local_addr());
    if let Some(s) = appended {
        eprintln!("wsdeck: {s}");
    }
    match upstream {
        Some(u) => eprintln!("relaying every client to {u}"),
        None => eprintln!(
            "HTTP proxy: point clients at http://{}",
            running.local_addr()
        ),
    }
    if let Some(ca) = mitm {
        eprintln!(
            "decrypting TLS with certificates from {} (clients must trust it)",
            ca.cert_path().display()
        );
    }
    if remote {
        eprintln!(
            "warning: listening on {}: other machines can use this proxy and see its traffic",
            running.local_addr()
        );
    }
}

/// Print events and take steering lines until the proxy stops, stdout fails or a signal comes.
async fn print_until_stopped<W: Write>(
    running: &mut proxy::RunningProxy,
    printer: &mut Printer<W>,
    recorder: &mut Option<proxy::tape::Tape>,
    mut stdin: Option<tokio::sync::mpsc::UnboundedReceiver<String>>,
    term: &mut tokio::signal::unix::Signal,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            ev = running.recv() => {
                let Some(ev) = ev else { break Ok(()) };
                if let Some(end) = print_burst(&ev, running, printer, recorder) {
                    break end;
                }
            }
            line = next_line(&mut stdin) => {
                if steer_by(line, &mut stdin, running, printer) {
                    break Ok(());
                }
            }
            _ = tokio::signal::ctrl_c() => break Ok(()),
            _ = term.recv() => break Ok(()),
        }
    }
}

/// Print `ev` and every event already waiting behind it, with one flush; `Some`: stop so.
fn print_burst<W: Write>(
    ev: &ProxyEvent,
    running: &mut proxy::RunningProxy,
    printer: &mut Printer<W>,
    recorder: &mut Option<proxy::tape::Tape>,
) -> Option<anyhow::Result<()>> {
    if let Err(e) = printer.event(ev, recorder.as_mut()) {
        return Some(Err(e));
    }
    // Everything already waiting goes out with one flush.
    let mut failed = None;
    while let Some(ev) = running.try_recv() {
        if let Err(e) = printer.event(&ev, recorder.as_mut()) {
            failed = Some(e);
            break;
        }
    }
    if let Some(e) = failed {
        return Some(Err(e));
    }
    if printer.flush().is_err() {
        return Some(Ok(()));
    }
    None
}

/// Apply one steering line (`None`: stdin ended, release everything); true when stdout is gone.
fn steer_by<W: Write>(
    line: Option<String>,
    stdin: &mut Option<tokio::sync::mpsc::UnboundedReceiver<String>>,
    running: &proxy::RunningProxy,
    printer: &mut Printer<W>,
) -> bool {
    let outcome = match line {
        Some(line) => {
            steer::apply(&line, running.control(), &printer.held).map_err(|e| e.to_string())
        }
        None => {
            *stdin = None;
            steer::release_all(running.control());
            Err("stdin ended: intercept is off and every held message was forwarded".into())
        }
    };
    if let Err(message) = outcome {
        let ev = ProxyEvent::Notice { conn: 0, message };
        if printer.event(&ev, None).is_err() || printer.flush().is_err() {
            return true;
        }
    }
    false
}

/// After the proxy stopped: flush stdout, sync the recording, write the `--har` export.
fn finish<W: Write>(
    printer: &mut Printer<W>,
    recorder: &mut Option<proxy::tape::Tape>,
    args: &ProxyArgs,
) -> anyhow::Result<()> {
    let _ = printer.flush();
    if let Some(r) = recorder.as_mut() {
        let _ = r.sync();
    }
    if let (Some(path), Some(conns)) = (&args.har, &printer.har) {
        let (file, written, opened) = record::target::create_new_or_numbered(path, args.overwrite)?;
        write_har(file, &written, conns)?;
        if let Some(s) = opened.sentence(path) {
            eprintln!("wsdeck: {s}");
        }
    }
    Ok(())
}

/// The next steering line from stdin; never, when stdin is not read.
async fn next_line(
    stdin: &mut Option<tokio::sync::mpsc::UnboundedReceiver<String>>,
) -> Option<String> {
    match stdin {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// What the HAR export keeps of one connection.
struct HarConn {
    handshake: HandshakeInfo,
    frames: Vec<FrameRecord>,
}

/// Lines are written to stdout once this much is waiting (and whenever no event is waiting).
const OUT_CHUNK: usize = 1 << 16;

/// The JSON line printer. Lines are encoded straight into `line`, which goes to stdout in
/// chunks of [`OUT_CHUNK`] and at the end of every burst of events (`flush`), so a line shows
/// as soon as its message passed when traffic is sparse, and a flood costs a write(2) per
/// 64 KiB.
struct Printer<W: Write> {
    out: W,
    /// Lines not written yet.
    line: Vec<u8>,
    har: Option<BTreeMap<u64, HarConn>>,
    /// Held messages: seq → connection.
    held: HashMap<u64, u64>,
}

fn close_json(c: &Option<CloseInfo>) -> Value {
    match c {
        Some(c) => json!({"code": c.code, "reason": c.reason}),
        None => Value::Null,
    }
}

impl<W: Write> Printer<W> {
    fn event(
        &mut self,
        ev: &ProxyEvent,
        rec: Option<&mut proxy::tape::Tape>,
    ) -> anyhow::Result<()> {
        if let Some(t) = rec {
            t.observe(ev)?;
        }
        let now = || format_ts(SystemTime::now());
        match ev {
            ProxyEvent::Opened(o) => {
                jsonl::encode_handshake(&mut self.line, &o.client_leg, false)?;
                jsonl::encode_handshake(&mut self.line, &o.server_leg, false)?;
                if let Some(har) = &mut self.har {
                    har.insert(
                        o.conn,
                        HarConn {
                            handshake: o.server_leg.clone(),
                            frames: Vec::new(),
                        },
                    );
                }
            }
            ProxyEvent::Frames { conn, frames } => {
                for f in frames {
                    if !self.held.is_empty() {
                        self.held.remove(&f.record.seq);
                    }
                    jsonl::encode_frame(&mut self.line, &f.record)?;
                    if f.fragments > 1 {
                        // `…}\n` → `…,"fragments":N}\n`
                        self.line.truncate(self.line.len() - 2);
                        let _ = writeln!(self.line, ",\"fragments\":{}}}", f.fragments);
                    }
                }
                if let Some(c) = self.har.as_mut().and_then(|h| h.get_mut(conn)) {
                    c.frames.extend(frames.iter().map(|f| f.record.clone()));
                }
            }
            ProxyEvent::Held { conn, frame } => {
                self.held.insert(frame.seq, *conn);
                // The frame line's fields, so a script sees what it is steering.
                let mut one = Vec::new();
                jsonl::encode_frame(&mut one, frame)?;
                let mut v: Value = serde_json::from_slice(&one)?;
                v["type"] = "held".into();
                self.json(&v)?
            }
            ProxyEvent::Closed(c) => self.json(&json!({
                "type": "closed", "conn": c.conn, "ts": now(),
                "client": close_json(&c.client), "server": close_json(&c.server),
                "lost_held": c.lost_held,
            }))?,
            ProxyEvent::TunnelOpened {
                conn,
                client,
                target,
                kind,
            } => {
                let v = match kind {
                    TunnelKind::BlindTls => json!({
                        "type": "tunnel", "conn": conn, "ts": now(), "client": client.to_string(),
                        "target": target, "kind": "tls", "decrypted": false,
                    }),
                    TunnelKind::Http { method, url } => json!({
                        "type": "tunnel", "conn": conn, "ts": now(), "client": client.to_string(),
                        "target": target, "kind": "http", "method": method, "url": url,
                    }),
                };
                self.json(&v)?
            }
            ProxyEvent::TunnelClosed { conn, up, down } => self.json(&json!({
                "type": "tunnel_closed", "conn": conn, "ts": now(), "up": up, "down": down,
            }))?,
            ProxyEvent::Refused {
                client,
                status,
                message,
            } => self.json(&json!({
                "type": "refused", "ts": now(), "client": client.to_string(),
                "status": status, "message": message,
            }))?,
            ProxyEvent::Notice { conn, message } => self.json(&json!({
                "type": "notice", "conn": conn, "ts": now(), "message": message,
            }))?,
        }
        if self.line.len() >= OUT_CHUNK {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> anyhow::Result<()> {
        let r = self.out.write_all(&self.line);
        self.line.clear();
        r.context("cannot write to stdout")
    }

    /// Everything printed so far to stdout.
    fn flush(&mut self) -> anyhow::Result<()> {
        self.write_out()?;
        self.out.flush().context("cannot write to stdout")
    }

    fn json(&mut self, v: &Value) -> anyhow::Result<()> {
        serde_json::to_writer(&mut self.line, v)?;
        self.line.push(b'\n');
        Ok(())
    }
}

/// One HAR document, one entry per WebSocket connection (in connection order), of what the
/// proxy reported (its secrets hidden already, unless `--no-redact`).
fn write_har(
    file: std::fs::File,
    path: &Path,
    conns: &BTreeMap<u64, HarConn>,
) -> anyhow::Result<()> {
    let opts = record::har::HarOptions {
        redact: false,
        overwrite: false,
    };
    let mut doc: Option<Value> = None;
    for c in conns.values() {
        let one = record::har::to_har_with(&c.handshake, &c.frames, opts);
        let entries = one["log"]["entries"].clone();
        match &mut doc {
            None => doc = Some(one),
            Some(d) => {
                if let (Some(all), Some(more)) =
                    (d["log"]["entries"].as_array_mut(), entries.as_array())
                {
                    all.extend(more.iter().cloned());
                }
            }
        }
    }
    let doc = doc.unwrap_or_else(|| {
        json!({"log": {"version": "1.2",
            "creator": {"name": "wsdeck", "version": env!("CARGO_PKG_VERSION")},
            "pages": [], "entries": []}})
    });
    serde_json::to_writer_pretty(std::io::BufWriter::new(file), &doc)
        .with_context(|| format!("cannot write HAR file {}", path.display()))
}
