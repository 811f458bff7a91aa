//! `wsdeck pipe URL`: no UI. Log in, send stdin as frames (each line a text frame by default;
//! see [`SendMode`]), print each received frame on its own line (text as it is, binary as
//! lowercase hex by default; see [`RecvMode`]), exit 0 on a clean close.
//!
//! stdout is buffered and flushed whenever the event channel is momentarily empty: a flood
//! costs few writes, and a script still sees each reply as soon as it arrived.
//!
//! Reconnecting: a lost connection (no Close frame, or the ping timeout) is reconnected like
//! in the UI (unless `--no-reconnect`); stdin is not read meanwhile, lines already handed to
//! the session are sent once after the new login, and a note goes to stderr. A Close frame
//! from the server ends the pipe: a script gets the server's decision as an exit code
//! ([`EXIT_CODES`]: a clean close, the server went away, retry later, a failure) rather than
//! a silent retry.
//!
//! Recording: `--record FILE.jsonl` gets the handshake and every frame as it passes (each
//! line handed to the OS at once); `--har FILE.har` is written at exit from the frames kept
//! in memory (the newest million, see [`FrameStore`]). Both redact secrets unless
//! `--no-redact`.

mod input;
mod output;

use std::io::{self, IsTerminal as _};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

pub use input::SendMode;
pub use output::RecvMode;

use crate::model::{
    ConnState, Direction, LoginOutcome, NetCommand, NetErrorKind, NetEvent, Opcode, Secret,
    close_code_name,
};
use crate::net::{self, clean_line};
use crate::record::redact::Masker;
use crate::record::tape::Tape;
use crate::spec::{AuthMethod, ConnectSpec, PASSWORD_ENV};
use output::Printer;

/// Events handled per batch.
const BATCH: usize = 512;
/// The server closed cleanly (1000), or stdin ended and the close handshake finished.
pub const EXIT_OK: i32 = 0;
/// A failure: refused, TLS, DNS, login rejected, a protocol error, a close code that says
/// something is wrong (1002, 1003, 1007, 1008, 1011, 4xxx…), a recording that failed.
pub const EXIT_FAILED: i32 = 1;
/// Bad flags, URL or profile.
pub const EXIT_USAGE: i32 = 2;
/// The server went away: 1001 Going Away, a Close without a status code (socket.io's), or
/// an open connection that dropped without a Close (reset, end of stream, ping timeout).
pub const EXIT_GONE: i32 = 3;
/// The server said to retry later: 1012 Service Restart, 1013 Try Again Later, or HTTP
/// 503/429 on the upgrade (its Retry-After is on stderr).
pub const EXIT_RETRY_LATER: i32 = 4;
/// Exit code when stdout went away (like a process killed by SIGPIPE).
const EXIT_BROKEN_PIPE: i32 = 141;

/// `pipe`'s exit codes and what each means (for `--help`, the man page and the README).
pub const EXIT_CODES: [(i32, &str); 6] = [
    (
        EXIT_OK,
        "the server closed with 1000, or stdin ended and the server answered our Close",
    ),
    (
        EXIT_FAILED,
        "a failure, said on stderr: refused (HTTP 4xx), DNS, TLS, login rejected, a protocol \
         error, a close code that says something is wrong (1002, 1003, 1007, 1008, 1011, 4xxx), \
         our Close not answered",
    ),
    (EXIT_USAGE, "bad flags, URL or profile"),
    (
        EXIT_GONE,
        "the server went away: 1001, a Close without a status code, or the connection dropped \
         without a Close (reset, end of stream, ping timeout; after --reconnect-max tries)",
    ),
    (
        EXIT_RETRY_LATER,
        "retry later: 1012 Service Restart, 1013 Try Again Later, HTTP 503 or 429 on the \
         upgrade (Retry-After is on stderr)",
    ),
    (EXIT_BROKEN_PIPE, "stdout was closed"),
];

/// `--help`'s text after the flags: [`EXIT_CODES`] in a fixed string (a test checks they
/// agree).
pub const EXIT_HELP: &str = "Exit codes: 0 clean close · 1 failure (refused, TLS, login \
rejected, protocol error, close codes 1002/1003/1007/1008/1011/4xxx) · 2 bad flags · 3 the \
server went away (1001, a Close without a code, a dropped connection) · 4 retry later (1012, \
1013, HTTP 503/429) · 141 stdout closed";

/// Why the pipe did not end cleanly: the sentence for stderr and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    why: String,
    code: i32,
}

impl Failure {
    fn failed(why: impl Into<String>) -> Failure {
        Failure {
            why: why.into(),
            code: EXIT_FAILED,
        }
    }
}

/// The exit code for a Close from the server with `code` (`None`: none at all).
fn close_exit(code: Option<u16>) -> i32 {
    match code {
        Some(1000) => EXIT_OK,
        None | Some(1001 | 1005 | 1006) => EXIT_GONE,
        Some(1012 | 1013) => EXIT_RETRY_LATER,
        Some(_) => EXIT_FAILED,
    }
}

/// The exit code for a failure; `opened`: a connection of this pipe had been open (so a
/// lost connection is the server going away, not a failure to reach it).
fn error_exit(kind: NetErrorKind, opened: bool) -> i32 {
    match kind {
        NetErrorKind::Http(503 | 429) => EXIT_RETRY_LATER,
        NetErrorKind::Io | NetErrorKind::Timeout | NetErrorKind::Refused | NetErrorKind::Dns
            if opened =>
        {
            EXIT_GONE
        }
        _ => EXIT_FAILED,
    }
}
/// After stdin ends, replies to the last lines may still be on their way (a server stops
/// sending once it sees our Close): wait until nothing arrived for this long…
const LINGER_QUIET: Duration = Duration::from_millis(300);
/// …but no longer than this in all, so a server that keeps pushing cannot hold us.
const LINGER_MAX: Duration = Duration::from_secs(3);
/// Default of `--close-timeout`: how long our Close waits for the server's answer (the UI
/// waits less: nobody scripts it).
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// What `wsdeck pipe` runs: the session (profile and flags already merged) and where it is
/// written.
#[derive(Debug, Clone)]
pub struct PipeOptions {
    pub spec: ConnectSpec,
    /// `--record FILE.jsonl` (or the profile's `record`).
    pub record: Option<std::path::PathBuf>,
    /// `--har FILE.har`, written at exit.
    pub har: Option<std::path::PathBuf>,
    /// `--send`: how stdin becomes frames.
    pub send: SendMode,
    /// `--frame-size`: bytes per frame of raw stdin (`--send binary`); `None`: each read.
    pub frame_size: Option<usize>,
    /// `--recv`: how received frames are printed.
    pub recv: RecvMode,
    /// `--close-timeout`: how long our Close waits for the server's answer.
    pub close_timeout: Duration,
    /// `--overwrite`: replace an existing record / HAR file.
    pub overwrite: bool,
}

/// Run `wsdeck pipe`; returns the process exit code. Failures are reported on stderr as one
/// line starting with `wsdeck: `.
pub async fn run_pipe(opts: PipeOptions) -> i32 {
    let PipeOptions {
        mut spec,
        record,
        har,
        send,
        frame_size,
        recv,
        close_timeout,
        overwrite,
    } = opts;
    spec.close_timeout = close_timeout;
    let password = std::env::var(PASSWORD_ENV).ok();
    if let Err(msg) = check_login(&mut spec, password) {
        eprintln!("wsdeck: {msg}");
        return EXIT_USAGE;
    }
    if spec.insecure {
        let tls = spec
            .url
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("wss:");
        if tls {
            eprintln!(
                "wsdeck: warning: --insecure: the server's TLS certificate is not checked, so \
                 anyone on the way can read and change this session"
            );
        } else {
            eprintln!(
                "wsdeck: warning: --insecure: a wss:// server's certificate would not be \
                 checked; this ws:// session has no TLS at all, so anyone on the way can read \
                 and change it"
            );
        }
    }
    let har_asked = har.clone();
    let mut tape = match Recording::open(record, har, overwrite) {
        Ok(t) => t,
        Err(msg) => {
            eprintln!("wsdeck: {msg}");
            return EXIT_USAGE;
        }
    };
    let mut printer = Printer::new(recv, io::stdout().is_terminal());
    let stdin = input::read_stdin(send, frame_size);
    let result = drive(spec, stdin, &mut printer, &mut tape).await;
    let flushed = printer.flush();
    let taped = tape.finish(har_asked.as_deref());
    match (result, taped) {
        (Err(f), _) => {
            eprintln!("wsdeck: {}", f.why);
            f.code
        }
        (Ok(()), Err(reason)) => {
            eprintln!("wsdeck: {reason}");
            EXIT_FAILED
        }
        (Ok(()), Ok(())) if flushed && !printer.broken => EXIT_OK,
        (Ok(()), Ok(())) => EXIT_BROKEN_PIPE,
    }
}

/// `--record` and `--har`: the session's [`Tape`], and the first recording error (the
/// recording stops there; the exit code fails).
struct Recording {
    tape: Tape,
    record_error: Option<String>,
}

impl Recording {
    fn open(
        record: Option<std::path::PathBuf>,
        har: Option<std::path::PathBuf>,
        overwrite: bool,
    ) -> Result<Recording, String> {
        let mut tape = Tape::default();
        if let Some(path) = &record {
            let opened = tape
                .start(path, None, overwrite)
                .map_err(|e| format!("{e:#}"))?;
            if let Some(s) = opened.sentence(path) {
                eprintln!("wsdeck: {s}");
            }
        }
        if let Some(path) = har {
            tape.keep_for_har(path, overwrite, None);
        }
        Ok(Recording {
            tape,
            record_error: None,
        })
    }

    /// Record a batch of events; a failed write is said now, stops the recording and fails
    /// the exit code.
    fn observe(&mut self, events: &[NetEvent]) {
        if let Err(e) = self.tape.observe(events) {
            eprintln!("wsdeck: {e} (recording stopped)");
            self.record_error.get_or_insert(e.to_string());
        }
    }

    /// Write the HAR file; report what went wrong with either file.
    fn finish(&mut self, har: Option<&std::path::Path>) -> Result<(), String> {
        let written = self.tape.finish_har().map_err(|e| format!("{e:#}"))?;
        if let (Some(w), Some(asked)) = (written, har)
            && let Some(s) = w.opened.sentence(asked)
        {
            eprintln!("wsdeck: {s}");
        }
        match self.record_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// What pipe mode lacks for the login (it cannot ask, as the login pane does).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum LoginMissing {
    #[error("--user is required with --auth {0} (use --auth none if the server needs no login)")]
    User(&'static str),
    #[error(
        "set {PASSWORD_ENV} to the password for --auth {0} (use --auth none if the server needs no login)"
    )]
    Password(&'static str),
}

/// Check that pipe mode has what the login needs; the password comes from the profile's
/// `password_env`, else `password` (WSDECK_PASSWORD).
fn check_login(spec: &mut ConnectSpec, password: Option<String>) -> Result<(), LoginMissing> {
    let needs_user = match spec.auth {
        AuthMethod::Basic => true,
        AuthMethod::FirstMessage => spec.login.uses_user(),
        _ => false,
    };
    if needs_user && spec.user.is_empty() {
        return Err(LoginMissing::User(spec.auth.label()));
    }
    if spec.auth != AuthMethod::None && spec.password.is_empty() {
        match password {
            Some(p) if !p.is_empty() => spec.password = Secret::new(p),
            _ => return Err(LoginMissing::Password(spec.auth.label())),
        }
    }
    Ok(())
}

/// Where the session stands, as pipe mode sees it.
#[derive(Default)]
struct Progress {
    logged_in: bool,
    /// We asked the session to close (stdin ended, login rejected, stdout gone).
    closing: bool,
    failure: Option<Failure>,
    /// A connection of this pipe got past the upgrade.
    opened: bool,
    /// The server sent a Close frame on the current connection.
    server_closed: bool,
    /// The session is reconnecting after a drop.
    reconnecting: bool,
}

async fn drive(
    spec: ConnectSpec,
    mut lines: mpsc::Receiver<input::Input>,
    printer: &mut Printer,
    tape: &mut Recording,
) -> Result<(), Failure> {
    // stderr is the screen: its sentences hide secrets even with --no-redact (which keeps
    // them in stdout and the files); with redaction on the events come masked already.
    let screen = spec.no_redact.then(|| Masker::for_spec(&spec));
    let net::SessionHandle {
        commands,
        mut events,
    } = net::spawn(spec);
    let mut stdin_open = true;
    let mut p = Progress::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut line_batch = Vec::with_capacity(BATCH);
    // Set once stdin ended: when to send the Close (see LINGER_QUIET).
    let mut linger: Option<Linger> = None;
    loop {
        let want_lines = p.logged_in && stdin_open && !p.closing;
        // Not while reconnecting: lines handed to the session still wait for the new login.
        let close_at = match &linger {
            Some(l) if !p.closing && p.logged_in => Some(l.close_at()),
            _ => None,
        };
        tokio::select! {
            n = events.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    // The session ended without saying so; treat it as a lost connection.
                    return Err(p.failure.unwrap_or_else(|| Failure {
                        why: "connection lost".into(),
                        code: EXIT_GONE,
                    }));
                }
                let mut ended = false;
                tape.observe(&batch);
                for mut ev in batch.drain(..) {
                    if let Some(m) = &screen
                        && matches!(
                            ev,
                            NetEvent::State(_) | NetEvent::Login(_) | NetEvent::Notice { .. }
                        )
                    {
                        m.event(&mut ev);
                    }
                    match (&mut linger, &ev) {
                        (Some(l), NetEvent::Frame(_)) => l.last_frame = Instant::now(),
                        // Logged in again: the replies to the queued lines are still to come.
                        (Some(l), NetEvent::State(ConnState::LoggedIn)) => {
                            let now = Instant::now();
                            *l = Linger { started: now, last_frame: now };
                        }
                        _ => {}
                    }
                    ended |= handle_event(ev, printer, &mut p, &commands);
                }
                if events.is_empty() {
                    printer.flush();
                }
                if printer.broken && !p.closing {
                    p.closing = true;
                    let _ = commands.send(close_normal());
                }
                if ended {
                    return match p.failure {
                        Some(f) => Err(f),
                        None => Ok(()),
                    };
                }
            }
            n = lines.recv_many(&mut line_batch, BATCH), if want_lines => {
                for item in line_batch.drain(..) {
                    match item {
                        Ok(frame) if stdin_open => {
                            let _ = commands.send(frame);
                        }
                        Ok(_) => {}
                        // A line that is not what --send says: stop there, close, fail.
                        Err(why) => {
                            p.failure.get_or_insert(Failure::failed(why));
                            stdin_open = false;
                            p.closing = true;
                            let _ = commands.send(close_normal());
                        }
                    }
                }
                if n == 0 {
                    stdin_open = false;
                    let now = Instant::now();
                    linger = Some(Linger { started: now, last_frame: now });
                }
            }
            () = sleep_until(close_at.unwrap_or_else(Instant::now)), if close_at.is_some() => {
                p.closing = true;
                let _ = commands.send(close_normal());
            }
        }
    }
}

/// The wait between the end of stdin and our Close.
struct Linger {
    started: Instant,
    last_frame: Instant,
}

impl Linger {
    fn close_at(&self) -> Instant {
        (self.last_frame + LINGER_QUIET).min(self.started + LINGER_MAX)
    }
}

fn close_normal() -> NetCommand {
    NetCommand::Close {
        code: 1000,
        reason: String::new(),
    }
}

/// Handle one event; true when it was the last.
fn handle_event(
    ev: NetEvent,
    printer: &mut Printer,
    p: &mut Progress,
    commands: &mpsc::UnboundedSender<NetCommand>,
) -> bool {
    match ev {
        NetEvent::Frame(f) => {
            if f.dir == Direction::ServerToClient && f.opcode == Opcode::Close {
                p.server_closed = true;
            }
            printer.frame(&f);
        }
        NetEvent::Login(LoginOutcome::Rejected { reply }) => {
            p.failure.get_or_insert_with(|| {
                Failure::failed(format!("login rejected: {}", clean_line(&reply)))
            });
            if !p.closing {
                p.closing = true;
                let _ = commands.send(close_normal());
            }
        }
        NetEvent::State(ConnState::LoggingIn | ConnState::AwaitingLogin) => p.opened = true,
        NetEvent::State(ConnState::LoggedIn) => {
            p.opened = true;
            if p.reconnecting {
                eprintln!("wsdeck: reconnected");
            }
            p.logged_in = true;
            p.reconnecting = false;
        }
        NetEvent::State(ConnState::Connecting) => p.server_closed = false,
        NetEvent::State(ConnState::Reconnecting {
            attempt,
            retry_at,
            reason,
            ..
        }) => {
            p.logged_in = false;
            if p.server_closed || p.closing {
                // The server's Close is its decision (see the module docs); a close of ours
                // must not turn into a retry either. The session ends with that close.
                let _ = commands.send(NetCommand::CancelReconnect);
            } else {
                let wait = retry_at
                    .duration_since(std::time::SystemTime::now())
                    .unwrap_or_default();
                let what = if p.reconnecting {
                    "reconnect failed: "
                } else {
                    ""
                };
                eprintln!(
                    "wsdeck: {what}{} — reconnecting in {:.1} s (attempt {attempt})",
                    clean_line(&reason),
                    wait.as_secs_f64()
                );
                p.reconnecting = true;
            }
        }
        NetEvent::State(ConnState::Failed(e)) => {
            let code = error_exit(e.kind, p.opened);
            p.failure.get_or_insert(Failure {
                why: e.message,
                code,
            });
        }
        NetEvent::State(ConnState::Closed { code, reason }) => closed(p, code, &reason, printer),
        NetEvent::Notice { text, .. } => eprintln!("wsdeck: {text}"),
        NetEvent::Ended => return true,
        _ => {}
    }
    false
}

/// The connection's last state: our Close answered, or the server's Close, fine or not.
fn closed(p: &mut Progress, code: Option<u16>, reason: &str, printer: &Printer) {
    if p.closing {
        // Our Close: exit 0 only if the server answered it (the handshake finished).
        if !p.server_closed && !printer.broken {
            p.failure.get_or_insert_with(|| {
                Failure::failed(format!(
                    "the close handshake did not finish: {}",
                    clean_line(reason)
                ))
            });
        }
        return;
    }
    // The server closed: fine if it said so normally.
    let exit = close_exit(code);
    if exit == EXIT_OK {
        return;
    }
    let what = match code {
        Some(c) if reason.is_empty() => format!("{c} {}", close_code_name(c)),
        Some(c) => format!("{c} {}: {}", close_code_name(c), clean_line(reason)),
        None => clean_line(reason),
    };
    p.failure.get_or_insert_with(|| Failure {
        why: format!("server closed the connection: {what}"),
        code: exit,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Overrides;

    fn pipe_spec(flags: Overrides, password: Option<String>) -> Result<ConnectSpec, String> {
        let mut spec = ConnectSpec::new("ws://127.0.0.1:5678");
        flags.apply(&mut spec).map_err(|e| e.to_string())?;
        check_login(&mut spec, password)
            .map(|()| spec)
            .map_err(|e| e.to_string())
    }

    fn user(u: &str) -> Overrides {
        Overrides {
            user: Some(u.into()),
            ..Overrides::default()
        }
    }

    fn auth(a: AuthMethod) -> Overrides {
        Overrides {
            auth: Some(a),
            ..Overrides::default()
        }
    }

    #[test]
    fn first_message_needs_a_user_and_a_password() {
        let err = pipe_spec(Overrides::default(), Some("pw".into())).unwrap_err();
        assert!(err.contains("--user is required"), "{err}");
        assert!(err.contains("--auth none"), "{err}");
        let err = pipe_spec(user("admin"), None).unwrap_err();
        assert!(err.contains(PASSWORD_ENV), "{err}");
        let spec = pipe_spec(user("admin"), Some("123456".into())).unwrap();
        assert_eq!(spec.password.expose(), "123456");
        assert_eq!(spec.user, "admin");
    }

    #[test]
    fn exit_codes_tell_a_clean_close_from_going_away_and_retry_later() {
        assert_eq!(close_exit(Some(1000)), EXIT_OK);
        for gone in [None, Some(1001), Some(1005), Some(1006)] {
            assert_eq!(close_exit(gone), EXIT_GONE, "{gone:?}");
        }
        assert_eq!(close_exit(Some(1012)), EXIT_RETRY_LATER);
        assert_eq!(close_exit(Some(1013)), EXIT_RETRY_LATER);
        assert_eq!(close_exit(Some(1008)), EXIT_FAILED);
        assert_eq!(close_exit(Some(4000)), EXIT_FAILED);
        assert_eq!(error_exit(NetErrorKind::Http(503), false), EXIT_RETRY_LATER);
        assert_eq!(error_exit(NetErrorKind::Http(429), true), EXIT_RETRY_LATER);
        assert_eq!(error_exit(NetErrorKind::Http(401), false), EXIT_FAILED);
        assert_eq!(error_exit(NetErrorKind::Refused, false), EXIT_FAILED);
        assert_eq!(error_exit(NetErrorKind::Io, true), EXIT_GONE);
        assert_eq!(error_exit(NetErrorKind::Protocol, true), EXIT_FAILED);
        // --help says the same codes.
        for (code, _) in EXIT_CODES {
            assert!(EXIT_HELP.contains(&format!("{code} ")), "{code}");
        }
    }

    #[test]
    fn bearer_needs_only_the_token_and_none_needs_nothing() {
        let spec = pipe_spec(auth(AuthMethod::Bearer), Some("tok".into())).unwrap();
        assert_eq!(spec.auth, AuthMethod::Bearer);
        assert!(pipe_spec(auth(AuthMethod::None), None).is_ok());
        assert!(pipe_spec(auth(AuthMethod::Basic), Some("x".into())).is_err());
    }
}
