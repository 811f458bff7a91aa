//! `--location`: following a redirect of the upgrade, as browsers and `curl -L` do — at most
//! [`MAX_REDIRECTS`], a loop caught, `http(s)://` taken as `ws(s)://`, and nothing secret sent
//! to an origin (scheme, host, port) the user did not name: curl's rule for Authorization and
//! Cookie headers, and the login with them.

use http::Uri;

use crate::spec::{AuthMethod, ConnectSpec};

/// Most redirects followed for one connection.
pub(super) const MAX_REDIRECTS: usize = 10;

/// The statuses that redirect (for the upgrade's GET, all mean "ask there").
pub(super) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Why a redirect cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum BadRedirect {
    #[error("the URL {0:?} cannot be redirected from")]
    From(String),
    #[error("the redirect leads to {0}://, not a WebSocket (ws, wss) or HTTP URL")]
    Scheme(String),
    #[error("the redirect's Location: {0}")]
    Location(String),
}

/// Where `location` (a redirect's header) leads from `from`: absolute, scheme-relative
/// (`//host/path`), an absolute path or a relative one; `http`/`https` become `ws`/`wss`.
pub(super) fn resolve(from: &str, location: &str) -> Result<String, BadRedirect> {
    let location = location.trim();
    let base: Uri = from
        .parse()
        .map_err(|_| BadRedirect::From(from.to_string()))?;
    let scheme = base.scheme_str().unwrap_or("ws");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    let url = if let Some((s, rest)) = location.split_once("://") {
        let s = match s.to_ascii_lowercase().as_str() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            other => {
                return Err(BadRedirect::Scheme(other.to_string()));
            }
        };
        format!("{s}://{rest}")
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        format!("{scheme}://{authority}{dir}{location}")
    };
    // Fragments never go to a server.
    let url = url.split('#').next().unwrap_or_default().to_string();
    crate::spec::validate_url(&url).map_err(|e| BadRedirect::Location(format!("{e:#}")))
}

/// Scheme, host and port of a URL (the port filled in from the scheme).
fn origin(url: &str) -> Option<(String, String, u16)> {
    let uri: Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "wss" { 443 } else { 80 });
    Some((scheme, uri.host()?.to_ascii_lowercase(), port))
}

/// Both URLs have the same scheme, host and port.
pub(super) fn same_origin(a: &str, b: &str) -> bool {
    match (origin(a), origin(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The spec for a hop to `url` of a session that started at `spec.url`: the same, except on
/// another origin, where the credentials stay behind (Authorization and Cookie headers, the
/// HTTP credential and the login). Returns whether anything was left out.
pub(super) fn hop(spec: &ConnectSpec, first_url: &str, url: &str) -> (ConnectSpec, bool) {
    let mut next = spec.clone();
    next.url = url.to_string();
    if same_origin(first_url, url) {
        return (next, false);
    }
    let before = next.headers.len();
    next.headers.retain(|(n, _)| {
        !n.eq_ignore_ascii_case("authorization") && !n.eq_ignore_ascii_case("cookie")
    });
    let stripped = next.headers.len() != before || next.auth != AuthMethod::None;
    next.auth = AuthMethod::None;
    (next, stripped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_url_and_http_becomes_ws() {
        let from = "wss://api.example:8443/v1/socket?x=1";
        for (loc, want) in [
            ("https://other.example/ws", "wss://other.example/ws"),
            ("http://other.example/ws", "ws://other.example/ws"),
            ("wss://a.example/b", "wss://a.example/b"),
            ("//cdn.example/ws", "wss://cdn.example/ws"),
            ("/v2/socket", "wss://api.example:8443/v2/socket"),
            ("socket2?y=2", "wss://api.example:8443/v1/socket2?y=2"),
            ("/v2#frag", "wss://api.example:8443/v2"),
        ] {
            assert_eq!(resolve(from, loc).as_deref(), Ok(want), "{loc}");
        }
        let e = resolve(from, "ftp://x/").unwrap_err().to_string();
        assert!(e.contains("ftp://"), "{e}");
    }

    #[test]
    fn credentials_stay_behind_on_another_origin() {
        let mut spec = ConnectSpec::new("ws://a.example/ws");
        spec.auth = AuthMethod::Bearer;
        spec.headers = vec![
            ("Cookie".into(), "sid=1".into()),
            ("authorization".into(), "x".into()),
            ("Origin".into(), "http://me".into()),
        ];
        let (same, stripped) = hop(&spec, &spec.url, "ws://A.example:80/other");
        assert!(!stripped);
        assert_eq!(same.headers.len(), 3);
        assert_eq!(same.auth, AuthMethod::Bearer);
        for other in [
            "ws://b.example/ws",
            "wss://a.example/ws",
            "ws://a.example:8080/ws",
        ] {
            let (next, stripped) = hop(&spec, &spec.url, other);
            assert!(stripped, "{other}");
            assert_eq!(next.auth, AuthMethod::None, "{other}");
            assert_eq!(next.headers, vec![("Origin".into(), "http://me".into())]);
            assert_eq!(next.url, other);
        }
    }
}
