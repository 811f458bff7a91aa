//! What an application protocol needs from a client beyond the login: frames sent on every
//! (re)connect (`--on-connect`, `--on-connect-hex`), messages answered without the user
//! (`--auto-reply 'REGEX=REPLY'`), and presets for the common ones (`--preset socketio`,
//! `--preset mqtt`).

use regex::Regex;

use crate::model::Opcode;

/// A frame sent after every (re)connect and login, before queued lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub opcode: Opcode,
    pub payload: Vec<u8>,
}

/// A text message from the server matching `re` is answered with `reply` (`$1`, `${name}`
/// are its capture groups) by the network task itself.
#[derive(Debug, Clone)]
pub struct AutoReply {
    pub re: Regex,
    pub reply: String,
}

/// Why an `--auto-reply` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutoReplyError {
    #[error("--auto-reply {0:?} has no '=': write REGEX=REPLY, e.g. '^2$=3'")]
    NoEquals(String),
    #[error("--auto-reply: {0:?} is not a valid regex: {1}")]
    BadRegex(String, String),
}

impl AutoReply {
    /// `REGEX=REPLY`, split at the first `=` that is not inside the regex's brackets… kept
    /// simple: the first `=` (a regex needing `=` writes `\x3d`).
    pub fn parse(s: &str) -> Result<AutoReply, AutoReplyError> {
        let (re, reply) = s
            .split_once('=')
            .ok_or_else(|| AutoReplyError::NoEquals(s.to_string()))?;
        let re =
            Regex::new(re).map_err(|e| AutoReplyError::BadRegex(re.to_string(), e.to_string()))?;
        Ok(AutoReply {
            re,
            reply: reply.to_string(),
        })
    }
}

/// The reply the first matching rule gives to `text`, if any. Inlined: with no rules (nearly
/// every session) it costs a length check per message.
#[inline]
pub fn reply_to(rules: &[AutoReply], text: &str) -> Option<String> {
    rules.iter().find_map(|r| {
        r.re.captures(text).map(|caps| {
            let mut out = String::new();
            caps.expand(&r.reply, &mut out);
            out
        })
    })
}

/// The server's answer to the openings that must come before anything else is sent: lines
/// typed meanwhile wait for it (socket.io drops a client whose event comes before the
/// namespace is open).
#[derive(Debug, Clone)]
pub struct OpeningAck {
    /// The answer that opens the session (socket.io: `40{"sid":…}`).
    pub ok: Regex,
    /// An answer that refuses it (socket.io: `44{"message":…}`).
    pub fail: Option<Regex>,
    /// What the answer is, for the sentences ("socket.io's 40 (the namespace opened)").
    pub what: &'static str,
}

/// Built-in openings and replies for protocols people run over WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// socket.io 4 (Engine.IO 4): open the default namespace with `40` on every connect,
    /// send nothing else until the server answers `40{"sid":…}`, and answer the server's
    /// ping `2` with `3`, so the session is not dropped after `pingTimeout`. Connect to `ws://HOST/socket.io/?EIO=4&transport=websocket`.
    Socketio,
    /// MQTT over WebSocket (mosquitto, EMQX, HiveMQ): asks for the `mqtt` subprotocol unless
    /// `--subprotocol` names one, so the monitor names the control packets (CONNECT,
    /// PUBLISH topic, SUBSCRIBE, PINGREQ…). It sends and answers nothing: the CONNECT is the
    /// user's (`--on-connect-hex`), and MQTT's keep-alive PINGREQ is the client's to send.
    Mqtt,
}

impl Preset {
    /// Add the preset's frames and replies (before the user's own replies, after their
    /// openings), and the answer its openings wait for.
    pub fn apply(
        self,
        openings: &mut Vec<Opening>,
        replies: &mut Vec<AutoReply>,
        ack: &mut Option<OpeningAck>,
    ) {
        match self {
            Preset::Mqtt => {}
            Preset::Socketio => {
                *ack = Some(OpeningAck {
                    ok: Regex::new("^40").expect("valid regex"),
                    fail: Some(Regex::new("^44").expect("valid regex")),
                    what: "socket.io's 40 (the namespace opened)",
                });
                openings.insert(
                    0,
                    Opening {
                        opcode: Opcode::Text,
                        payload: b"40".to_vec(),
                    },
                );
                replies.insert(
                    0,
                    AutoReply {
                        re: Regex::new("^2$").expect("valid regex"),
                        reply: "3".into(),
                    },
                );
            }
        }
    }
}

impl Preset {
    /// The subprotocol the preset asks for when the user names none.
    pub fn subprotocol(self) -> Option<&'static str> {
        match self {
            Preset::Mqtt => Some("mqtt"),
            Preset::Socketio => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_use_the_first_matching_rule_and_its_groups() {
        let rules = vec![
            AutoReply::parse("^2$=3").unwrap(),
            AutoReply::parse(r"^ping (?P<n>\d+)$=pong ${n}").unwrap(),
        ];
        assert_eq!(reply_to(&rules, "2").as_deref(), Some("3"));
        assert_eq!(reply_to(&rules, "ping 17").as_deref(), Some("pong 17"));
        assert_eq!(reply_to(&rules, "22"), None);
        assert!(matches!(
            AutoReply::parse("nothing"),
            Err(AutoReplyError::NoEquals(_))
        ));
        let e = AutoReply::parse("(=x").unwrap_err().to_string();
        assert!(e.contains("not a valid regex"), "{e}");
    }

    #[test]
    fn the_socketio_preset_opens_the_namespace_and_answers_pings() {
        let (mut o, mut r) = (Vec::new(), Vec::new());
        let mut ack = None;
        Preset::Socketio.apply(&mut o, &mut r, &mut ack);
        assert!(ack.is_some_and(|a| a.ok.is_match(r#"40{"sid":"x"}"#)));
        assert_eq!(o[0].payload, b"40");
        assert_eq!(reply_to(&r, "2").as_deref(), Some("3"));
    }
}
