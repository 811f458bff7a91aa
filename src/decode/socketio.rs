//! socket.io over Engine.IO (protocol 4, and 3's text framing, which is the same), as text
//! messages: `2` is Engine.IO's ping, `42["chat","hi"]` a socket.io EVENT named `chat`.
//!
//! The packet header is a few ASCII fields before a JSON body — `<engine type><socket type>
//! [<attachments>-][<namespace>,][<ack id>]<JSON>` — read here in a few lines; the body is
//! parsed by `serde_json`. (The Rust socket.io crates parse for a server, without the
//! Engine.IO layer or CONNECT_ERROR, so none fits a monitor that sees both sides.)

use super::Undecodable;
use super::json;
use super::tree::{Kind, Tree, quoted};

/// The socket.io packet inside an Engine.IO `4` message.
struct Packet<'a> {
    kind: u8,
    attachments: Option<u64>,
    namespace: &'a str,
    ack: Option<u64>,
    /// The JSON body (possibly empty).
    data: &'a str,
}

fn engine_name(t: u8) -> Option<&'static str> {
    Some(match t {
        b'0' => "open",
        b'1' => "close",
        b'2' => "ping",
        b'3' => "pong",
        b'4' => "message",
        b'5' => "upgrade",
        b'6' => "noop",
        _ => return None,
    })
}

fn socket_name(t: u8) -> Option<&'static str> {
    Some(match t {
        b'0' => "CONNECT",
        b'1' => "DISCONNECT",
        b'2' => "EVENT",
        b'3' => "ACK",
        b'4' => "CONNECT_ERROR",
        b'5' => "BINARY_EVENT",
        b'6' => "BINARY_ACK",
        _ => return None,
    })
}

/// Digits at the start of `s` as a number, and the rest.
fn number(s: &str) -> (Option<u64>, &str) {
    let n = s.bytes().take(20).take_while(u8::is_ascii_digit).count();
    (s[..n].parse().ok(), &s[n..])
}

/// The socket.io packet after the Engine.IO `4`.
fn packet(s: &str) -> Option<Packet<'_>> {
    let kind = *s.as_bytes().first()?;
    socket_name(kind)?;
    let mut rest = &s[1..];
    let mut attachments = None;
    if matches!(kind, b'5' | b'6') {
        let (n, r) = number(rest);
        attachments = n;
        rest = r.strip_prefix('-').unwrap_or(r);
    }
    let mut namespace = "/";
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        namespace = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
    }
    let (ack, rest) = number(rest);
    Some(Packet {
        kind,
        attachments,
        namespace,
        ack,
        data: rest,
    })
}

/// The first string of a JSON array (an EVENT's name), read from a bounded prefix.
fn event_name(data: &str) -> Option<String> {
    let d = data.trim_start().strip_prefix('[')?.trim_start();
    if !d.starts_with('"') {
        return None;
    }
    let b = d.as_bytes();
    let mut j = 1;
    while j < b.len().min(512) && b[j] != b'"' {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    serde_json::from_str::<String>(d.get(..=j)?).ok()
}

/// A one-line summary for the table (`EVENT chat · ack 3`, `ping`), or `None` when the text
/// is not an Engine.IO packet.
pub fn summary(text: &str) -> Option<String> {
    let t = *text.as_bytes().first()?;
    let eng = engine_name(t)?;
    let rest = &text[1..];
    match t {
        b'2' | b'3' if rest == "probe" => Some(format!("{eng} probe")),
        b'4' => {
            let Some(p) = packet(rest) else {
                return Some("message".into());
            };
            let mut s = socket_name(p.kind)?.to_string();
            if let Some(name) = matches!(p.kind, b'2' | b'5')
                .then(|| event_name(p.data))
                .flatten()
            {
                s.push(' ');
                s.push_str(&name);
            }
            if p.namespace != "/" || matches!(p.kind, b'0' | b'1') {
                s.push(' ');
                s.push_str(p.namespace);
            }
            if let Some(a) = p.ack {
                s.push_str(&format!(" · ack {a}"));
            }
            if let Some(n) = p.attachments {
                s.push_str(&format!(
                    " · {n} binary attachment{}",
                    if n == 1 { "" } else { "s" }
                ));
            }
            Some(s)
        }
        // A ping, pong, close, upgrade or noop carries nothing else (3 carries no data either).
        _ if rest.is_empty() || t == b'0' => Some(eng.into()),
        _ => None,
    }
}

/// The packet as a tree.
pub fn decode(text: &str) -> Result<Tree, Undecodable> {
    let first = *text.as_bytes().first().ok_or("it is empty")?;
    let eng = engine_name(first).ok_or("it does not start with an Engine.IO packet type (0–6)")?;
    let rest = &text[1..];
    let mut t = Tree::default();
    if first != b'4' {
        t.push(
            0,
            "",
            &format!("Engine.IO {eng} ({})", first as char),
            Kind::Container,
        );
        if first == b'0' && !rest.is_empty() {
            json::push(&mut t, 1, "handshake", rest)?;
        } else if !rest.is_empty() {
            t.push(1, "data", &quoted(rest), Kind::Str);
        }
        return Ok(t);
    }
    let p = packet(rest).ok_or("an Engine.IO message that is no socket.io packet")?;
    let name = socket_name(p.kind).unwrap_or("packet");
    t.push(
        0,
        "",
        &format!(
            "socket.io {name} ({}) · Engine.IO message (4)",
            p.kind as char
        ),
        Kind::Container,
    );
    t.push(1, "namespace", &quoted(p.namespace), Kind::Str);
    if let Some(a) = p.ack {
        t.push(1, "ack id", &a.to_string(), Kind::Num);
    }
    if let Some(n) = p.attachments {
        t.push(
            1,
            "binary attachments",
            &format!("{n} (the next binary messages)"),
            Kind::Num,
        );
    }
    if p.data.is_empty() {
        return Ok(t);
    }
    match p.kind {
        b'2' | b'5' => match event_name(p.data) {
            Some(ev) => {
                t.push(1, "event", &quoted(&ev), Kind::Str);
                json::push_items(&mut t, 1, p.data, 1)?;
            }
            None => json::push(&mut t, 1, "data", p.data)?,
        },
        b'3' | b'6' => json::push_items(&mut t, 1, p.data, 0)?,
        b'0' => json::push(&mut t, 1, "auth", p.data)?,
        _ => json::push(&mut t, 1, "data", p.data)?,
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(t: &Tree) -> Vec<String> {
        t.lines
            .iter()
            .map(|n| format!("{}{} {}", "  ".repeat(n.depth as usize), n.key, n.value))
            .collect()
    }

    #[test]
    fn summaries_name_engine_and_socket_packets() {
        for (text, want) in [
            ("2", "ping"),
            ("3", "pong"),
            ("2probe", "ping probe"),
            ("0{\"sid\":\"x\",\"pingInterval\":300}", "open"),
            ("40", "CONNECT /"),
            ("40/admin,{\"token\":1}", "CONNECT /admin"),
            ("42[\"chat\",\"hi\"]", "EVENT chat"),
            ("42/admin,17[\"chat\",\"hi\"]", "EVENT chat /admin · ack 17"),
            ("4317[\"ok\"]", "ACK · ack 17"),
            ("44{\"message\":\"no\"}", "CONNECT_ERROR"),
            (
                "451-[\"up\",{\"_placeholder\":true,\"num\":0}]",
                "BINARY_EVENT up · 1 binary attachment",
            ),
            ("41", "DISCONNECT /"),
        ] {
            assert_eq!(summary(text).as_deref(), Some(want), "{text}");
        }
        assert_eq!(summary("hello"), None);
        assert_eq!(summary("2 and more"), None);
        assert_eq!(summary(""), None);
    }

    #[test]
    fn an_event_shows_its_name_and_arguments() {
        let t = decode("42/chat,5[\"msg\",{\"text\":\"hi\"},3]").unwrap();
        assert_eq!(
            lines(&t),
            [
                " socket.io EVENT (2) · Engine.IO message (4)",
                "  namespace \"/chat\"",
                "  ack id 5",
                "  event \"msg\"",
                "  [1] object · 1 key",
                "    \"text\" \"hi\"",
                "  [2] 3",
            ]
        );
        let t = decode("0{\"sid\":\"ab\"}").unwrap();
        assert_eq!(lines(&t)[0], " Engine.IO open (0)");
        assert!(decode("x").is_err());
        assert!(decode("42[broken").is_err());
    }
}
