//! The command line as a user or a script meets it: help, version, completions, man page and
//! clear errors for bad input.

use std::process::{Command, Output};

fn wsdeck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(args)
        .env_remove("WSDECK_PASSWORD")
        .output()
        .expect("run wsdeck")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_command_has_help() {
    for cmd in ["demo", "connect", "serve", "pipe", "completions", "man"] {
        let o = wsdeck(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd} --help failed: {}", stderr(&o));
        assert!(
            stdout(&o).contains("Usage: wsdeck"),
            "{cmd} --help: {}",
            stdout(&o)
        );
    }
    let top = stdout(&wsdeck(&["--help"]));
    for cmd in ["demo", "connect", "serve", "pipe", "completions"] {
        assert!(top.contains(cmd), "top-level help does not list {cmd}");
    }
}

#[test]
fn connect_help_documents_the_auth_flags() {
    let help = stdout(&wsdeck(&["connect", "--help"]));
    for flag in [
        "--user",
        "--auth",
        "first-message",
        "bearer",
        "--login-template",
        "--login-ok",
        "--login-fail",
        "--header",
        "--subprotocol",
        "--insecure",
        "--record",
        "--har",
        "--ping-interval",
        "--no-reconnect",
        "--script",
        "--keep-frames",
        "--keep-mib",
    ] {
        assert!(help.contains(flag), "connect --help lacks {flag}");
    }
    assert!(
        !help.contains("--password "),
        "the password must never be a command-line flag"
    );
}

#[test]
fn version_is_printed() {
    let o = wsdeck(&["--version"]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).trim(),
        format!("wsdeck {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let o = wsdeck(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for sub in ["demo", "connect", "serve", "pipe"] {
            assert!(script.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let o = wsdeck(&["completions", "tcsh"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("invalid value"), "{}", stderr(&o));
}

#[test]
fn man_page_is_roff_with_the_commands() {
    let o = wsdeck(&["man"]);
    assert!(o.status.success());
    let page = stdout(&o);
    assert!(page.contains(".TH wsdeck 1"), "{page}");
    assert!(page.contains("connect"));
}

#[test]
fn bad_urls_get_a_clear_error_and_no_ui() {
    for (url, why) in [
        ("http://example.com", "scheme must be ws:// or wss://"),
        ("ws://", "bad URL"),
    ] {
        let o = wsdeck(&["connect", url]);
        assert!(!o.status.success(), "{url} accepted");
        let err = stderr(&o);
        assert!(err.starts_with("wsdeck: "), "{err}");
        assert!(err.contains(why), "{url}: {err}");
    }
    // Without a scheme it is ws:// (as wscat takes it): this one is tried, and refused.
    let o = wsdeck(&["pipe", "127.0.0.1:1", "--auth", "none"]);
    assert!(
        stderr(&o).contains(
            "connection refused to 127.0.0.1:1 — check that the server is running and the URL's \
             port is right"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_flags_get_a_clear_error() {
    let o = wsdeck(&["connect", "ws://127.0.0.1:1", "-H", "no colon here"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("expected 'Name: value'"),
        "{}",
        stderr(&o)
    );

    let o = wsdeck(&["connect", "ws://127.0.0.1:1", "--login-ok", "("]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--login-ok is not a valid regex"),
        "{}",
        stderr(&o)
    );

    let o = wsdeck(&["connect", "ws://127.0.0.1:1", "--auth", "kerberos"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("invalid value 'kerberos'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_bad_proxy_is_named_without_its_password() {
    let o = wsdeck(&[
        "pipe",
        "ws://127.0.0.1:1",
        "--proxy",
        "ftp://bob:hunter2@p:21",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--proxy: proxy ftp://bob:***@p:21: the scheme must be http://, https://, socks5:// or socks5h://"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let o = wsdeck(&[
        "pipe",
        "ws://127.0.0.1:1",
        "--proxy",
        "http://p",
        "--no-proxy",
    ]);
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

#[test]
fn the_ui_refuses_to_start_without_a_terminal() {
    let o = wsdeck(&["connect", "ws://127.0.0.1:1"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("needs a terminal"), "{}", stderr(&o));
    assert!(stderr(&o).contains("wsdeck pipe"), "{}", stderr(&o));
}

/// `wsdeck serve` at the default level prints `listening on HOST:PORT` and no INFO lines on
/// the terminal; `-v` (or `RUST_LOG`) asks for them.
#[test]
fn serve_logs_info_lines_to_the_terminal_only_when_asked() {
    use std::io::{BufRead, Read};
    let run = |verbose: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
            .args(["serve", "--listen", "127.0.0.1:0", "--user", "u"])
            .args(["--password-env", "WSDECK_TEST_PW", "--tick", "0"])
            .args(verbose)
            .env("WSDECK_TEST_PW", "pw-Zx81")
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start wsdeck serve");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (first, err)
    };
    let (first, err) = run(&[]);
    assert!(first.starts_with("listening on 127.0.0.1:"), "{first}");
    assert!(!err.contains("INFO"), "{err}");
    let (first, err) = run(&["-v"]);
    assert!(first.starts_with("listening on 127.0.0.1:"), "{first}");
    assert!(err.contains("INFO") && err.contains("listening"), "{err}");
}

/// The first line a long-running command prints on stdout (`serve`) or stderr (`proxy`),
/// then it is stopped.
fn first_line(args: &[&str], on_stderr: bool) -> String {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(args)
        .env("WSDECK_TEST_PW", "pw-Zx81")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsdeck");
    let mut first = String::new();
    if on_stderr {
        std::io::BufReader::new(child.stderr.take().unwrap()).read_line(&mut first)
    } else {
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first)
    }
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    first
}

/// `--listen` (`proxy` and `serve` alike): `HOST:PORT`, a bare `PORT` or `:PORT` (127.0.0.1),
/// `localhost:PORT` (loopback); anything else is told what is expected, exit 2.
#[test]
fn listen_takes_a_bare_port_or_localhost_and_says_what_it_expects() {
    for listen in ["0", ":0", "localhost:0", "127.0.0.1:0"] {
        let proxy = first_line(
            &["proxy", "--no-ui", "--listen", listen, "ws://127.0.0.1:9"],
            true,
        );
        assert!(
            proxy.starts_with("listening on 127.0.0.1:"),
            "{listen}: {proxy}"
        );
        let serve = first_line(
            &[
                "serve",
                "--listen",
                listen,
                "--user",
                "u",
                "--password-env",
                "WSDECK_TEST_PW",
            ],
            false,
        );
        assert!(
            serve.starts_with("listening on 127.0.0.1:"),
            "{listen}: {serve}"
        );
    }
    for bad in ["example.com:8080", "localhost", "127.0.0.1"] {
        for cmd in [
            &["proxy", "--no-ui", "--listen", bad, "ws://127.0.0.1:9"][..],
            &[
                "serve",
                "--listen",
                bad,
                "--user",
                "u",
                "--password-env",
                "X",
            ][..],
        ] {
            let o = wsdeck(cmd);
            assert_eq!(o.status.code(), Some(2), "{cmd:?}");
            let err = stderr(&o);
            assert!(
                err.contains("--listen takes HOST:PORT, e.g. 127.0.0.1:8080"),
                "{cmd:?}: {err}"
            );
            assert!(!err.contains("invalid socket address syntax"), "{err}");
        }
    }
    let o = wsdeck(&["proxy", "--no-ui", "--listen", "99999"]);
    assert!(
        stderr(&o).contains("port 99999 is out of range: ports go from 0 to 65535"),
        "{}",
        stderr(&o)
    );
}

/// `wsdeck proxy`'s other argument checks, with the UI or without: a sentence and exit 2.
#[test]
fn proxy_refuses_a_url_that_is_not_ws_and_flags_that_would_do_nothing() {
    for (args, want) in [
        (
            &["ws//bad"][..],
            "wsdeck: \"ws//bad\" is not a ws:// or wss:// URL: give the server's URL with its \
             scheme, e.g. ws://127.0.0.1:5678",
        ),
        (
            &["http://example.com"][..],
            "scheme must be ws:// or wss://",
        ),
        (&["ws://"][..], "bad URL"),
        (
            &["--ignore-hosts", "example"][..],
            "wsdeck: --ignore-hosts only applies with --mitm",
        ),
        (
            &["--max-message", "0", "ws://127.0.0.1:9"][..],
            "wsdeck: --max-message 0 would refuse every message",
        ),
        (
            &["--max-connections", "0", "ws://127.0.0.1:9"][..],
            "wsdeck: --max-connections 0 would refuse every client",
        ),
    ] {
        for ui in [&["--no-ui"][..], &[][..]] {
            let mut cmd = vec!["proxy", "--listen", "127.0.0.1:0"];
            cmd.extend_from_slice(ui);
            cmd.extend_from_slice(args);
            let o = wsdeck(&cmd);
            assert_eq!(o.status.code(), Some(2), "{cmd:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(want), "{cmd:?}: {}", stderr(&o));
        }
    }
}
