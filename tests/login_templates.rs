//! Login templates against servers whose logins are not the seed's: a Home-Assistant-style
//! JSON token login (no user name, a token with a quote in it) and a challenge whose nonce
//! comes in the server's greeting (`--login-after`). Python `websockets` peers.

mod common;

use common::peers::{PeerServer, peers_available, python, test_peers_dir};
use common::pipe::pipe;

fn login_server(mode: &str, secret: &str) -> PeerServer {
    let mut cmd = std::process::Command::new(python());
    cmd.arg(test_peers_dir().join("login_server.py"))
        .args([mode, secret]);
    PeerServer::start_cmd(cmd, "login_server.py")
}

const TOKEN: &str = r#"eyJ"quoted\token"#;

#[test]
fn a_json_token_login_needs_no_user_and_stays_valid_json_with_quotes_in_the_token() {
    if !peers_available() {
        return;
    }
    let s = login_server("token", TOKEN);
    let url = s.url();
    let o = pipe(
        &[
            &url,
            "--login-template",
            r#"{"type":"auth","access_token":"{password}"}"#,
            "--login-ok",
            "auth_ok",
            "--login-fail",
            "auth_invalid",
            "--ping-interval",
            "0",
        ],
        Some(TOKEN),
        "lights on\n",
    );
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    assert!(o.stdout.contains("echo: lights on"), "{}", o.stdout);
    for out in [&o.stdout, &o.stderr] {
        assert!(!out.contains("quoted"), "the token leaked: {out}");
    }
}

#[test]
fn login_after_answers_the_greetings_challenge_with_its_capture_group() {
    if !peers_available() {
        return;
    }
    let s = login_server("nonce", "123456");
    let url = s.url();
    let o = pipe(
        &[
            &url,
            "-u",
            "admin",
            "--login-after",
            r"nonce: (?P<nonce>\w+)",
            "--login-template",
            "{user} {password} {nonce}",
            "--login-ok",
            "^welcome",
            "--login-fail",
            "denied",
            "--ping-interval",
            "0",
        ],
        Some("123456"),
        "hi\n",
    );
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    assert!(o.stdout.contains("echo: hi"), "{}", o.stdout);
    assert!(!o.stdout.contains("123456") && !o.stderr.contains("123456"));
}

#[test]
fn a_greeting_that_never_matches_is_a_named_timeout() {
    if !peers_available() {
        return;
    }
    let s = login_server("nonce", "123456");
    let url = s.url();
    let o = pipe(
        &[
            &url,
            "-u",
            "admin",
            "--login-after",
            "^challenge=(\\d+)",
            "--login-template",
            "{user} {password} {1}",
            "--login-timeout",
            "1",
            "--ping-interval",
            "0",
        ],
        Some("123456"),
        "",
    );
    assert!(!o.status.success());
    assert!(
        o.stderr.contains(
            "no message from the server matched --login-after ^challenge=(\\d+) within 1 s"
        ),
        "{}",
        o.stderr
    );
}

#[test]
fn a_template_group_without_login_after_is_refused_up_front() {
    let o = pipe(
        &[
            "ws://127.0.0.1:9/",
            "-u",
            "a",
            "--login-template",
            "{user} {1}",
        ],
        Some("x"),
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("add --login-after REGEX"), "{}", o.stderr);
}
