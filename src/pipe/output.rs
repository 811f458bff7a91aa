//! How received frames reach stdout (`--recv`): one frame per line, as text, hex, base64 or
//! a JSON object. On a terminal nothing is written that the terminal would obey.

use std::io::{self, BufWriter, Write};

use crate::codec::{base64, hex};
use crate::model::{Direction, FrameRecord, Opcode};

/// `--recv`: how each received frame is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RecvMode {
    /// Text frames as they are, binary frames as lowercase hex.
    #[default]
    Text,
    /// Every data frame as lowercase hex.
    Hex,
    /// Every data frame as base64.
    Base64,
    /// One JSON object per frame: opcode, len, data (base64 for binary, with "encoding"),
    /// and the code of a close frame.
    Json,
}

pub(super) struct Printer {
    out: BufWriter<io::Stdout>,
    mode: RecvMode,
    /// stdout is a terminal: controls are defused.
    sanitize: bool,
    pub(super) broken: bool,
}

impl Printer {
    pub(super) fn new(mode: RecvMode, sanitize: bool) -> Self {
        Printer {
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            mode,
            sanitize,
            broken: false,
        }
    }

    pub(super) fn frame(&mut self, f: &FrameRecord) {
        if self.broken || f.dir != Direction::ServerToClient {
            return;
        }
        let Some(line) = render(f, self.mode, self.sanitize) else {
            return;
        };
        let res = match line {
            Line::Raw(bytes) => self.out.write_all(bytes),
            Line::Owned(s) => self.out.write_all(s.as_bytes()),
        };
        if res.and_then(|()| self.out.write_all(b"\n")).is_err() {
            self.broken = true;
        }
    }

    pub(super) fn flush(&mut self) -> bool {
        if !self.broken && self.out.flush().is_err() {
            self.broken = true;
        }
        !self.broken
    }
}

enum Line<'a> {
    Raw(&'a [u8]),
    Owned(String),
}

/// The line printed for one received frame (`None`: not printed in this mode).
fn render(f: &FrameRecord, mode: RecvMode, sanitize: bool) -> Option<Line<'_>> {
    let data = matches!(f.opcode, Opcode::Text | Opcode::Binary);
    Some(match mode {
        RecvMode::Text => match f.opcode {
            Opcode::Text if sanitize => {
                Line::Owned(terminal_text(&String::from_utf8_lossy(&f.payload)))
            }
            Opcode::Text => Line::Raw(&f.payload),
            Opcode::Binary => Line::Owned(hex(&f.payload)),
            _ => return None,
        },
        RecvMode::Hex if data => Line::Owned(hex(&f.payload)),
        RecvMode::Base64 if data => Line::Owned(base64(&f.payload)),
        RecvMode::Json => Line::Owned(json_line(f, sanitize)?),
        _ => return None,
    })
}

/// `{"opcode":"text","len":5,"data":"hello"}`; binary data as base64 with
/// `"encoding":"base64"`; a close frame's code and reason. Pings and pongs are left out.
fn json_line(f: &FrameRecord, sanitize: bool) -> Option<String> {
    let mut obj = serde_json::Map::new();
    let opcode = match f.opcode {
        Opcode::Text => "text",
        Opcode::Binary => "binary",
        Opcode::Close => "close",
        _ => return None,
    };
    obj.insert("opcode".into(), opcode.into());
    obj.insert("len".into(), f.len.into());
    match f.opcode {
        Opcode::Binary => {
            obj.insert("data".into(), base64(&f.payload).into());
            obj.insert("encoding".into(), "base64".into());
        }
        _ => {
            if let Some(c) = &f.close {
                obj.insert("code".into(), c.code.into());
            }
            let text = String::from_utf8_lossy(&f.payload).into_owned();
            obj.insert("data".into(), text.into());
        }
    }
    let line = serde_json::Value::Object(obj).to_string();
    // serde_json escapes C0 controls; DEL and C1 are escaped too for a terminal.
    Some(if sanitize { escape_c1(&line) } else { line })
}

fn escape_c1(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Text for a terminal: one output line per line of the message (`\r\n` or `\n`), each
/// passed through the crate's sanitiser so nothing reaches the terminal as a control.
fn terminal_text(s: &str) -> String {
    crate::text::display_lines(s).join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CloseInfo;

    fn frame(opcode: Opcode, payload: &[u8]) -> FrameRecord {
        FrameRecord {
            seq: 1,
            conn: 1,
            at: std::time::SystemTime::UNIX_EPOCH,
            dir: Direction::ServerToClient,
            origin: Default::default(),
            opcode,
            len: payload.len(),
            payload: bytes::Bytes::copy_from_slice(payload),
            close: None,
            redacted: false,
            wire_len: None,
            fragments: None,
        }
    }

    fn line(f: &FrameRecord, mode: RecvMode, sanitize: bool) -> Option<String> {
        render(f, mode, sanitize).map(|l| match l {
            Line::Raw(b) => String::from_utf8_lossy(b).into_owned(),
            Line::Owned(s) => s,
        })
    }

    #[test]
    fn terminal_text_keeps_lines_and_defuses_escapes() {
        assert_eq!(
            terminal_text("ok\r\nnext\x1b]0;title\x07 \r end"),
            "ok\nnext␛]0;title␇ ␍ end"
        );
    }

    #[test]
    fn each_mode_prints_a_frame_on_one_line() {
        let bin = frame(Opcode::Binary, &[0xde, 0xad, 0xbe, 0xef]);
        let text = frame(Opcode::Text, b"hi\n\x1b[2J");
        assert_eq!(line(&bin, RecvMode::Text, false).unwrap(), "deadbeef");
        assert_eq!(line(&text, RecvMode::Hex, false).unwrap(), "68690a1b5b324a");
        assert_eq!(line(&bin, RecvMode::Base64, false).unwrap(), "3q2+7w==");
        let v: serde_json::Value =
            serde_json::from_str(&line(&bin, RecvMode::Json, false).unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"opcode":"binary","len":4,"data":"3q2+7w==","encoding":"base64"})
        );
        let j = line(&text, RecvMode::Json, true).unwrap();
        assert!(!j.contains('\n') && !j.contains('\x1b'), "{j}");
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["data"], "hi\n\x1b[2J");
        let mut close = frame(Opcode::Close, b"bye");
        close.close = Some(CloseInfo {
            code: 1000,
            reason: "bye".into(),
        });
        let v: serde_json::Value =
            serde_json::from_str(&line(&close, RecvMode::Json, false).unwrap()).unwrap();
        assert_eq!(v["code"], 1000);
        assert_eq!(v["opcode"], "close");
        assert!(line(&close, RecvMode::Text, false).is_none());
        assert!(line(&frame(Opcode::Ping, b""), RecvMode::Json, false).is_none());
    }

    #[test]
    fn c1_controls_are_escaped_for_a_terminal_only() {
        let f = frame(Opcode::Text, "a\u{9b}b\u{7f}".as_bytes());
        let j = line(&f, RecvMode::Json, true).unwrap();
        assert!(j.contains("\\u009b") && j.contains("\\u007f"), "{j}");
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["data"], "a\u{9b}b\u{7f}");
        assert!(line(&f, RecvMode::Json, false).unwrap().contains('\u{9b}'));
    }
}
