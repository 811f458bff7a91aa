//! One session of the deck: its App, its network task and its recording.

use std::path::Path;

use tokio::time::Instant;

use crate::app::monitor::View;
use crate::app::{App, Command, Event, NoteLevel};
use crate::model::{ConnState, Direction, NetCommand, NetEvent, Opcode};
use crate::net::{self, SessionHandle};

/// Whether the loop goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

pub struct Tab {
    pub app: App,
    pub(crate) session: Option<SessionHandle>,
    /// The session's recording (and with `--har --no-redact`, the frames for the HAR).
    pub(crate) tape: crate::record::tape::Tape,
    /// Messages received while another tab was shown.
    pub unread: usize,
    /// Last terminal size, for tabs opened later.
    pub size: Option<(u16, u16)>,
    /// What the view layer keeps between this session's draws.
    pub view_cache: crate::ui::ViewCache,
    /// A recording that failed; reported at exit too.
    pub record_error: Option<String>,
    /// Next frame sequence number, so a reconnect never reuses one.
    next_seq: u64,
    /// The last connection id seen: a new session numbers its connections after it.
    last_conn: u64,
    /// Text the App asked to copy, for the loop's clipboard (`take_copies`).
    copies: Vec<String>,
}

impl Tab {
    pub fn new(app: App) -> Tab {
        Tab {
            app,
            session: None,
            tape: Default::default(),
            unread: 0,
            size: None,
            view_cache: crate::ui::ViewCache::default(),
            record_error: None,
            next_seq: 1,
            last_conn: 0,
            copies: Vec::new(),
        }
    }

    /// Feed one event to the App and carry out what it asks.
    pub fn update(&mut self, ev: Event) -> Flow {
        let mut flow = Flow::Continue;
        for cmd in self.app.update(ev) {
            if self.execute(cmd) == Flow::Quit {
                flow = Flow::Quit;
            }
        }
        flow
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        self.size = Some((w, h));
        // Paging knows the new size before the next draw.
        let area = ratatui::layout::Rect::new(0, 0, w, h);
        let _ = self.update(Event::Drawn(crate::ui::layout(&self.app, area)));
    }

    /// When the screen next changes with time alone: the monitor's stats of a live session
    /// (every second), a reconnect countdown (when its second turns). `None`: never.
    pub fn tick_in(&self, now: std::time::SystemTime) -> Option<std::time::Duration> {
        let countdown = self.app.redraw_after(now);
        let stats =
            (self.session.is_some() && self.app.view() == View::Monitor).then_some(super::TICK);
        match (countdown, stats) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Record to `path` from now on: appended to a recording already there, unless
    /// `overwrite`; a notice says which.
    pub fn start_recording(&mut self, path: &Path, overwrite: bool) {
        let answer = match self.tape.start(path, self.app.handshake(), overwrite) {
            Ok(opened) => {
                if let Some(s) = opened.sentence(path) {
                    let _ = self.update(Event::Notice(NoteLevel::Warn, s));
                }
                Event::Recording(Some(path.to_path_buf()))
            }
            Err(e) => {
                let _ = self.update(Event::Notice(NoteLevel::Error, format!("{e:#}")));
                Event::Recording(None)
            }
        };
        let _ = self.update(answer);
    }

    /// A batch of network events (drained).
    pub fn on_net(&mut self, batch: &mut Vec<NetEvent>, active: bool) -> Flow {
        let ended = batch.is_empty() || matches!(batch.last(), Some(NetEvent::Ended));
        if let Err(e) = self.tape.observe(batch) {
            let e = format!(
                "recording to {} stopped: {}; frames from now on are not recorded (r in the \
                 monitor starts a new recording)",
                e.path.display(),
                e.source
            );
            let _ = self.update(Event::RecordingFailed(e.clone()));
            self.record_error = Some(e);
        }
        let mut flow = Flow::Continue;
        for ev in batch.drain(..) {
            if let NetEvent::Frame(f) = &ev {
                self.next_seq = self.next_seq.max(f.seq + 1);
                self.last_conn = self.last_conn.max(f.conn);
                if !active
                    && f.dir == Direction::ServerToClient
                    && matches!(f.opcode, Opcode::Text | Opcode::Binary)
                {
                    self.unread += 1;
                }
            }
            if self.update(Event::Net(ev)) == Flow::Quit {
                flow = Flow::Quit;
            }
        }
        if ended {
            self.session = None;
        }
        flow
    }

    /// Carry out one command of this tab's App.
    pub fn execute(&mut self, cmd: Command) -> Flow {
        match cmd {
            Command::Connect(spec) => {
                if let Some(old) = self.session.take() {
                    let _ = old.commands.send(NetCommand::Close {
                        code: 1000,
                        reason: "reconnecting".into(),
                    });
                }
                self.session = Some(net::spawn_numbered(spec, self.next_seq, self.last_conn));
            }
            Command::Net(c) => {
                if let Some(s) = &self.session {
                    let _ = s.commands.send(c);
                }
            }
            // `/record on FILE` and `r` never replace a file: they append to it.
            Command::Record(Some(path)) => self.start_recording(&path, false),
            Command::Record(None) => {
                self.tape.stop();
                let _ = self.update(Event::Recording(None));
            }
            Command::ExportHar(path) => {
                // `/export FILE` and `e` never replace a file: a taken name gets a number.
                let notice = match self.export_har(&path, false) {
                    Ok((w, n)) => match w.opened.sentence(&path) {
                        None => (
                            NoteLevel::Good,
                            format!("HAR written: {} ({n} frames)", w.path.display()),
                        ),
                        Some(s) => (NoteLevel::Warn, format!("{s} ({n} frames)")),
                    },
                    Err(e) => (NoteLevel::Error, format!("{e:#}")),
                };
                let _ = self.update(Event::Notice(notice.0, notice.1));
            }
            Command::SendFile { path, as_ } => {
                let (level, text) = match (&self.session, read_for_send(&path, as_)) {
                    (None, _) => (NoteLevel::Warn, "not connected — file not sent".to_string()),
                    (Some(_), Err(e)) => (NoteLevel::Error, e.to_string()),
                    (Some(s), Ok((cmd, n, kind))) => {
                        let _ = s.commands.send(cmd);
                        (
                            NoteLevel::Good,
                            format!("sent {}: {n} bytes {kind}", path.display()),
                        )
                    }
                };
                let _ = self.update(Event::Notice(level, crate::text::sanitize_line(&text)));
            }
            Command::Copy(text) => self.copies.push(text),
            Command::Quit => return Flow::Quit,
            // Only a relayed connection's App asks for these (the proxy's runtime).
            Command::Proxy(_)
            | Command::Editor { .. }
            | Command::ToggleIntercept
            | Command::EditIntercept
            | Command::Back => {}
        }
        Flow::Continue
    }

    /// Text the App asked to put on the clipboard since the last call.
    pub fn take_copies(&mut self) -> Vec<String> {
        std::mem::take(&mut self.copies)
    }

    /// Write this session's frames and handshakes as HAR (a taken name gets a number unless
    /// `overwrite`); returns where it went and the number of frames.
    pub fn export_har(
        &self,
        path: &Path,
        overwrite: bool,
    ) -> anyhow::Result<(crate::record::har::Written, usize)> {
        let opts = crate::record::har::HarOptions {
            // The app's log holds what the screen shows: masked already.
            redact: false,
            overwrite,
        };
        let log = &self.app.source().log;
        let current = self.app.handshake().cloned().unwrap_or_default();
        let written = if log.handshakes().next().is_some() {
            crate::record::har::write_har_conns(path, log.handshakes(), log.store().iter(), opts)?
        } else {
            crate::record::har::write_har_with(path, &current, log.store().iter(), opts)?
        };
        Ok((written, log.store().len()))
    }

    /// Send Close 1000 if a session is open.
    pub fn begin_close(&mut self) {
        if let Some(s) = &self.session {
            let _ = s.commands.send(NetCommand::Close {
                code: 1000,
                reason: "bye".into(),
            });
        }
    }

    /// Take the session's last events until it ends or the deadline passes.
    pub async fn finish_close(&mut self, deadline: Instant) {
        let Some(mut s) = self.session.take() else {
            return;
        };
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, s.events.recv()).await {
            let _ = self.tape.observe(std::slice::from_ref(&ev));
            let ended = matches!(ev, NetEvent::Ended);
            let _ = self.app.update(Event::Net(ev));
            if ended {
                break;
            }
        }
    }

    /// One-word state for the tab bar.
    pub fn state(&self) -> &ConnState {
        self.app.conn()
    }
}

/// The largest file `/send-file` sends (the usual WebSocket frame limit).
pub const MAX_SEND_FILE: u64 = 16 * 1024 * 1024;

/// Why `/send-file` sends nothing (`file` as the user typed it).
#[derive(Debug, thiserror::Error)]
pub enum Unsendable {
    #[error("cannot read {file}: {source}")]
    Unreadable {
        file: String,
        source: std::io::Error,
    },
    #[error("{0} is a directory, not a file")]
    Directory(String),
    /// A FIFO or device could block or never end.
    #[error("{0} is not a regular file")]
    NotRegular(String),
    #[error("{file} is {:.1} MiB; /send-file sends at most {} MiB", *.bytes as f64 / 1048576.0, MAX_SEND_FILE / 1024 / 1024)]
    TooBig { file: String, bytes: u64 },
    #[error(
        "{0} is not UTF-8 text, so it cannot go in a text frame — /send-file --binary sends it as it is"
    )]
    NotText(String),
}

/// Read a file for `/send-file`: a text frame when it is UTF-8, else binary. Returns the
/// command, the size and "text" / "binary", or why not.
pub fn read_for_send(
    path: &Path,
    as_: crate::model::SendAs,
) -> Result<(NetCommand, usize, &'static str), Unsendable> {
    use crate::model::SendAs;
    use std::io::Read;
    let shown = path.display().to_string();
    let path = expand_home(path);
    let unreadable = |source| Unsendable::Unreadable {
        file: shown.clone(),
        source,
    };
    let meta = std::fs::metadata(&path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(Unsendable::Directory(shown));
    }
    if !meta.is_file() {
        return Err(Unsendable::NotRegular(shown));
    }
    let too_big = |bytes| Unsendable::TooBig {
        file: shown.clone(),
        bytes,
    };
    if meta.len() > MAX_SEND_FILE {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_SEND_FILE + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_SEND_FILE {
        return Err(too_big(bytes.len() as u64));
    }
    let n = bytes.len();
    let text = match as_ {
        SendAs::Binary => false,
        SendAs::Text => true,
        SendAs::Auto => crate::model::looks_like_text(&bytes),
    };
    if !text {
        let why = match as_ {
            SendAs::Auto => "as a binary frame (it is not plain text; --text sends UTF-8 as text)",
            _ => "as a binary frame",
        };
        return Ok((NetCommand::SendBinary(bytes), n, why));
    }
    match String::from_utf8(bytes) {
        Ok(t) => {
            let why = match as_ {
                SendAs::Auto => "as a text frame (it reads as text; --binary sends it as binary)",
                _ => "as a text frame",
            };
            Ok((NetCommand::SendText(t), n, why))
        }
        Err(_) => Err(Unsendable::NotText(shown)),
    }
}

/// `~/x` → `$HOME/x`.
fn expand_home(path: &Path) -> std::path::PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(home) = std::env::var_os("HOME")
    {
        return std::path::PathBuf::from(home).join(rest);
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::SendAs;

    #[test]
    fn files_are_sent_as_the_user_says_else_binary_unless_plainly_text() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t.txt");
        std::fs::write(&t, "héllo\n").unwrap();
        let (cmd, n, kind) = read_for_send(&t, SendAs::Auto).unwrap();
        assert!(matches!(cmd, NetCommand::SendText(s) if s == "héllo\n"));
        assert_eq!(n, 7);
        assert!(
            kind.starts_with("as a text frame (it reads as text"),
            "{kind}"
        );
        let (cmd, _, kind) = read_for_send(&t, SendAs::Binary).unwrap();
        assert!(matches!(cmd, NetCommand::SendBinary(v) if v == "héllo\n".as_bytes()));
        assert_eq!(kind, "as a binary frame");
        let b = dir.path().join("b.bin");
        std::fs::write(&b, [0xff, 0x00, 0x01]).unwrap();
        let (cmd, _, kind) = read_for_send(&b, SendAs::Auto).unwrap();
        assert!(matches!(cmd, NetCommand::SendBinary(v) if v == [0xff, 0, 1]));
        assert!(
            kind.starts_with("as a binary frame (it is not plain text"),
            "{kind}"
        );
        let e = read_for_send(&b, SendAs::Text).unwrap_err().to_string();
        assert!(e.contains("not UTF-8") && e.contains("--binary"), "{e}");
        // An MQTT PUBLISH is valid UTF-8 but not text: binary.
        let mqtt = dir.path().join("publish.bin");
        std::fs::write(&mqtt, b"\x30\x0b\x00\x03a/bhello").unwrap();
        let (cmd, _, _) = read_for_send(&mqtt, SendAs::Auto).unwrap();
        assert!(matches!(cmd, NetCommand::SendBinary(_)));
    }

    #[test]
    fn unreadable_paths_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.txt");
        let e = read_for_send(&missing, SendAs::Auto)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read") && e.contains("nope.txt"), "{e}");
        let e = read_for_send(dir.path(), SendAs::Auto)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a directory"), "{e}");
        let big = dir.path().join("big.bin");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_SEND_FILE + 1).unwrap();
        let e = read_for_send(&big, SendAs::Auto).unwrap_err().to_string();
        assert!(e.contains("at most 16 MiB"), "{e}");
    }
}
