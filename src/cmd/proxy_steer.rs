//! Headless intercept: `wsdeck proxy --no-ui --intercept FILTER` prints each held message as
//! a `held` line and takes steering commands on stdin, one per line, so a script (or a person
//! at the terminal) does what the UI's keys do:
//!
//! - `forward SEQ`, `drop SEQ`, `edit SEQ TEXT` (TEXT, to the end of the line, replaces the
//!   payload; `edit SEQ` without it is refused, the message stays held), `empty SEQ` (forwards
//!   it with nothing in it: an empty message has to be asked for by name), `forward all`;
//! - `inject CONN c2s|s2c TEXT`: a text message to the server (`c2s`) or the client (`s2c`);
//! - `intercept FILTER` (a new rule), `intercept off`.
//!
//! A command that cannot be carried out is answered with a `notice` line. mitmdump users
//! expect a headless proxy never to stall traffic for good, so when stdin ends (EOF, or
//! `< /dev/null`), intercept turns off and every held message is forwarded, said in a
//! `notice` line.

use std::collections::HashMap;
use std::io::BufRead;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::model::{Direction, Opcode};
use crate::proxy::{self, Control, ProxyCommand};

/// Read stdin lines on a thread of their own (a blocking read never holds up the exit);
/// the channel closes when stdin ends.
pub(super) fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

const USAGE: &str = "commands: forward SEQ, drop SEQ, edit SEQ TEXT, empty SEQ, forward all, \
                     inject CONN c2s|s2c TEXT, intercept FILTER, intercept off";

/// Why a steering line was not carried out (said in a `notice` line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum SteerError {
    #[error("{0:?} is not a message number; {USAGE}")]
    NotSeq(String),
    #[error("no message {0} is held")]
    NotHeld(u64),
    /// `edit SEQ` with nothing after it: a slip far likelier than a wish to send nothing.
    #[error(
        "edit {0} has no text, so message {0} stays held: write edit {0} TEXT, or empty {0} to \
         forward it with nothing in it"
    )]
    NoText(u64),
    /// `what` ("not forwarded"): the held message's connection ended meanwhile.
    #[error("{0}: its connection is closed")]
    Closed(&'static str),
    #[error("{0:?} is not a connection number; {USAGE}")]
    NotConn(String),
    #[error("{0:?} is not a direction: c2s sends to the server, s2c to the client")]
    NotDir(String),
    #[error("nothing was sent: connection {0} is not open")]
    NotOpen(u64),
    #[error("the rule was not changed: {0}")]
    BadRule(crate::monitor::filter::FilterError),
    #[error("unknown command {0:?}; {USAGE}")]
    Unknown(String),
}

/// Carry out one stdin line. `held` maps each held message's seq to its connection.
pub(super) fn apply(
    line: &str,
    control: &Control,
    held: &HashMap<u64, u64>,
) -> Result<(), SteerError> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (verb, rest) = split_word(line.trim_start());
    let held_one = |arg: &str| -> Result<(u64, u64, String), SteerError> {
        let (seq, rest) = split_word(arg);
        let seq: u64 = seq
            .parse()
            .map_err(|_| SteerError::NotSeq(seq.to_string()))?;
        match held.get(&seq) {
            Some(conn) => Ok((*conn, seq, rest.to_string())),
            None => Err(SteerError::NotHeld(seq)),
        }
    };
    let sent = |ok: bool, what: &'static str| {
        if ok {
            Ok(())
        } else {
            Err(SteerError::Closed(what))
        }
    };
    match verb {
        "" => Ok(()),
        "forward" | "f" if rest.trim() == "all" => {
            control.send(ProxyCommand::ForwardAll { conn: None });
            Ok(())
        }
        "forward" | "f" => {
            let (conn, seq, _) = held_one(rest)?;
            sent(
                control.send(ProxyCommand::Forward { conn, seq }),
                "not forwarded",
            )
        }
        "drop" | "d" => {
            let (conn, seq, _) = held_one(rest)?;
            sent(
                control.send(ProxyCommand::Drop { conn, seq }),
                "not dropped",
            )
        }
        "edit" | "e" | "empty" => {
            let (conn, seq, text) = held_one(rest)?;
            if verb != "empty" && text.is_empty() {
                return Err(SteerError::NoText(seq));
            }
            let payload = Bytes::from(if verb == "empty" { String::new() } else { text });
            sent(
                control.send(ProxyCommand::Edit { conn, seq, payload }),
                "not edited",
            )
        }
        "inject" | "i" => inject(rest, control),
        "intercept" if rest.trim() == "off" => {
            control.set_intercept(None);
            Ok(())
        }
        "intercept" => {
            let rule = proxy::intercept_rule(rest).map_err(SteerError::BadRule)?;
            control.set_intercept(Some(rule));
            Ok(())
        }
        other => Err(SteerError::Unknown(other.to_string())),
    }
}

/// `inject CONN c2s|s2c TEXT`.
fn inject(rest: &str, control: &Control) -> Result<(), SteerError> {
    let (conn, rest) = split_word(rest);
    let (dir, text) = split_word(rest);
    let conn: u64 = conn
        .parse()
        .map_err(|_| SteerError::NotConn(conn.to_string()))?;
    let dir = match dir {
        "c2s" | "server" => Direction::ClientToServer,
        "s2c" | "client" => Direction::ServerToClient,
        other => return Err(SteerError::NotDir(other.to_string())),
    };
    let cmd = ProxyCommand::Inject {
        conn,
        dir,
        opcode: Opcode::Text,
        payload: Bytes::from(text.to_string()),
    };
    if control.send(cmd) {
        Ok(())
    } else {
        Err(SteerError::NotOpen(conn))
    }
}

/// stdin ended: nobody is left to steer, so nothing may stay held.
pub(super) fn release_all(control: &Control) {
    control.set_intercept(None);
    control.send(ProxyCommand::ForwardAll { conn: None });
}

/// The first word and the rest (one space after it taken off).
fn split_word(s: &str) -> (&str, &str) {
    match s.split_once(' ') {
        Some((w, rest)) => (w, rest),
        None => (s, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_once_and_keep_the_rest_as_typed() {
        assert_eq!(
            split_word("edit 12 two  spaces"),
            ("edit", "12 two  spaces")
        );
        assert_eq!(split_word("forward"), ("forward", ""));
        assert_eq!(split_word(""), ("", ""));
    }
}
