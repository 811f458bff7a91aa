//! MQTT control packets (3.1.1 and 5) carried in binary WebSocket messages (the `mqtt`
//! subprotocol), decoded by `rumqttc`'s `mqttbytes` (the rumqtt project's packet codec: the
//! fixed header is checked before anything is read, every length against what is there).
//!
//! The table's summary reads only the fixed header and, for PUBLISH, the topic — a bounded
//! prefix, whatever the message's size; small packets (CONNECT, SUBSCRIBE, acks) are decoded
//! whole for it. The detail pane decodes every packet of the message. A password in CONNECT
//! is never shown, only its length.

use super::Undecodable;
use bytes::BytesMut;
use rumqttc::mqttbytes::{self, FixedHeader, PacketType, QoS, v4};
use rumqttc::v5::mqttbytes::v5;

use super::tree::{Kind, Tree, bytes_value, count, printable, quoted};

/// Packets at most this large are decoded whole for the table's summary.
const SUMMARY_DECODE: usize = 1024;
/// Most packets of one message listed.
const MAX_PACKETS: usize = 1000;

fn name(t: PacketType) -> &'static str {
    match t {
        PacketType::Connect => "CONNECT",
        PacketType::ConnAck => "CONNACK",
        PacketType::Publish => "PUBLISH",
        PacketType::PubAck => "PUBACK",
        PacketType::PubRec => "PUBREC",
        PacketType::PubRel => "PUBREL",
        PacketType::PubComp => "PUBCOMP",
        PacketType::Subscribe => "SUBSCRIBE",
        PacketType::SubAck => "SUBACK",
        PacketType::Unsubscribe => "UNSUBSCRIBE",
        PacketType::UnsubAck => "UNSUBACK",
        PacketType::PingReq => "PINGREQ",
        PacketType::PingResp => "PINGRESP",
        PacketType::Disconnect => "DISCONNECT",
    }
}

/// The packet type of a first byte (15 is MQTT 5's AUTH, which `mqttbytes` v4 does not know).
fn type_name(byte1: u8) -> Option<&'static str> {
    if byte1 >> 4 == 15 {
        return Some("AUTH");
    }
    FixedHeader::new(byte1, 1, 0).packet_type().ok().map(name)
}

/// Bytes of the fixed header: the first byte and the remaining length's 1–4 bytes.
fn header_len(b: &[u8]) -> Option<usize> {
    let n = b.get(1..)?.iter().take(4).position(|x| x & 0x80 == 0)?;
    Some(n + 2)
}

/// The whole packets at the start of `b` and what is left (a packet the next message goes on
/// with, or bytes that are no packet).
fn split(b: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() && out.len() < MAX_PACKETS {
        let len = match mqttbytes::check(rest.iter(), usize::MAX) {
            Ok(h) => h.frame_length(),
            Err(_) => break,
        };
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    (out, rest)
}

/// A one-line summary for the table (`PUBLISH sensors/t1 · qos 1`), or `None` when the
/// message does not start with an MQTT packet. `level` is the protocol level the
/// connection's CONNECT named (5 reads the acks as MQTT 5), if known.
pub fn summary(b: &[u8], level: Option<u8>) -> Option<String> {
    let kind = type_name(*b.first()?)?;
    let hl = header_len(b)?;
    let whole = match mqttbytes::check(b.iter(), usize::MAX) {
        Ok(h) => Some(h.frame_length()),
        Err(mqttbytes::Error::InsufficientBytes(_)) => None,
        Err(_) => return None,
    };
    let mut s = kind.to_string();
    if b[0] >> 4 == 3 {
        // PUBLISH: the topic follows the fixed header (3.1.1 and 5 alike).
        let tl = u16::from_be_bytes([*b.get(hl)?, *b.get(hl + 1)?]) as usize;
        let topic = &b[(hl + 2).min(b.len())..(hl + 2 + tl.min(256)).min(b.len())];
        let topic = String::from_utf8_lossy(topic);
        s.push(' ');
        s.push_str(&topic);
        if tl > 256 {
            s.push('…');
        }
        let qos = (b[0] >> 1) & 3;
        if qos > 0 {
            s.push_str(&format!(" · qos {qos}"));
        }
        if b[0] & 1 == 1 {
            s.push_str(" · retain");
        }
    } else if let Some(len) = whole.filter(|&l| l <= SUMMARY_DECODE)
        && let Some(more) = if level == Some(5) || connect_level(b) == Some(5) {
            brief_v5(&b[..len])
        } else {
            brief(&b[..len])
        }
    {
        s.push(' ');
        s.push_str(&more);
    }
    match whole {
        None => s.push_str(" · continues in the next message"),
        Some(len) if len < b.len() => {
            let (n, rest) = split(&b[len..]);
            if !n.is_empty() {
                s.push_str(&format!(" · +{} more", n.len()));
            }
            if !rest.is_empty() {
                s.push_str(" · …");
            }
        }
        Some(_) => {}
    }
    Some(s)
}

/// The table's words after the name for a small whole packet.
fn brief(p: &[u8]) -> Option<String> {
    match v4::Packet::read(&mut BytesMut::from(p), usize::MAX).ok()? {
        v4::Packet::Connect(c) => Some(format!(
            "{} · keep-alive {} s",
            quoted(&c.client_id),
            c.keep_alive
        )),
        v4::Packet::ConnAck(a) => Some(connack_v4(a.code).to_string()),
        v4::Packet::Subscribe(s) => Some(
            s.filters
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        v4::Packet::Unsubscribe(u) => Some(u.topics.join(", ")),
        v4::Packet::SubAck(a) => Some(
            a.return_codes
                .iter()
                .map(|c| match c {
                    v4::SubscribeReasonCode::Success(q) => format!("granted qos {}", *q as u8),
                    v4::SubscribeReasonCode::Failure => "refused".into(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        v4::Packet::PubAck(a) => Some(format!("id {}", a.pkid)),
        v4::Packet::PubRec(a) => Some(format!("id {}", a.pkid)),
        v4::Packet::PubRel(a) => Some(format!("id {}", a.pkid)),
        v4::Packet::PubComp(a) => Some(format!("id {}", a.pkid)),
        v4::Packet::UnsubAck(a) => Some(format!("id {}", a.pkid)),
        _ => None,
    }
}

/// The table's words for a small MQTT 5 packet.
fn brief_v5(p: &[u8]) -> Option<String> {
    match v5::Packet::read(&mut BytesMut::from(p), None).ok()? {
        v5::Packet::Connect(c, ..) => Some(format!(
            "{} · keep-alive {} s · MQTT 5",
            quoted(&c.client_id),
            c.keep_alive
        )),
        v5::Packet::ConnAck(a) => Some(words(format!("{:?}", a.code))),
        v5::Packet::Subscribe(s) => Some(
            s.filters
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        v5::Packet::Unsubscribe(u) => Some(u.filters.join(", ")),
        v5::Packet::SubAck(a) => Some(
            a.return_codes
                .iter()
                .map(|c| match c {
                    v5::SubscribeReasonCode::Success(q) => format!("granted qos {}", *q as u8),
                    other => words(format!("{other:?}")),
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        v5::Packet::Disconnect(d) => Some(words(format!("{:?}", d.reason_code))),
        v5::Packet::PubAck(a) => Some(format!("id {}", a.pkid)),
        _ => None,
    }
}

fn connack_v4(c: v4::ConnectReturnCode) -> &'static str {
    match c {
        v4::ConnectReturnCode::Success => "accepted",
        v4::ConnectReturnCode::RefusedProtocolVersion => "refused: protocol version",
        v4::ConnectReturnCode::BadClientId => "refused: client id",
        v4::ConnectReturnCode::ServiceUnavailable => "refused: server unavailable",
        v4::ConnectReturnCode::BadUserNamePassword => "refused: bad user name or password",
        v4::ConnectReturnCode::NotAuthorized => "refused: not authorized",
    }
}

fn qos(q: QoS) -> String {
    qos_n(q as u8)
}

fn qos_n(q: u8) -> String {
    format!("qos {q}")
}

/// `NotAuthorized` → `not authorized` (MQTT 5's reason codes, named by the codec).
fn words(debug: String) -> String {
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Every packet in the message as a tree: as MQTT 5 when `level` (the protocol level the
/// connection's CONNECT named) is 5 or the packet is a CONNECT saying 5, else as 3.1.1 —
/// or as 5 when it only reads as that.
pub fn decode(b: &[u8], level: Option<u8>) -> Result<Tree, Undecodable> {
    let (packets, rest) = split(b);
    if packets.is_empty() {
        return Err(match b.first().and_then(|&x| type_name(x)) {
            Some(n)
                if mqttbytes::check(b.iter(), usize::MAX).is_err() && header_len(b).is_some() =>
            {
                format!("a {n} packet that continues in the next message (or is cut short)").into()
            }
            _ => "it does not start with an MQTT packet".into(),
        });
    }
    let mut t = Tree::default();
    let many = packets.len() > 1;
    for p in packets {
        let d = usize::from(many);
        type Read = fn(&mut Tree, usize, &[u8]) -> bool;
        let order: [Read; 2] = if connect_level(p).or(level) == Some(5) {
            [v5_packet, v4_packet]
        } else {
            [v4_packet, v5_packet]
        };
        let ok = order.iter().any(|read| read(&mut t, d, p));
        if !ok {
            let n = type_name(p[0]).unwrap_or("packet");
            t.push(
                d,
                "",
                &format!("{n} · {} (does not decode: malformed)", bytes_value(p)),
                Kind::Note,
            );
        }
        if t.full() {
            break;
        }
    }
    if !rest.is_empty() {
        t.push(
            0,
            "",
            &format!("then {} that are no whole packet", bytes_value(rest)),
            Kind::Note,
        );
    }
    Ok(t)
}

/// The protocol level a CONNECT packet names (4: 3.1.1, 5: 5); `None` for other packets.
pub fn connect_level(p: &[u8]) -> Option<u8> {
    (p.first()? >> 4 == 1).then_some(())?;
    let hl = header_len(p)?;
    // "MQTT" (2-byte length + 4 bytes), then the level.
    p.get(hl + 6).copied()
}

fn payload_line(t: &mut Tree, d: usize, payload: &[u8]) -> bool {
    match printable(payload) {
        Some(s) if !s.is_empty() => t.push(d, "payload", &quoted(s), Kind::Str),
        _ => t.push(d, "payload", &bytes_value(payload), Kind::Bytes),
    }
}

/// A CONNECT's user name, and its password as its length only.
fn login_lines(t: &mut Tree, d: usize, user: &str, password_len: usize) {
    t.push(d, "user name", &quoted(user), Kind::Str);
    t.push(
        d,
        "password",
        &format!("*** ({password_len} B, not shown)"),
        Kind::Note,
    );
}

fn flags(retain: bool, dup: bool) -> &'static str {
    match (retain, dup) {
        (true, true) => " · retain · dup",
        (true, false) => " · retain",
        (false, true) => " · dup",
        (false, false) => "",
    }
}

fn v4_connect(t: &mut Tree, d: usize, c: v4::Connect) {
    t.push(d, "", "CONNECT · MQTT 3.1.1", Kind::Container);
    t.push(d + 1, "client id", &quoted(&c.client_id), Kind::Str);
    t.push(
        d + 1,
        "keep-alive",
        &format!("{} s", c.keep_alive),
        Kind::Num,
    );
    t.push(
        d + 1,
        "clean session",
        &c.clean_session.to_string(),
        Kind::Lit,
    );
    if let Some(l) = c.login {
        login_lines(t, d + 1, &l.username, l.password.len());
    }
    if let Some(w) = c.last_will {
        let will = format!("{} · {}{}", w.topic, qos(w.qos), flags(w.retain, false));
        t.push(d + 1, "will", &will, Kind::Container);
        payload_line(t, d + 2, &w.message);
    }
}

fn v4_packet(t: &mut Tree, d: usize, p: &[u8]) -> bool {
    let Ok(pkt) = v4::Packet::read(&mut BytesMut::from(p), usize::MAX) else {
        return false;
    };
    let head = |t: &mut Tree, s: &str| t.push(d, "", s, Kind::Container);
    let ack = |t: &mut Tree, name: &str, id: u16| head(t, &format!("{name} · packet id {id}"));
    match pkt {
        v4::Packet::Connect(c) => v4_connect(t, d, c),
        v4::Packet::ConnAck(a) => {
            head(t, &format!("CONNACK · {}", connack_v4(a.code)));
            t.push(
                d + 1,
                "session present",
                &a.session_present.to_string(),
                Kind::Lit,
            );
        }
        v4::Packet::Publish(m) => {
            head(
                t,
                &format!("PUBLISH · {}{}", qos(m.qos), flags(m.retain, m.dup)),
            );
            t.push(d + 1, "topic", &quoted(&m.topic), Kind::Str);
            if m.qos != QoS::AtMostOnce {
                t.push(d + 1, "packet id", &m.pkid.to_string(), Kind::Num);
            }
            payload_line(t, d + 1, &m.payload);
        }
        v4::Packet::Subscribe(s) => {
            let n = count(s.filters.len(), "filter", "filters");
            head(t, &format!("SUBSCRIBE · packet id {} · {n}", s.pkid));
            for f in &s.filters {
                t.push(d + 1, &quoted(&f.path), &qos(f.qos), Kind::Num);
            }
        }
        v4::Packet::SubAck(a) => {
            ack(t, "SUBACK", a.pkid);
            for (i, c) in a.return_codes.iter().enumerate() {
                let v = match c {
                    v4::SubscribeReasonCode::Success(q) => format!("granted {}", qos(*q)),
                    v4::SubscribeReasonCode::Failure => "refused".into(),
                };
                t.push(d + 1, &format!("[{i}]"), &v, Kind::Num);
            }
        }
        v4::Packet::Unsubscribe(u) => {
            ack(t, "UNSUBSCRIBE", u.pkid);
            for f in &u.topics {
                t.push(d + 1, "filter", &quoted(f), Kind::Str);
            }
        }
        v4::Packet::PubAck(a) => return ack(t, "PUBACK", a.pkid),
        v4::Packet::PubRec(a) => return ack(t, "PUBREC", a.pkid),
        v4::Packet::PubRel(a) => return ack(t, "PUBREL", a.pkid),
        v4::Packet::PubComp(a) => return ack(t, "PUBCOMP", a.pkid),
        v4::Packet::UnsubAck(a) => return ack(t, "UNSUBACK", a.pkid),
        v4::Packet::PingReq => return head(t, "PINGREQ · the client is alive"),
        v4::Packet::PingResp => return head(t, "PINGRESP · the broker answers"),
        v4::Packet::Disconnect => return head(t, "DISCONNECT"),
    };
    true
}

fn v5_connect(
    t: &mut Tree,
    d: usize,
    c: v5::Connect,
    will: Option<v5::LastWill>,
    login: Option<v5::Login>,
) {
    t.push(d, "", "CONNECT · MQTT 5", Kind::Container);
    t.push(d + 1, "client id", &quoted(&c.client_id), Kind::Str);
    t.push(
        d + 1,
        "keep-alive",
        &format!("{} s", c.keep_alive),
        Kind::Num,
    );
    t.push(d + 1, "clean start", &c.clean_start.to_string(), Kind::Lit);
    if let Some(l) = login {
        login_lines(t, d + 1, &l.username, l.password.len());
    }
    if let Some(w) = will {
        let topic = String::from_utf8_lossy(&w.topic);
        let will = format!("{topic} · {}{}", qos_n(w.qos as u8), flags(w.retain, false));
        t.push(d + 1, "will", &will, Kind::Container);
        payload_line(t, d + 2, &w.message);
    }
}

fn v5_packet(t: &mut Tree, d: usize, p: &[u8]) -> bool {
    let Ok(pkt) = v5::Packet::read(&mut BytesMut::from(p), None) else {
        return false;
    };
    let head = |t: &mut Tree, s: String| t.push(d, "", &format!("{s} · MQTT 5"), Kind::Container);
    match pkt {
        v5::Packet::Connect(c, will, login) => v5_connect(t, d, c, will, login),
        v5::Packet::ConnAck(a) => {
            head(t, format!("CONNACK · {}", words(format!("{:?}", a.code))));
            t.push(
                d + 1,
                "session present",
                &a.session_present.to_string(),
                Kind::Lit,
            );
        }
        v5::Packet::Publish(m) => {
            head(
                t,
                format!("PUBLISH · {}{}", qos_n(m.qos as u8), flags(m.retain, m.dup)),
            );
            t.push(
                d + 1,
                "topic",
                &quoted(&String::from_utf8_lossy(&m.topic)),
                Kind::Str,
            );
            if m.qos as u8 != 0 {
                t.push(d + 1, "packet id", &m.pkid.to_string(), Kind::Num);
            }
            if let Some(ct) = m.properties.as_ref().and_then(|p| p.content_type.as_ref()) {
                t.push(d + 1, "content type", &quoted(ct), Kind::Str);
            }
            payload_line(t, d + 1, &m.payload);
        }
        v5::Packet::Subscribe(s) => {
            head(t, format!("SUBSCRIBE · packet id {}", s.pkid));
            for f in &s.filters {
                t.push(d + 1, &quoted(&f.path), &qos_n(f.qos as u8), Kind::Num);
            }
        }
        v5::Packet::SubAck(a) => {
            head(t, format!("SUBACK · packet id {}", a.pkid));
            for (i, c) in a.return_codes.iter().enumerate() {
                let v = match c {
                    v5::SubscribeReasonCode::Success(q) => format!("granted {}", qos_n(*q as u8)),
                    other => words(format!("{other:?}")),
                };
                t.push(d + 1, &format!("[{i}]"), &v, Kind::Num);
            }
        }
        v5::Packet::Disconnect(x) => {
            return head(
                t,
                format!("DISCONNECT · {}", words(format!("{:?}", x.reason_code))),
            );
        }
        v5::Packet::PubAck(a) => {
            let reason = words(format!("{:?}", a.reason));
            return head(t, format!("PUBACK · packet id {} · {reason}", a.pkid));
        }
        _ => return head(t, type_name(p[0]).unwrap_or("packet").to_string()),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3.1.1 CONNECT from client `wsdeck-t`, keep-alive 60 s, user `bob`, password `s3cret`.
    pub fn connect() -> Vec<u8> {
        let mut v = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xc2, 0x00, 0x3c];
        for s in ["wsdeck-t", "bob", "s3cret"] {
            v.extend_from_slice(&(s.len() as u16).to_be_bytes());
            v.extend_from_slice(s.as_bytes());
        }
        let mut p = vec![0x10, v.len() as u8];
        p.extend(v);
        p
    }

    fn lines(t: &Tree) -> Vec<String> {
        t.lines
            .iter()
            .map(|n| format!("{}{} {}", "  ".repeat(n.depth as usize), n.key, n.value))
            .collect()
    }

    #[test]
    fn summaries_name_packets_and_publish_topics() {
        assert_eq!(
            summary(&connect(), None).unwrap(),
            "CONNECT \"wsdeck-t\" · keep-alive 60 s"
        );
        assert_eq!(
            summary(&[0x20, 0x02, 0x00, 0x00], None).unwrap(),
            "CONNACK accepted"
        );
        assert_eq!(summary(&[0xc0, 0x00], None).unwrap(), "PINGREQ");
        assert_eq!(summary(&[0xd0, 0x00], None).unwrap(), "PINGRESP");
        let publish = b"\x33\x0a\x00\x03a/b\x00\x07hi!";
        assert_eq!(
            summary(publish, None).unwrap(),
            "PUBLISH a/b · qos 1 · retain"
        );
        // Two packets in one message, and one cut short.
        assert_eq!(
            summary(b"\xc0\x00\xd0\x00", None).unwrap(),
            "PINGREQ · +1 more"
        );
        assert_eq!(
            summary(b"\x30\x20\x00\x03a/b", None).unwrap(),
            "PUBLISH a/b · continues in the next message"
        );
        // Not MQTT: a type-0 byte, or text.
        assert_eq!(summary(b"\x00\x00", None), None);
        assert_eq!(summary(b"", None), None);
    }

    #[test]
    fn an_mqtt_5_connection_reads_its_acks_as_mqtt_5() {
        // SUBACK, MQTT 5: packet id 1, no properties, one reason code (granted QoS 0).
        let suback = [0x90, 0x04, 0x00, 0x01, 0x00, 0x00];
        assert_eq!(summary(&suback, Some(5)).unwrap(), "SUBACK granted qos 0");
        // Read as 3.1.1, the property length looks like a second code.
        assert_eq!(
            summary(&suback, None).unwrap(),
            "SUBACK granted qos 0, granted qos 0"
        );
        let t = decode(&suback, Some(5)).unwrap();
        assert_eq!(lines(&t)[0], " SUBACK · packet id 1 · MQTT 5");
        // A CONNECT names its own level.
        let mut c = connect();
        c[8] = 5;
        assert_eq!(connect_level(&c), Some(5));
        assert_eq!(connect_level(&connect()), Some(4));
        assert_eq!(connect_level(&suback), None);
    }

    #[test]
    fn the_detail_never_shows_the_password() {
        let t = decode(&connect(), None).unwrap();
        let l = lines(&t);
        assert_eq!(l[0], " CONNECT · MQTT 3.1.1");
        assert!(l.contains(&"  client id \"wsdeck-t\"".to_string()), "{l:?}");
        assert!(
            l.contains(&"  password *** (6 B, not shown)".to_string()),
            "{l:?}"
        );
        assert!(!l.iter().any(|x| x.contains("s3cret")));
    }

    #[test]
    fn publish_payload_and_suback_codes() {
        let t = decode(b"\x32\x0a\x00\x03a/b\x00\x07hi!", None).unwrap();
        assert_eq!(
            lines(&t),
            [
                " PUBLISH · qos 1",
                "  topic \"a/b\"",
                "  packet id 7",
                "  payload \"hi!\""
            ]
        );
        let t = decode(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x80], None).unwrap();
        assert_eq!(
            lines(&t),
            [
                " SUBACK · packet id 1",
                "  [0] granted qos 0",
                "  [1] refused"
            ]
        );
        assert!(decode(b"hello", None).is_err());
    }
}
