//! Command-line arguments (clap derive). The contract scripts and tests depend on.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::spec::AuthMethod;

/// A full-screen terminal WebSocket client and session monitor.
#[derive(Debug, Parser)]
#[command(name = "wsdeck", version, about, long_about = None)]
pub struct Cli {
    /// Write logs (tracing) to this file; `RUST_LOG` sets the level. Never to the screen.
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the embedded demo server on 127.0.0.1 and open the UI pointed at it.
    Demo(DemoArgs),
    /// Open the UI for URL with the login pane filled from the flags.
    Connect {
        #[command(flatten)]
        conn: ConnectArgs,
        #[command(flatten)]
        ui: UiArgs,
    },
    /// Run the demo server alone (the seed's protocol, plus pushes and broadcast).
    Serve(ServeArgs),
    /// No UI: log in, send stdin as frames (lines as text by default), print received frames.
    #[command(after_help = crate::pipe::EXIT_HELP)]
    Pipe(PipeArgs),
    /// Print the argon2 hash of a password for `serve --users-file` (the password is read
    /// from a no-echo prompt, or from stdin when it is not a terminal; never from arguments).
    HashPassword(HashPasswordArgs),
    /// Open a recorded session (--record FILE.jsonl, or a HAR file from wsdeck or Chrome)
    /// read-only in the monitor and chat.
    Replay {
        /// The JSONL recording or HAR file.
        file: std::path::PathBuf,
        #[command(flatten)]
        keep: KeepArgs,
    },
    /// Relay other clients' WebSocket connections and show every message: to URL (reverse
    /// proxy), or as an HTTP proxy for browsers when no URL is given (forward proxy).
    Proxy(ProxyArgs),
    /// Print the path and PEM of the local CA that `proxy --mitm` signs certificates with
    /// (created on first use).
    Ca,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout: `wsdeck man > wsdeck.1`; `wsdeck man proxy`
    /// for a subcommand's page; `--dir DIR` writes every page (wsdeck.1, wsdeck-connect.1, …).
    Man {
        /// The subcommand whose page to print.
        subcommand: Option<String>,
        /// Write every page into this directory instead.
        #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
        dir: Option<std::path::PathBuf>,
    },
}

/// Flags shared by `connect` and `pipe`.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// ws:// or wss:// URL of the server, or @NAME for a profile from the config file.
    pub url: String,
    /// User name for the login (the password comes from the pane or WSDECK_PASSWORD).
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    /// How to log in [default: first-message].
    #[arg(long, value_enum)]
    pub auth: Option<AuthMethod>,
    /// Text of the first-message login: {user}, {password}, and with --login-after the
    /// greeting's groups {1}, {name}; {password:json}, {user:url}, {x:raw} choose the
    /// escaping (a JSON template escapes for JSON by default) [default: {user}:{password}].
    #[arg(long)]
    pub login_template: Option<String>,
    /// Wait for a server message matching this regex before logging in (a challenge or
    /// greeting); its capture groups fill the template. Bounded by --login-timeout.
    #[arg(long, value_name = "REGEX")]
    pub login_after: Option<String>,
    /// How long the greeting (--login-after) and the login's verdict may each take
    /// [default: 10].
    #[arg(long, value_name = "SECS")]
    pub login_timeout: Option<f64>,
    /// Send this text frame after every (re)connect and login, before queued lines
    /// (repeatable; in order).
    #[arg(long = "on-connect", value_name = "TEXT")]
    pub on_connect: Vec<String>,
    /// As --on-connect, a binary frame given in hex (sent after the text ones).
    #[arg(long = "on-connect-hex", value_name = "HEX")]
    pub on_connect_hex: Vec<String>,
    /// Answer a server text message matching REGEX with REPLY ($1, ${name}: its groups),
    /// from the network task, without the UI (repeatable; the first match answers).
    #[arg(long = "auto-reply", value_name = "REGEX=REPLY")]
    pub auto_replies: Vec<String>,
    /// Openings and replies of a common protocol: socketio (sends 40, holds lines until the
    /// server's 40{…}, answers 2 with 3);
    /// mqtt (asks for the mqtt subprotocol; the monitor names MQTT packets).
    #[arg(long, value_enum)]
    pub preset: Option<crate::openings::Preset>,
    /// A reply matching this regex accepts the login [default: congratulation].
    #[arg(long)]
    pub login_ok: Option<String>,
    /// A reply matching this regex rejects the login [default: sorry|wrong].
    #[arg(long)]
    pub login_fail: Option<String>,
    /// Extra handshake header, 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Ask the server for this subprotocol (Sec-WebSocket-Protocol); repeat it or give a
    /// comma list to offer several, most preferred first.
    #[arg(long = "subprotocol", value_name = "NAME[,NAME…]")]
    pub subprotocols: Vec<String>,
    /// Do not offer permessage-deflate compression (offered by default, as browsers do).
    #[arg(long)]
    pub no_compression: bool,
    /// Largest message accepted (inflated): 64MiB, 512KiB or bytes; bigger ones close with
    /// 1009 [default: 64MiB].
    #[arg(long, value_name = "SIZE", value_parser = crate::fmt::parse_size)]
    pub max_message: Option<usize>,
    /// Accept any TLS certificate (wss:// only). Shown as a warning.
    #[arg(long)]
    pub insecure: bool,
    /// Trust the CA certificates in this PEM file instead of the system store (wss://).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM chain) for servers that ask for one (mutual TLS).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert, when it is not in the --cert file itself.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Go through this proxy: http://, https://, socks5:// or socks5h:// URL, with
    /// user:pass@ for a proxy that wants a login [default: from https_proxy, http_proxy,
    /// all_proxy and no_proxy, as curl reads them].
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,
    /// Connect directly, whatever the proxy environment variables or the profile say.
    #[arg(long)]
    pub no_proxy: bool,
    /// Write passwords and Authorization/Cookie values in clear to recordings and exports
    /// (instead of ***); the screen always shows ***.
    #[arg(long)]
    pub no_redact: bool,
    /// Config file with profiles [default: ~/.config/wsdeck/config.toml].
    #[arg(long, env = crate::config::CONFIG_ENV, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Follow redirects of the upgrade (301, 302, 303, 307, 308; at most 10), http(s):// as
    /// ws(s)://; to another host without the Authorization and Cookie headers and without
    /// the login [default: a redirect is shown with its Location, not followed].
    #[arg(long, short = 'L')]
    pub location: bool,
    /// Do not reconnect after an unexpected drop (by default wsdeck reconnects with backoff
    /// and logs in again).
    #[arg(long)]
    pub no_reconnect: bool,
    /// Give up reconnecting after N tries in a row (0: do not reconnect) [default: keep
    /// trying, with backoff up to 30 s, until Esc].
    #[arg(long, value_name = "N", conflicts_with = "no_reconnect")]
    pub reconnect_max: Option<u32>,
    /// Seconds between protocol pings (RTT is measured from the pongs; a peer silent for
    /// twice this, at least 10 s, counts as lost). 0 = no pings [default: 20].
    #[arg(long, value_name = "SECONDS")]
    pub ping_interval: Option<f64>,
    /// Write every frame (and the handshake) to FILE as JSON lines, as they pass.
    #[arg(long, value_name = "FILE.jsonl")]
    pub record: Option<std::path::PathBuf>,
    /// Write the session as a HAR 1.2 file (Chrome's WebSocket form) at exit.
    #[arg(long, value_name = "FILE.har")]
    pub har: Option<std::path::PathBuf>,
    /// Replace a --record or --har file that already exists (by default a recording gets
    /// this session appended and a HAR file goes to the next free name, x-1.har).
    #[arg(long)]
    pub overwrite: bool,
}

/// `pipe`: the connection flags plus how stdin and stdout carry frames.
#[derive(Debug, Clone, Args)]
pub struct PipeArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    /// How stdin becomes frames: each line a text frame (text), raw bytes as binary frames
    /// (binary), each line hex or base64 as a binary frame.
    #[arg(long, value_enum, default_value_t = crate::pipe::SendMode::Text, value_name = "MODE")]
    pub send: crate::pipe::SendMode,
    /// With --send binary: bytes per frame (the last one may be shorter) [default: each read
    /// of stdin, up to 64 KiB, is a frame].
    #[arg(long, value_name = "BYTES")]
    pub frame_size: Option<usize>,
    /// How received frames are printed, one per line: text (binary as hex), hex, base64, or
    /// json (opcode, len, data).
    #[arg(long, value_enum, default_value_t = crate::pipe::RecvMode::Text, value_name = "MODE")]
    pub recv: crate::pipe::RecvMode,
    /// Seconds our Close (when stdin ends) waits for the server's; without an answer the
    /// exit code is not 0.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub close_timeout: f64,
}

/// How much of a session the UI keeps in memory (a recording keeps everything).
#[derive(Debug, Clone, Args)]
pub struct KeepArgs {
    /// Keep at most this many frames in memory; older ones are dropped with a marker.
    #[arg(long, default_value_t = crate::record::store::DEFAULT_MAX_FRAMES, value_name = "N")]
    pub keep_frames: usize,
    /// Keep at most this many MiB of payload in memory.
    #[arg(long, default_value_t = crate::record::store::DEFAULT_MAX_BYTES >> 20, value_name = "MIB")]
    pub keep_mib: usize,
}

impl KeepArgs {
    /// (frames, bytes) for `App::set_frame_limits`.
    pub fn limits(&self) -> (usize, usize) {
        (
            self.keep_frames.max(1),
            self.keep_mib.max(1).saturating_mul(1 << 20),
        )
    }
}

/// Flags of the full-screen UI (`connect` and `demo`).
#[derive(Debug, Clone, Args)]
pub struct UiArgs {
    /// Play a scripted demo in the UI: typed text, keys, waits for replies (assets/demo.script).
    #[arg(long, value_name = "FILE")]
    pub script: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub keep: KeepArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Seconds between server pushes to each logged-in client (0 = off).
    #[arg(long, default_value_t = 5)]
    pub tick: u64,
    /// Record every frame to this JSONL file as it passes.
    #[arg(long, value_name = "FILE.jsonl")]
    pub record: Option<std::path::PathBuf>,
    /// Config file with snippets and profiles for the palette and login pane [default:
    /// ~/.config/wsdeck/config.toml].
    #[arg(long, env = crate::config::CONFIG_ENV, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Write the session as HAR 1.2 (Chrome's form) to this file on exit.
    #[arg(long, value_name = "FILE.har")]
    pub har: Option<std::path::PathBuf>,
    /// Replace a --record or --har file that already exists (by default a recording gets
    /// this session appended and a HAR file goes to the next free name, x-1.har).
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub ui: UiArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Log to stderr what the server does: -v connections, logins and closes (info), -vv
    /// debug, -vvv trace. Without it only warnings and errors; `RUST_LOG` overrides both.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Address to listen on: HOST:PORT, or PORT alone for 127.0.0.1 (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:5678", value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// The user name clients log in with (with --password-env; or use --users-file).
    #[arg(
        long,
        requires = "password_env",
        required_unless_present = "users_file",
        conflicts_with = "users_file"
    )]
    pub user: Option<String>,
    /// Name of the environment variable holding the password.
    #[arg(
        long,
        value_name = "VAR",
        requires = "user",
        conflicts_with = "users_file"
    )]
    pub password_env: Option<String>,
    /// File of `NAME:HASH` lines (argon2 hashes from `wsdeck hash-password`), instead of
    /// --user/--password-env.
    #[arg(long, value_name = "FILE")]
    pub users_file: Option<PathBuf>,
    /// Seconds between server pushes to each logged-in client (0 = off).
    #[arg(long, default_value_t = 5)]
    pub tick: u64,
    /// Do not relay each client's text to the others (only the seed's echo).
    #[arg(long)]
    pub no_broadcast: bool,
    /// Largest message and frame accepted (inflated); bigger ones are closed with 1009.
    #[arg(long, value_name = "BYTES", default_value_t = crate::server::DEFAULT_MAX_MESSAGE)]
    pub max_message: usize,
    /// Decline permessage-deflate (accepted by default, no window kept between messages).
    #[arg(long)]
    pub no_compression: bool,
    /// Connections served at once; more are answered 503.
    #[arg(long, value_name = "N", default_value_t = crate::server::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// A client silent this long is closed with 1001 (pinged at half of it); 0 = never.
    #[arg(long, value_name = "SECS", default_value_t = crate::server::DEFAULT_IDLE_TIMEOUT_SECS)]
    pub idle_timeout: u64,
    /// A connection not logged in this long after the upgrade is closed with 1008; 0 = never.
    #[arg(long, value_name = "SECS", default_value_t = crate::server::DEFAULT_LOGIN_TIMEOUT_SECS)]
    pub login_timeout: u64,
    /// Bound on the TLS handshake plus the HTTP upgrade.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = crate::server::DEFAULT_HANDSHAKE_TIMEOUT_SECS
    )]
    pub handshake_timeout: u64,
    /// Failed logins allowed per connection (with a growing delay); the next one gets 1008.
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::server::DEFAULT_MAX_LOGIN_ATTEMPTS
    )]
    pub max_login_attempts: u32,
    /// Failed logins one client address may make in 10 minutes, over all its connections;
    /// then its logins are refused with 1008 until those minutes pass. 0 = no limit.
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::server::DEFAULT_MAX_FAILURES_PER_IP
    )]
    pub max_failures_per_ip: u32,
    /// Accept browser handshakes only from this Origin (repeatable); others get 403.
    /// Clients sending no Origin (non-browsers) are not affected.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Serve wss:// with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Reverse mode: relay every client to this ws:// or wss:// URL (the client's path and
    /// query are kept). Without it wsdeck is an HTTP proxy (CONNECT, GET ws://…, plain HTTP).
    pub url: Option<String>,
    /// Address to listen on: HOST:PORT, or PORT alone for 127.0.0.1 (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// Allow a --listen address other than loopback (anyone who can reach it can use the
    /// proxy and see its traffic).
    #[arg(long)]
    pub allow_remote: bool,
    /// No UI: print one JSON line per message (and per connection event) to stdout.
    #[arg(long)]
    pub no_ui: bool,
    /// Write every connection's frames and handshakes to FILE as JSON lines, as they pass.
    #[arg(long, value_name = "FILE.jsonl")]
    pub record: Option<PathBuf>,
    /// Write a HAR 1.2 file at exit, one entry per WebSocket connection.
    #[arg(long, value_name = "FILE.har")]
    pub har: Option<PathBuf>,
    /// Replace a --record or --har file that already exists (by default a recording gets
    /// this session appended and a HAR file goes to the next free name, x-1.har).
    #[arg(long)]
    pub overwrite: bool,
    /// Forward mode: decrypt TLS inside CONNECT with certificates from wsdeck's local CA
    /// (see `wsdeck ca`); clients must trust that CA.
    #[arg(long)]
    pub mitm: bool,
    /// With --mitm: relay tunnels to hosts matching this regex (over `host:port`) without
    /// decrypting (repeatable).
    #[arg(long = "ignore-hosts", value_name = "REGEX")]
    pub ignore_hosts: Vec<String>,
    /// Hold the messages matching FILTER (the monitor's filter syntax, with dir:client or
    /// dir:server for the peer that sent it) until they are forwarded, edited or dropped;
    /// with --no-ui, `held` lines on stdout and steering commands on stdin.
    #[arg(long, value_name = "FILTER")]
    pub intercept: Option<String>,
    /// Accept any TLS certificate from wss:// servers.
    #[arg(long)]
    pub insecure: bool,
    /// Trust the CA certificates in this PEM file (instead of the system store) for wss://
    /// servers.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cacert: Option<PathBuf>,
    /// Shape of the login message whose password is hidden: a client's text of this shape,
    /// before the server's first reply matching --login-ok, shows {password} as ***
    /// [default: {user}:{password}].
    #[arg(long)]
    pub login_template: Option<String>,
    /// A server reply matching this regex ends the login [default: congratulation].
    #[arg(long)]
    pub login_ok: Option<String>,
    /// Hide what matches this regex in every message, both ways (its capture groups if it
    /// has any, else the whole match); repeatable.
    #[arg(long = "redact", value_name = "REGEX")]
    pub redact: Vec<String>,
    /// Write passwords and Authorization/Cookie values in clear to recordings and exports
    /// (instead of ***); the screen always shows ***.
    #[arg(long)]
    pub no_redact: bool,
    /// Largest message and frame relayed; a bigger one closes its sender with 1009.
    #[arg(long, value_name = "BYTES", default_value_t = crate::server::DEFAULT_MAX_MESSAGE)]
    pub max_message: usize,
    /// Client connections served at once; more are answered 503.
    #[arg(long, value_name = "N", default_value_t = crate::proxy::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Bound on a client's request plus the upgrade with its server.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = crate::server::DEFAULT_HANDSHAKE_TIMEOUT_SECS
    )]
    pub handshake_timeout: u64,
}

#[derive(Debug, Clone, Args)]
pub struct HashPasswordArgs {
    /// Print `USER:HASH`, a line ready for the users file.
    #[arg(long)]
    pub user: Option<String>,
}

impl ConnectArgs {
    /// The profile named by `@NAME`, if the URL is one.
    pub fn profile_name(&self) -> Option<&str> {
        self.url.strip_prefix('@')
    }

    /// What these flags say about the session, to lay over a profile or the defaults.
    pub fn overrides(&self) -> crate::spec::Overrides {
        crate::spec::Overrides {
            user: self.user.clone(),
            auth: self.auth,
            login_template: self.login_template.clone(),
            login_ok: self.login_ok.clone(),
            login_fail: self.login_fail.clone(),
            login_after: self.login_after.clone(),
            login_timeout: self.login_timeout,
            on_connect: self.on_connect.clone(),
            on_connect_hex: self.on_connect_hex.clone(),
            auto_replies: self.auto_replies.clone(),
            preset: self.preset,
            headers: self.headers.clone(),
            subprotocols: self.subprotocols.clone(),
            insecure: self.insecure,
            trust: crate::reach::Trust {
                cacert: self.cacert.clone(),
                cert: self.cert.clone(),
                key: self.key.clone(),
            },
            proxy: self.proxy.clone(),
            no_proxy: self.no_proxy,
            no_redact: self.no_redact,
            no_compression: self.no_compression,
            max_message: self.max_message,
            no_reconnect: self.no_reconnect,
            reconnect_max: self.reconnect_max,
            ping_interval: self.ping_interval,
            location: self.location,
        }
    }
}

/// `--listen` (`serve`, `proxy`): `HOST:PORT` with an IP address (`[::1]:8080` for IPv6) or
/// `localhost` (127.0.0.1) as HOST, or `PORT` / `:PORT` alone for 127.0.0.1. The error is
/// the sentence clap shows after the value.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    use std::net::{IpAddr, Ipv4Addr};
    const EXPECTED: &str = "--listen takes HOST:PORT, e.g. 127.0.0.1:8080 (HOST an IP address \
                            or localhost), or a bare PORT for 127.0.0.1";
    let t = s.trim();
    let port = |p: &str| -> Result<u16, String> {
        p.parse::<u16>().map_err(|_| match p.parse::<u64>() {
            Ok(_) => format!("port {p} is out of range: ports go from 0 to 65535"),
            Err(_) => format!("{p:?} is not a port number; {EXPECTED}"),
        })
    };
    let loopback = |p: &str| port(p).map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p));
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return loopback(t);
    }
    match t.rsplit_once(':') {
        Some(("", p)) => loopback(p),
        Some((host, p)) if host.eq_ignore_ascii_case("localhost") => loopback(p),
        Some((host, _)) if host.parse::<IpAddr>().is_err() && !host.starts_with('[') => Err(
            format!("{host:?} is not an IP address (nor localhost); {EXPECTED}"),
        ),
        // `::1:8080`: an IPv6 address without its brackets.
        Some((_, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            port(p)?;
            Err(format!("an IPv6 address goes in brackets, e.g. [::1]:{p}"))
        }
        _ => Err(EXPECTED.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_listen;

    #[test]
    fn listen_takes_host_port_a_bare_port_or_localhost() {
        let ok = |s: &str| parse_listen(s).unwrap().to_string();
        assert_eq!(ok("127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(ok("0.0.0.0:0"), "0.0.0.0:0");
        assert_eq!(ok("[::1]:8080"), "[::1]:8080");
        assert_eq!(ok("28091"), "127.0.0.1:28091");
        assert_eq!(ok(":28091"), "127.0.0.1:28091");
        assert_eq!(ok("localhost:28091"), "127.0.0.1:28091");
        assert_eq!(ok("LocalHost:0"), "127.0.0.1:0");
        let err = |s: &str| parse_listen(s).unwrap_err();
        let expected = "--listen takes HOST:PORT, e.g. 127.0.0.1:8080";
        for bad in ["", "localhost", "example.com:80", "1.2.3.4", ":", "a:b:c"] {
            assert!(err(bad).contains(expected), "{bad:?}: {}", err(bad));
        }
        assert_eq!(
            err("example.com:80"),
            "\"example.com\" is not an IP address (nor localhost); --listen takes HOST:PORT, \
             e.g. 127.0.0.1:8080 (HOST an IP address or localhost), or a bare PORT for 127.0.0.1"
        );
        assert_eq!(
            err("70000"),
            "port 70000 is out of range: ports go from 0 to 65535"
        );
        assert_eq!(
            err("localhost:http"),
            "\"http\" is not a port number; --listen takes HOST:PORT, e.g. 127.0.0.1:8080 \
             (HOST an IP address or localhost), or a bare PORT for 127.0.0.1"
        );
        assert_eq!(
            err("::1:8080"),
            "an IPv6 address goes in brackets, e.g. [::1]:8080"
        );
    }
}
