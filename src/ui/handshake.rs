//! The monitor's handshake panel: the upgrade as it crossed the wire, what it agreed to
//! (subprotocol, extensions, compression), the proxy it went through and the TLS session with
//! the server's certificate chain.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::monitor::wrap_styled;
use super::theme;
use crate::model::{HandshakeInfo, TlsInfo};
use crate::text::sanitize_line;

pub(super) fn handshake_lines(h: &HandshakeInfo, width: usize) -> Vec<Line<'static>> {
    // Masked as the app took it in (`record::redact::Masker`): credentials never show here.
    let mut out = Vec::new();
    let dim = theme::dim();
    let kv = |out: &mut Vec<Line<'static>>, k: &str, v: String| {
        out.extend(wrap_styled(
            vec![(format!("{k:<12}"), dim), (sanitize_line(&v), Style::new())],
            width,
        ));
    };
    kv(&mut out, "url", h.url.clone());
    if let (Some(a), Some(b)) = (h.started, h.finished) {
        let d = b.duration_since(a).unwrap_or_default();
        kv(
            &mut out,
            "took",
            format!("{:.1} ms", d.as_secs_f64() * 1000.0),
        );
    }
    let header = |hd: &crate::model::HttpHead, name: &str| {
        hd.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    kv(
        &mut out,
        "subprotocol",
        header(&h.response, "Sec-WebSocket-Protocol").unwrap_or_else(|| "none".into()),
    );
    kv(
        &mut out,
        "extensions",
        header(&h.response, "Sec-WebSocket-Extensions").unwrap_or_else(|| "none".into()),
    );
    // What an extension answer agreed to, read as the client reads it.
    if let Some(answer) = header(&h.response, "Sec-WebSocket-Extensions") {
        let offer = crate::wire::deflate::Offer::default();
        kv(
            &mut out,
            "compression",
            match crate::wire::deflate::Offer::accept(Some(&offer), &[answer.as_str()]) {
                Ok(Some(p)) => p.describe(),
                Ok(None) => "off".into(),
                Err(e) => e.0,
            },
        );
    }
    kv(
        &mut out,
        "proxy",
        h.proxy.clone().unwrap_or_else(|| "none (direct)".into()),
    );
    if let Some(tls) = &h.tls {
        tls_lines(&mut out, tls, width);
    }
    for (title, head) in [("Request", &h.request), ("Response", &h.response)] {
        out.push(Line::default());
        out.push(Line::from(Span::styled(
            title,
            theme::accent().add_modifier(Modifier::BOLD),
        )));
        out.extend(wrap_styled(
            vec![(sanitize_line(&head.start_line), theme::bold())],
            width,
        ));
        for (n, v) in &head.headers {
            let name_style = if n.to_ascii_lowercase().starts_with("sec-websocket") {
                theme::accent()
            } else {
                theme::bold()
            };
            out.extend(wrap_styled(
                vec![
                    (sanitize_line(n), name_style),
                    (": ".into(), dim),
                    (sanitize_line(v), Style::new()),
                ],
                width,
            ));
        }
    }
    out
}

/// The TLS session and the server's chain, one block per certificate.
fn tls_lines(out: &mut Vec<Line<'static>>, tls: &TlsInfo, width: usize) {
    let dim = theme::dim();
    let kv = |out: &mut Vec<Line<'static>>, k: &str, v: &str, style: Style| {
        out.extend(wrap_styled(
            vec![(format!("{k:<12}"), dim), (sanitize_line(v), style)],
            width,
        ));
    };
    let mut session = format!("{} {}", tls.version, tls.cipher);
    if let Some(alpn) = &tls.alpn {
        session.push_str(&format!(" (ALPN {alpn})"));
    }
    kv(out, "tls", &session, Style::new());
    if tls.unverified {
        kv(
            out,
            "",
            "⚠ certificate not verified (--insecure)",
            Style::new().fg(theme::ERROR).add_modifier(Modifier::BOLD),
        );
    }
    for (i, c) in tls.chain.iter().enumerate() {
        out.push(Line::default());
        let title = if i == 0 {
            "Server certificate".to_string()
        } else {
            format!("Certificate {} (issuer of the one above)", i + 1)
        };
        out.push(Line::from(Span::styled(
            title,
            theme::accent().add_modifier(Modifier::BOLD),
        )));
        kv(out, "subject", &c.subject, theme::bold());
        kv(out, "issuer", &c.issuer, Style::new());
        if !c.names.is_empty() {
            kv(out, "names", &c.names.join(", "), Style::new());
        }
        kv(
            out,
            "valid",
            &format!("{} to {}", c.not_before, c.not_after),
            Style::new(),
        );
        kv(out, "sha256", &c.sha256, dim);
    }
}
