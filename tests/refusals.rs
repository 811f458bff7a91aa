//! A refused upgrade says what the server said — the status, the headers that tell the way on
//! and the first lines of the body — and `pipe`'s exit code tells a clean close from a server
//! that went away and from one that asks to retry later: against Python `websockets` servers
//! that refuse or close with a given code, and a plain Python HTTP server that answers 503.

mod common;

use std::process::{Command, Stdio};

use common::peers::{PeerServer, peers_available, python};
use common::pipe::pipe;

const REFUSER: &str = r#"
import asyncio, http
from websockets.asyncio.server import serve
def refuse(connection, request):
    r = connection.respond(http.HTTPStatus.UNAUTHORIZED, "token expired: please log in again\n")
    r.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    r.headers["Retry-After"] = "30"
    return r
async def main():
    async with serve(lambda ws: None, "127.0.0.1", 0, process_request=refuse) as s:
        print("listening on %s:%d" % s.sockets[0].getsockname()[:2], flush=True)
        await asyncio.Future()
asyncio.run(main())
"#;

/// Closes every connection at once: argv[1] is the code (`none`: a Close without a status
/// code, `drop`: no Close at all, the TCP connection is cut).
const CLOSER: &str = r#"
import asyncio, sys
from websockets.asyncio.server import serve
how = sys.argv[1]
async def handler(ws):
    if how == "drop":
        ws.transport.abort()
    elif how == "none":
        ws.protocol.send_close()
        for data in ws.protocol.data_to_send():
            ws.transport.write(data)
        await ws.wait_closed()
    else:
        await ws.close(int(how), "bye")
async def main():
    async with serve(handler, "127.0.0.1", 0) as s:
        print("listening on %s:%d" % s.sockets[0].getsockname()[:2], flush=True)
        await asyncio.Future()
asyncio.run(main())
"#;

/// A plain HTTP server (no WebSocket at all) that answers with argv[1] as the status, writing
/// the head and then the body in a second write, as many servers do.
const BUSY: &str = r#"
import http.server, sys
status = int(sys.argv[1])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"overloaded: come back in a minute\nqueue is full\n"
        self.send_response(status)
        self.send_header("Retry-After", "60")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("listening on %s:%d" % s.server_address, flush=True)
s.serve_forever()
"#;

fn py(script: &str, arg: &str, what: &str) -> PeerServer {
    let mut cmd = Command::new(python());
    cmd.args(["-c", script, arg]);
    PeerServer::start_cmd(cmd, what)
}

/// `wsdeck pipe URL --auth none --no-reconnect` with stdin held open until it exits (so only
/// the server ends it): (exit code, stderr).
fn pipe_until_server_ends(url: &str) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(["pipe", url, "--auth", "none", "--no-reconnect"])
        .env_remove("WSDECK_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsdeck pipe");
    let stdin = child.stdin.take();
    let status = common::wait_guarded(&mut child, "wsdeck pipe");
    drop(stdin);
    let mut err = String::new();
    use std::io::Read as _;
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    (status.code(), err)
}

#[test]
fn a_refused_upgrade_shows_the_headers_and_the_body_that_say_what_to_do() {
    if !peers_available() {
        return;
    }
    let s = py(REFUSER, "", "refusing server");
    let o = pipe(&[&s.url(), "--auth", "none", "--no-reconnect"], None, "");
    assert_eq!(o.status.code(), Some(1), "{}", o.stderr);
    for want in [
        "401 Unauthorized",
        "WWW-Authenticate: Bearer realm=\"api\"",
        "Retry-After: 30",
        "token expired: please log in again",
    ] {
        assert!(o.stderr.contains(want), "no {want:?} in: {}", o.stderr);
    }
}

#[test]
fn a_busy_server_says_why_and_the_exit_code_says_retry_later() {
    if !peers_available() {
        return;
    }
    for status in ["503", "429"] {
        let s = py(BUSY, status, "busy HTTP server");
        let (code, err) = pipe_until_server_ends(&s.url());
        assert_eq!(code, Some(4), "{status}: {err}");
        for want in [
            status,
            "Retry-After: 60",
            "overloaded: come back in a minute / queue is full",
        ] {
            assert!(err.contains(want), "{status}: no {want:?} in: {err}");
        }
    }
}

#[test]
fn exit_codes_tell_a_clean_close_from_a_server_gone_and_from_retry_later() {
    if !peers_available() {
        return;
    }
    for (how, want) in [
        ("1000", 0),
        ("1001", 3),
        ("none", 3),
        ("drop", 3),
        ("1012", 4),
        ("1013", 4),
        ("1008", 1),
        ("4000", 1),
    ] {
        let s = py(CLOSER, how, "closing server");
        let (code, err) = pipe_until_server_ends(&s.url());
        assert_eq!(code, Some(want), "{how}: {err}");
        if want != 0 {
            assert!(err.starts_with("wsdeck: "), "{how}: {err}");
        }
        if how.starts_with("10") && how != "1000" {
            assert!(err.contains(how), "{how}: the code is said: {err}");
        }
    }
}

/// A plain HTTP server that answers every upgrade with `302 Found` to argv[1], and counts
/// the requests it got in its stdout.
const REDIRECTOR: &str = r#"
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        print("asked for " + self.path, flush=True)
        body = b"moved\n"
        self.send_response(302)
        self.send_header("Location", sys.argv[1])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("listening on %s:%d" % s.server_address, flush=True)
s.serve_forever()
"#;

/// An echo server that prints the credentials each upgrade carried.
const ECHO_SHOWING_CREDENTIALS: &str = r#"
import asyncio
from websockets.asyncio.server import serve
def show(connection, request):
    print("authorization: %s · cookie: %s" % (
        request.headers.get("Authorization", "-"), request.headers.get("Cookie", "-")), flush=True)
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def main():
    async with serve(echo, "127.0.0.1", 0, process_request=show) as s:
        print("listening on %s:%d" % s.sockets[0].getsockname()[:2], flush=True)
        await asyncio.Future()
asyncio.run(main())
"#;

#[test]
fn a_redirect_is_shown_with_its_location_and_followed_only_with_location() {
    if !peers_available() {
        return;
    }
    let echo = py(ECHO_SHOWING_CREDENTIALS, "", "echo server");
    // http:// as a browser's redirect would say it: taken as ws://.
    let there = echo.url().replace("ws://", "http://") + "/chat";
    let r = py(REDIRECTOR, &there, "redirecting server");
    let flags = [
        "--auth",
        "bearer",
        "-H",
        "Cookie: sid=s3cret",
        "--no-reconnect",
    ];
    let mut args = vec![r.url()];
    args.extend(flags.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    // Off by default, as in browsers: the refusal says where and how to follow.
    let o = pipe(&args, Some("tok3n"), "hello\n");
    assert_eq!(o.status.code(), Some(1), "{}", o.stderr);
    for want in ["302 Found", &format!("Location: {there}"), "--location"] {
        assert!(o.stderr.contains(want), "no {want:?} in: {}", o.stderr);
    }
    assert!(
        echo.stdout.try_recv().is_err(),
        "nothing reached the echo server"
    );

    // Followed: the echo answers; the other host got neither the token nor the cookie.
    let mut followed = args.clone();
    followed.push("--location");
    let o = pipe(&followed, Some("tok3n"), "hello\n");
    assert_eq!(o.status.code(), Some(0), "{}", o.stderr);
    assert_eq!(o.stdout, "hello\n");
    assert!(o.stderr.contains("redirected to ws://"), "{}", o.stderr);
    assert!(o.stderr.contains("not sent"), "{}", o.stderr);
    let seen = echo
        .stdout
        .recv_timeout(common::GUARD)
        .expect("the echo server saw the upgrade");
    assert_eq!(seen, "authorization: - · cookie: -");
}

#[test]
fn a_redirect_loop_is_caught() {
    if !peers_available() {
        return;
    }
    let r = py(REDIRECTOR, "/again", "redirecting server");
    let o = pipe(
        &[&r.url(), "--auth", "none", "--no-reconnect", "--location"],
        None,
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{}", o.stderr);
    assert!(o.stderr.contains("redirect loop"), "{}", o.stderr);
    assert!(o.stderr.contains("/again → "), "{}", o.stderr);
    // One request for the first URL, one for /again, then the loop shows.
    let asked: Vec<String> = r.stdout.try_iter().collect();
    assert_eq!(asked, ["asked for /", "asked for /again"], "{}", o.stderr);
}
