//! Hiding secrets in handshake heads before they reach the screen, a recording or an export.
//!
//! Frame payloads are redacted where the secret is known (the network task replaces the
//! password in the login frame and sets `FrameRecord::redacted`); these helpers cover what
//! can be recognised without knowing the secret: credential headers and a URL's password.

use std::borrow::Cow;

use crate::model::HandshakeInfo;

/// What a hidden value is replaced with.
pub const REDACTED: &str = "***";

/// Headers whose values are credentials.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// True for the headers [`redact_headers`] hides (Authorization, Proxy-Authorization, Cookie,
/// Set-Cookie; any letter case).
pub fn is_secret_header(name: &str) -> bool {
    let name = name.trim();
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Replace the values of Authorization, Proxy-Authorization, Cookie and Set-Cookie with `***`.
pub fn redact_headers(headers: &mut [(String, String)]) {
    for (name, value) in headers.iter_mut() {
        if is_secret_header(name) && value != REDACTED {
            *value = REDACTED.to_string();
        }
    }
}

/// Replace the password of a URL's user info (`ws://user:secret@host/`) with `***`.
/// URLs without one come back borrowed and unchanged.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://") else {
        return Cow::Borrowed(url);
    };
    let auth_start = scheme_end + 3;
    let rest = &url[auth_start..];
    let auth_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_len];
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(url);
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return Cow::Borrowed(url);
    };
    if &userinfo[colon + 1..] == REDACTED {
        return Cow::Borrowed(url);
    }
    let pass_start = auth_start + colon + 1;
    let pass_end = auth_start + at;
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..pass_start]);
    out.push_str(REDACTED);
    out.push_str(&url[pass_end..]);
    Cow::Owned(out)
}

/// Redact both heads' credential headers and the URL's password.
pub fn redact_handshake(h: &mut HandshakeInfo) {
    redact_headers(&mut h.request.headers);
    redact_headers(&mut h.response.headers);
    if let Cow::Owned(u) = redact_url(&h.url) {
        h.url = u;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: &str, v: &str) -> (String, String) {
        (n.to_string(), v.to_string())
    }

    #[test]
    fn credential_headers_are_hidden_in_any_case() {
        let mut hs = vec![
            h("Authorization", "Basic YWRtaW46MTIzNDU2"),
            h("proxy-AUTHORIZATION", "Bearer t0k3n"),
            h("COOKIE", "sid=abc"),
            h("Set-Cookie", "sid=abc; HttpOnly"),
            h("Host", "example.com"),
            h("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        redact_headers(&mut hs);
        let values: Vec<&str> = hs.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            [
                "***",
                "***",
                "***",
                "***",
                "example.com",
                "dGhlIHNhbXBsZSBub25jZQ=="
            ]
        );
    }

    #[test]
    fn url_password_is_hidden_but_user_and_path_stay() {
        assert_eq!(
            redact_url("wss://admin:123456@example.com:8443/chat?x=1"),
            "wss://admin:***@example.com:8443/chat?x=1"
        );
        assert_eq!(
            redact_url("ws://a:b@c@host/p@q"),
            "ws://a:***@host/p@q",
            "the last @ of the authority ends the user info; @ in the path is not user info"
        );
        assert!(matches!(
            redact_url("ws://127.0.0.1:5678/path@x"),
            Cow::Borrowed(_)
        ));
        assert_eq!(redact_url("ws://user@host/"), "ws://user@host/");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn handshake_redaction_covers_both_heads_and_url() {
        let mut hs = HandshakeInfo {
            url: "ws://u:pw@h/".into(),
            ..Default::default()
        };
        hs.request.headers.push(h("Authorization", "Bearer secret"));
        hs.response.headers.push(h("Set-Cookie", "s=secret"));
        redact_handshake(&mut hs);
        let dump = format!("{hs:?}");
        assert!(!dump.contains("secret") && !dump.contains("pw"), "{dump}");
    }
}
