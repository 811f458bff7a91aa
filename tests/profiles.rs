//! Profiles from the config file, used as `@NAME` by a real `wsdeck pipe` against `wsdeck serve`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::serve::spawn_serve;

fn write_config(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn pipe(args: &[&str], envs: &[(&str, &str)], stdin: &str) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdeck"));
    cmd.arg("pipe")
        .args(args)
        .env_remove("WSDECK_PASSWORD")
        .env_remove("WSDECK_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_profile_logs_in_with_its_user_and_password_env() {
    let mut server = spawn_serve("admin", "123456", &["--tick", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[profiles.local]\nurl = \"{}\"\nuser = \"admin\"\npassword_env = \"LOCAL_PW\"\n",
            server.url()
        ),
    );
    let out = pipe(
        &["@local", "--config", cfg.to_str().unwrap()],
        &[("LOCAL_PW", "123456")],
        "from a profile\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("congratulation"), "{stdout}");
    assert!(
        stdout.contains("your submit context: from a profile"),
        "{stdout}"
    );
    server.terminate();
}

#[test]
fn flags_override_the_profile() {
    let mut server = spawn_serve("admin", "123456", &["--tick", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[profiles.local]\nurl = \"{}\"\nuser = \"nobody\"\npassword_env = \"LOCAL_PW\"\n",
            server.url()
        ),
    );
    // The profile's user is wrong; --user on the command line wins.
    let out = pipe(
        &["@local", "--user", "admin"],
        &[
            ("LOCAL_PW", "123456"),
            ("WSDECK_CONFIG", cfg.to_str().unwrap()),
        ],
        "x\n",
    );
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.terminate();
}

#[test]
fn unknown_profile_and_bad_file_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "[profiles.one]\nurl = \"ws://127.0.0.1:1\"\n");
    let out = pipe(&["@two", "--config", cfg.to_str().unwrap()], &[], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no profile named \"two\"; known: one"),
        "{err}"
    );

    let bad = write_config(dir.path(), "[profiles.one]\nurl = ws://nope\n");
    let out = pipe(&["@one", "--config", bad.to_str().unwrap()], &[], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2, column 7"), "{err}");
}

/// Issue 14 item 11: a `snippets.toml` block for a profile the config file no longer has is
/// a warning, not a start-up failure.
#[test]
fn a_stale_profile_block_in_snippets_toml_warns_and_goes_on() {
    let server = spawn_serve("admin", "123456", &["--tick", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[profiles.one]\nurl = \"{}\"\nuser = \"admin\"\n",
            server.url()
        ),
    );
    std::fs::write(
        dir.path().join("snippets.toml"),
        "[[profiles.gone.snippets]]\nname = \"old\"\ntext = \"old text\"\n",
    )
    .unwrap();
    let out = pipe(
        &[
            "@one",
            "--config",
            cfg.to_str().unwrap(),
            "--ping-interval",
            "0",
        ],
        &[("WSDECK_PASSWORD", "123456")],
        "still works\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning:") && err.contains("[profiles.gone] was skipped"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("your submit context: still works"));
}

#[test]
fn demo_takes_a_config_file_too() {
    let o = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(["demo", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("--config <FILE>"));
}
