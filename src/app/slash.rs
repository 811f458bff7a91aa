//! Slash commands typed in the message input: `/ping`, `/close [CODE] [REASON]`,
//! `/send-file [--text|--binary] PATH`, `/hex HEX`, `/b64 BASE64`, `/clear`,
//! `/record on|off [FILE]`, `/export [FILE.har]`, `/help`.
//! `//text` sends `/text`; any other line is sent as typed.
//!
//! [`parse`] is pure and gives the line's [`Action`]; [`App::run_line`] applies it.

use std::path::PathBuf;

use super::action::{Action, Refused};
use super::{App, Command, NoteLevel};

/// Largest close reason: a close frame's payload is at most 125 bytes, 2 of them the code.
pub const MAX_CLOSE_REASON: usize = 123;

/// The commands, with their arguments and what they do (for `/help` and the key table).
pub const SLASH_COMMANDS: &[(&str, &str)] = &[
    ("/ping", "send a ping now (RTT shows in the monitor)"),
    (
        "/close [CODE] [REASON]",
        "close the connection (CODE 1000 or 3000–4999)",
    ),
    (
        "/send-file [--text|--binary] PATH",
        "send a file: binary unless it is plainly text (says which)",
    ),
    ("/hex HEX", "send a binary frame: /hex de ad be ef"),
    ("/b64 BASE64", "send a binary frame given in base64"),
    (
        "/clear",
        "clear the chat history (the monitor keeps frames)",
    ),
    ("/record on [FILE]", "record to FILE (or a dated .jsonl)"),
    ("/record off", "stop recording"),
    ("/export [FILE.har]", "export the session's frames as HAR"),
    ("/help", "show the keys"),
    ("//text", "send \"/text\" (a line starting with /)"),
];

/// Why a slash line was not understood; the message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashError(pub String);

impl std::fmt::Display for SlashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, SlashError> {
    Err(SlashError(msg.into()))
}

/// Parse one input line.
pub fn parse(line: &str) -> Result<Action, SlashError> {
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Action::Send(line.to_string()));
    };
    if rest.starts_with('/') {
        return Ok(Action::Send(rest.to_string()));
    }
    let (name, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let no_args = |cmd: Action| {
        if args.is_empty() {
            Ok(cmd)
        } else {
            err(format!("/{name} takes no arguments"))
        }
    };
    match name.to_ascii_lowercase().as_str() {
        "ping" => no_args(Action::Ping),
        "clear" => no_args(Action::ClearHistory),
        "help" | "?" => no_args(Action::Help),
        "close" => parse_close(args),
        "send-file" | "sendfile" => parse_send_file(args),
        "hex" => match crate::codec::decode_hex(args) {
            _ if args.is_empty() => err("usage: /hex de ad be ef (spaces optional)"),
            Ok(bytes) => Ok(Action::SendBinary(bytes)),
            Err(e) => err(format!("/hex: {e} — usage: /hex de ad be ef")),
        },
        "b64" | "base64" => match crate::codec::decode_base64(args) {
            _ if args.is_empty() => err("usage: /b64 BASE64 (sent as one binary frame)"),
            Ok(bytes) => Ok(Action::SendBinary(bytes)),
            Err(e) => err(format!("/b64: {e}")),
        },
        "record" => {
            let (what, file) = match args.find(char::is_whitespace) {
                Some(i) => (&args[..i], unquote(args[i..].trim())),
                None => (args, ""),
            };
            let file = (!file.is_empty()).then(|| PathBuf::from(file));
            match what.to_ascii_lowercase().as_str() {
                "on" | "start" => Ok(Action::Record { on: true, file }),
                "off" | "stop" if file.is_none() => Ok(Action::Record { on: false, file }),
                "off" | "stop" => err("/record off takes no file"),
                _ => err("usage: /record on [FILE.jsonl] | /record off"),
            }
        }
        "export" | "har" => {
            let file = unquote(args);
            Ok(Action::ExportHar(
                (!file.is_empty()).then(|| PathBuf::from(file)),
            ))
        }
        "" => err("a command name must follow / — /help lists them (// sends a literal /)"),
        _ => {
            let shown = crate::text::sanitize_line(name);
            let shown = crate::text::truncate(&shown, 24);
            err(format!(
                "unknown command /{shown} — /help lists them; //{shown} sends the text as typed"
            ))
        }
    }
}

/// `/send-file [--text|--binary] PATH`
fn parse_send_file(args: &str) -> Result<Action, SlashError> {
    use crate::model::SendAs;
    let usage = "usage: /send-file [--text|--binary] PATH";
    let (as_, rest) = match args.split_once(char::is_whitespace) {
        Some(("--text", rest)) => (SendAs::Text, rest.trim()),
        Some(("--binary", rest)) => (SendAs::Binary, rest.trim()),
        _ if args == "--text" || args == "--binary" => return err(usage),
        _ => (SendAs::Auto, args),
    };
    match unquote(rest) {
        "" => err(usage),
        p => Ok(Action::SendFile {
            path: PathBuf::from(p),
            as_,
        }),
    }
}

/// `/close [CODE] [REASON]`
fn parse_close(args: &str) -> Result<Action, SlashError> {
    if args.is_empty() {
        return Ok(Action::Close {
            code: 1000,
            reason: String::new(),
        });
    }
    let (code, reason) = match args.find(char::is_whitespace) {
        Some(i) => (&args[..i], args[i..].trim()),
        None => (args, ""),
    };
    let Ok(code) = code.parse::<u16>() else {
        return err(format!(
            "/close: {:?} is not a close code — usage: /close [CODE] [REASON], CODE 1000 or 3000–4999",
            crate::text::truncate(&crate::text::sanitize_line(code), 16)
        ));
    };
    if code != 1000 && !(3000..=4999).contains(&code) {
        return err(format!(
            "/close: code {code} cannot be sent — use 1000 (normal) or 3000–4999 (application codes)"
        ));
    }
    if reason.len() > MAX_CLOSE_REASON {
        return err(format!(
            "/close: the reason is {} bytes; a close frame holds at most {MAX_CLOSE_REASON}",
            reason.len()
        ));
    }
    Ok(Action::Close {
        code,
        reason: reason.to_string(),
    })
}

/// `"a b"` → `a b` (a path with spaces may be quoted, or not).
fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

impl App {
    /// Enter in the message input: the line's slash command, or the line sent. The line
    /// leaves the input (remembered for ↑ recall) once done; it stays when refused.
    pub(super) fn run_line(&mut self) -> Result<Vec<Command>, Refused> {
        let line = self.chat.input.value().to_string();
        if line.is_empty() {
            return Ok(Vec::new());
        }
        let action = match parse(&line) {
            Ok(a) => a,
            Err(e) => {
                // The line stays, selected: editing keys fix it, typing replaces it (so the
                // next command is not typed onto it).
                self.chat.input.select_all();
                self.notify(NoteLevel::Warn, e.0);
                return Err(Refused);
            }
        };
        let cmds = self.apply(action)?;
        self.chat.input.take();
        Ok(cmds)
    }

    /// `/record on|off`.
    pub(super) fn set_recording(
        &mut self,
        on: bool,
        file: Option<PathBuf>,
    ) -> Result<Vec<Command>, Refused> {
        match (on, self.recording().cloned()) {
            (true, Some(p)) => {
                self.notify(
                    NoteLevel::Warn,
                    format!("already recording to {}", p.display()),
                );
                Err(Refused)
            }
            (false, None) => {
                self.notify(NoteLevel::Warn, "not recording");
                Err(Refused)
            }
            (true, None) => match file {
                Some(path) => {
                    self.notify(
                        NoteLevel::Good,
                        format!("recording to {} (/record off stops)", path.display()),
                    );
                    self.monitor.set_recording(Some(path.clone()));
                    Ok(vec![Command::Record(Some(path))])
                }
                None => Ok(self.toggle_recording()),
            },
            (false, Some(_)) => Ok(self.toggle_recording()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Action {
        parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn bad(s: &str) -> String {
        parse(s).expect_err(s).0
    }

    #[test]
    fn plain_lines_and_escaped_slashes_are_sent() {
        assert_eq!(ok("hello"), Action::Send("hello".into()));
        assert_eq!(
            ok(" /not a command"),
            Action::Send(" /not a command".into())
        );
        assert_eq!(ok("//x"), Action::Send("/x".into()));
        assert_eq!(ok("///"), Action::Send("//".into()));
        assert_eq!(ok("//"), Action::Send("/".into()));
    }

    #[test]
    fn simple_commands() {
        assert_eq!(ok("/ping"), Action::Ping);
        assert_eq!(ok("/PING"), Action::Ping);
        assert_eq!(ok("/clear"), Action::ClearHistory);
        assert_eq!(ok("/help"), Action::Help);
        assert!(bad("/ping now").contains("takes no arguments"));
    }

    #[test]
    fn close_codes_are_checked() {
        assert_eq!(
            ok("/close"),
            Action::Close {
                code: 1000,
                reason: String::new()
            }
        );
        assert_eq!(
            ok("/close 4000 bye now"),
            Action::Close {
                code: 4000,
                reason: "bye now".into()
            }
        );
        assert_eq!(
            ok("/close 3000"),
            Action::Close {
                code: 3000,
                reason: String::new()
            }
        );
        assert!(bad("/close 1006").contains("1000 (normal) or 3000–4999"));
        assert!(bad("/close 2999").contains("cannot be sent"));
        assert!(bad("/close 5000").contains("cannot be sent"));
        assert!(bad("/close 99999").contains("not a close code"));
        assert!(bad("/close bye").contains("not a close code"));
        let long = format!("/close 1000 {}", "x".repeat(124));
        assert!(bad(&long).contains("at most 123"));
        let fits = format!("/close 1000 {}", "x".repeat(123));
        assert!(parse(&fits).is_ok());
    }

    #[test]
    fn send_file_takes_the_rest_of_the_line() {
        use crate::model::SendAs;
        let file = |p: &str, as_| Action::SendFile {
            path: p.into(),
            as_,
        };
        assert_eq!(ok("/send-file notes.txt"), file("notes.txt", SendAs::Auto));
        assert_eq!(
            ok("/send-file my notes.txt"),
            file("my notes.txt", SendAs::Auto)
        );
        assert_eq!(
            ok("/send-file \"my notes.txt\""),
            file("my notes.txt", SendAs::Auto)
        );
        assert_eq!(
            ok("/send-file --binary a.txt"),
            file("a.txt", SendAs::Binary)
        );
        assert_eq!(ok("/send-file --text a.bin"), file("a.bin", SendAs::Text));
        assert!(bad("/send-file --text").contains("usage"));
        assert_eq!(
            ok("/hex de ad BE EF"),
            Action::SendBinary(vec![0xde, 0xad, 0xbe, 0xef])
        );
        assert_eq!(ok("/hex 0102"), Action::SendBinary(vec![1, 2]));
        assert!(bad("/hex 0g").contains("not a hex digit"));
        assert!(bad("/hex").contains("usage"));
        assert_eq!(
            ok("/b64 3q2+7w=="),
            Action::SendBinary(vec![0xde, 0xad, 0xbe, 0xef])
        );
        assert!(bad("/b64 ***").starts_with("/b64:"));
        assert!(bad("/send-file").contains("usage: /send-file [--text|--binary] PATH"));
        assert!(bad("/send-file   ").contains("usage"));
    }

    #[test]
    fn record_and_export() {
        assert_eq!(
            ok("/record on"),
            Action::Record {
                on: true,
                file: None
            }
        );
        assert_eq!(
            ok("/record on s.jsonl"),
            Action::Record {
                on: true,
                file: Some("s.jsonl".into())
            }
        );
        assert_eq!(
            ok("/record off"),
            Action::Record {
                on: false,
                file: None
            }
        );
        assert!(bad("/record").contains("usage: /record on"));
        assert!(bad("/record maybe").contains("usage"));
        assert!(bad("/record off x").contains("no file"));
        assert_eq!(ok("/export s.har"), Action::ExportHar(Some("s.har".into())));
        assert_eq!(ok("/export"), Action::ExportHar(None));
    }

    #[test]
    fn unknown_commands_say_how_to_send_them() {
        let e = bad("/frobnicate now");
        assert!(e.contains("unknown command /frobnicate"), "{e}");
        assert!(e.contains("//frobnicate"), "{e}");
        assert!(bad("/").contains("/help"));
        // Control characters in the name are not echoed raw.
        assert!(!bad("/a\u{1b}[2J").contains('\u{1b}'));
    }
}
