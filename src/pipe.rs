//! `wsdeck pipe URL`: no UI. Log in, send each stdin line as a text frame, print each received
//! text frame on its own line (binary frames as lowercase hex), exit 0 on a clean close.
//!
//! stdout is buffered and flushed whenever the event channel is momentarily empty: a flood
//! costs few writes, and a script still sees each reply as soon as it arrived.

use std::io::{self, BufRead as _, BufWriter, IsTerminal as _, Write};

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use crate::cli::{ConnectArgs, PASSWORD_ENV};
use crate::model::{
    AuthMethod, ConnState, ConnectSpec, Direction, FrameRecord, LoginOutcome, NetCommand, NetEvent,
    Opcode, Secret, close_code_name,
};
use crate::net::{self, clean_line, push_visible};

/// Events handled per batch.
const BATCH: usize = 512;
/// stdin lines buffered ahead of the session.
const LINE_QUEUE: usize = 1024;
/// Exit code when stdout went away (like a process killed by SIGPIPE).
const EXIT_BROKEN_PIPE: i32 = 141;
/// After stdin ends, replies to the last lines may still be on their way (a server stops
/// sending once it sees our Close): wait until nothing arrived for this long…
const LINGER_QUIET: Duration = Duration::from_millis(300);
/// …but no longer than this in all, so a server that keeps pushing cannot hold us.
const LINGER_MAX: Duration = Duration::from_secs(3);

/// Run `wsdeck pipe`; returns the process exit code. Failures are reported on stderr as one
/// line starting with `wsdeck: `.
pub async fn run_pipe(args: ConnectArgs) -> i32 {
    let password = std::env::var(PASSWORD_ENV).ok();
    let spec = match pipe_spec(&args, password) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("wsdeck: {msg}");
            return 2;
        }
    };
    let stdout = io::stdout();
    let sanitize = stdout.is_terminal();
    let mut printer = Printer {
        out: BufWriter::with_capacity(64 * 1024, stdout),
        sanitize,
        broken: false,
    };
    let result = drive(spec, &mut printer).await;
    let flushed = printer.flush();
    match result {
        Ok(()) if flushed && !printer.broken => 0,
        Ok(()) => EXIT_BROKEN_PIPE,
        Err(reason) => {
            eprintln!("wsdeck: {reason}");
            1
        }
    }
}

/// Check the flags and the password for pipe mode.
fn pipe_spec(args: &ConnectArgs, password: Option<String>) -> Result<ConnectSpec, String> {
    let mut spec = args.to_spec().map_err(|e| format!("{e:#}"))?;
    let needs_user = matches!(spec.auth, AuthMethod::FirstMessage | AuthMethod::Basic);
    if needs_user && spec.user.is_empty() {
        return Err(format!(
            "--user is required with --auth {} (use --auth none if the server needs no login)",
            spec.auth.label()
        ));
    }
    if spec.auth != AuthMethod::None {
        match password {
            Some(p) if !p.is_empty() => spec.password = Secret::new(p),
            _ => {
                return Err(format!(
                    "set {PASSWORD_ENV} to the password for --auth {} (use --auth none if the \
                     server needs no login)",
                    spec.auth.label()
                ));
            }
        }
    }
    Ok(spec)
}

struct Printer {
    out: BufWriter<io::Stdout>,
    sanitize: bool,
    broken: bool,
}

impl Printer {
    fn frame(&mut self, f: &FrameRecord) {
        if self.broken || f.dir != Direction::Receive {
            return;
        }
        let res = match f.opcode {
            Opcode::Text if self.sanitize => {
                let text = terminal_text(&String::from_utf8_lossy(&f.payload));
                self.out.write_all(text.as_bytes())
            }
            Opcode::Text => self.out.write_all(&f.payload),
            Opcode::Binary => self.out.write_all(hex(&f.payload).as_bytes()),
            _ => return,
        };
        if res.and_then(|()| self.out.write_all(b"\n")).is_err() {
            self.broken = true;
        }
    }

    fn flush(&mut self) -> bool {
        if !self.broken && self.out.flush().is_err() {
            self.broken = true;
        }
        !self.broken
    }
}

/// Where the session stands, as pipe mode sees it.
#[derive(Default)]
struct Progress {
    logged_in: bool,
    /// We asked the session to close (stdin ended, login rejected, stdout gone).
    closing: bool,
    failure: Option<String>,
}

async fn drive(spec: ConnectSpec, printer: &mut Printer) -> Result<(), String> {
    let net::SessionHandle {
        commands,
        mut events,
    } = net::spawn(spec);
    let mut lines = read_stdin_lines();
    let mut stdin_open = true;
    let mut p = Progress::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut line_batch = Vec::with_capacity(BATCH);
    // Set once stdin ended: when to send the Close (see LINGER_QUIET).
    let mut linger: Option<Linger> = None;
    loop {
        let want_lines = p.logged_in && stdin_open && !p.closing;
        let close_at = match &linger {
            Some(l) if !p.closing => Some(l.close_at()),
            _ => None,
        };
        tokio::select! {
            n = events.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    // The session ended without saying so; treat it as a lost connection.
                    return Err(p.failure.unwrap_or_else(|| "connection lost".into()));
                }
                let mut ended = false;
                for ev in batch.drain(..) {
                    if let (Some(l), NetEvent::Frame(_)) = (&mut linger, &ev) {
                        l.last_frame = Instant::now();
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
                for line in line_batch.drain(..) {
                    let _ = commands.send(NetCommand::SendText(line));
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
        NetEvent::Frame(f) => printer.frame(&f),
        NetEvent::Login(LoginOutcome::Rejected { reply }) => {
            p.failure
                .get_or_insert_with(|| format!("login rejected: {}", clean_line(&reply)));
            if !p.closing {
                p.closing = true;
                let _ = commands.send(close_normal());
            }
        }
        NetEvent::State(ConnState::LoggedIn) => p.logged_in = true,
        NetEvent::State(ConnState::Failed(e)) => {
            p.failure.get_or_insert(e.message);
        }
        NetEvent::State(ConnState::Closed { code, reason }) if !p.closing => {
            // The server closed: fine if it said so normally.
            let clean = matches!(code, Some(1000 | 1001 | 1005));
            if !clean {
                let what = match code {
                    Some(c) if reason.is_empty() => format!("{c} {}", close_code_name(c)),
                    Some(c) => format!("{c} {}: {}", close_code_name(c), clean_line(&reason)),
                    None => clean_line(&reason),
                };
                p.failure
                    .get_or_insert_with(|| format!("server closed the connection: {what}"));
            }
        }
        NetEvent::Ended => return true,
        _ => {}
    }
    false
}

/// Read stdin on its own thread (a blocking read must not hold up exit), one line per item,
/// without the line ending. Invalid UTF-8 is replaced (a text frame must be UTF-8).
fn read_stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(LINE_QUEUE);
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match stdin.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if buf.ends_with(b"\n") {
                        buf.pop();
                        if buf.ends_with(b"\r") {
                            buf.pop();
                        }
                    }
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    if tx.blocking_send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Text for a terminal: line breaks kept (`\r\n` → `\n`), every other control made visible.
fn terminal_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => {}
            _ => push_visible(c, &mut out),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn args(extra: &[&str]) -> ConnectArgs {
        let mut argv = vec!["wsdeck", "pipe", "ws://127.0.0.1:5678"];
        argv.extend_from_slice(extra);
        match crate::cli::Cli::parse_from(argv).command {
            Some(crate::cli::Command::Pipe(a)) => a,
            other => panic!("not a pipe command: {other:?}"),
        }
    }

    #[test]
    fn first_message_needs_a_user_and_a_password() {
        let err = pipe_spec(&args(&[]), Some("pw".into())).unwrap_err();
        assert!(err.contains("--user is required"), "{err}");
        assert!(err.contains("--auth none"), "{err}");
        let err = pipe_spec(&args(&["--user", "admin"]), None).unwrap_err();
        assert!(err.contains(PASSWORD_ENV), "{err}");
        let spec = pipe_spec(&args(&["--user", "admin"]), Some("123456".into())).unwrap();
        assert_eq!(spec.password.expose(), "123456");
        assert_eq!(spec.user, "admin");
    }

    #[test]
    fn bearer_needs_only_the_token_and_none_needs_nothing() {
        let spec = pipe_spec(&args(&["--auth", "bearer"]), Some("tok".into())).unwrap();
        assert_eq!(spec.auth, AuthMethod::Bearer);
        assert!(pipe_spec(&args(&["--auth", "none"]), None).is_ok());
        assert!(pipe_spec(&args(&["--auth", "basic"]), Some("x".into())).is_err());
    }

    #[test]
    fn terminal_text_keeps_lines_and_defuses_escapes() {
        assert_eq!(
            terminal_text("ok\r\nnext\x1b]0;title\x07 \r end"),
            "ok\nnext␛]0;title␇ ␍ end"
        );
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f, 0xff]), "00ab7fff");
    }
}
