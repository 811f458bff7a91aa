//! A refused upgrade as the sentence the user reads: the status line, the headers that say
//! what to do next and the first lines of the body, where servers explain.

use http::header::{HeaderName, HeaderValue};

use super::{clean_line, redirect};
use crate::model::{NetError, NetErrorKind};
use crate::wire::stream::head_bytes;

/// A complete answer that is not a 101, as the error to report: its status, the headers
/// that say what to do and the first lines of its body (and where a redirect leads).
pub(super) fn refused(received: &[u8]) -> Option<(NetError, Option<String>)> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    if !matches!(resp.parse(received), Ok(httparse::Status::Complete(_))) {
        return None;
    }
    let code = resp.code.filter(|c| *c != 101)?;
    let mut map = http::HeaderMap::new();
    for h in resp.headers.iter() {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) {
            map.append(n, v);
        }
    }
    let line = String::from_utf8_lossy(head_bytes(received))
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let body = crate::wire::stream::body_bytes(received);
    let location = map
        .get("location")
        .and_then(|v| v.to_str().ok())
        .filter(|_| redirect::is_redirect(code))
        .map(str::to_string);
    Some((
        NetError::new(
            NetErrorKind::Http(code),
            clean_line(&refusal(&line, &map, Some(body))),
        ),
        location,
    ))
}

/// Body lines of a refusal shown.
const REFUSAL_LINES: usize = 5;

/// A refused upgrade as one line: the status, the headers that say what to do next
/// (`Location`, `Retry-After`, `WWW-Authenticate`) and the first lines of the body, where
/// servers explain ("token expired: please log in again"). Sanitised and bounded by the
/// caller.
pub(super) fn refusal(status_line: &str, headers: &http::HeaderMap, body: Option<&[u8]>) -> String {
    let mut msg = format!("server answered {status_line}");
    for name in ["Location", "Retry-After", "WWW-Authenticate"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            msg.push_str(&format!(" · {name}: {}", v.trim()));
        }
    }
    let said = body_lines(headers, body.unwrap_or_default());
    if !said.is_empty() {
        msg.push_str(" — ");
        msg.push_str(&said.join(" / "));
    }
    msg
}

/// The first non-blank lines of a refusal's body (bounded; a chunked body de-chunked, a
/// compressed one not shown).
fn body_lines(headers: &http::HeaderMap, body: &[u8]) -> Vec<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let encoding = header("content-encoding");
    if !encoding.is_empty() && encoding != "identity" {
        return Vec::new();
    }
    let body = &body[..body
        .len()
        .min(crate::wire::deflate_stream::MAX_REFUSAL_BODY)];
    let plain;
    let body = if header("transfer-encoding").contains("chunked") {
        plain = dechunk(body);
        &plain[..]
    } else {
        body
    };
    String::from_utf8_lossy(body)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(REFUSAL_LINES)
        .map(str::to_string)
        .collect()
}

/// The data of a chunked body, as far as it is there.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size.filter(|n| *n > 0) else {
            break;
        };
        b = &b[eol + 2..];
        let n = size.min(b.len());
        out.extend_from_slice(&b[..n]);
        b = b.get(n + 2..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_the_status_the_next_step_and_the_servers_words() {
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", "30".parse().unwrap());
        h.insert("www-authenticate", "Bearer realm=\"api\"".parse().unwrap());
        let m = refusal(
            "HTTP/1.1 401 Unauthorized",
            &h,
            Some(b"\ntoken expired: please log in again\nsee /login\n"),
        );
        assert_eq!(
            m,
            "server answered HTTP/1.1 401 Unauthorized · Retry-After: 30 · WWW-Authenticate: \
             Bearer realm=\"api\" — token expired: please log in again / see /login"
        );
        assert_eq!(
            refusal("HTTP/1.1 404 Not Found", &http::HeaderMap::new(), None),
            "server answered HTTP/1.1 404 Not Found"
        );
        let mut chunked = http::HeaderMap::new();
        chunked.insert("transfer-encoding", "chunked".parse().unwrap());
        assert_eq!(
            refusal(
                "HTTP/1.1 403 Forbidden",
                &chunked,
                Some(b"6\r\nno ent\r\n7;x=1\r\nry\nhere\r\n0\r\n\r\n")
            ),
            "server answered HTTP/1.1 403 Forbidden — no entry / here"
        );
        let mut gzip = http::HeaderMap::new();
        gzip.insert("content-encoding", "gzip".parse().unwrap());
        assert_eq!(
            refusal("HTTP/1.1 403 Forbidden", &gzip, Some(b"\x1f\x8b garbage")),
            "server answered HTTP/1.1 403 Forbidden"
        );
        let many = "a\nb\nc\nd\ne\nf\ng\n";
        assert!(
            refusal(
                "HTTP/1.1 500 x",
                &http::HeaderMap::new(),
                Some(many.as_bytes())
            )
            .ends_with("— a / b / c / d / e")
        );
    }
}
