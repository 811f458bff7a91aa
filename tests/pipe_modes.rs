//! `wsdeck pipe --send …/--recv …` against websockify (a WebSocket-to-TCP bridge that takes
//! only binary frames and closes with 1003 on a text frame), started by the test in front of
//! a TCP echo server.

mod common;

use common::peers::{spawn_websockify, websockify_available};
use common::pipe::pipe;
use wsdeck::model::{Direction, Opcode};

const NONE: &[&str] = &["--auth", "none", "--ping-interval", "0"];

fn args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![url];
    v.extend_from_slice(NONE);
    v.extend_from_slice(extra);
    v
}

#[test]
fn hex_lines_go_out_as_binary_frames_and_come_back_as_hex() {
    if !websockify_available() {
        return;
    }
    let w = spawn_websockify();
    let url = w.url();
    let o = pipe(
        &args(&url, &["--send", "hex", "--recv", "hex"]),
        None,
        "de ad be ef\n",
    );
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    assert_eq!(o.stdout, "deadbeef\n");
    assert_eq!(o.stderr, "");
}

#[test]
fn base64_lines_and_json_output() {
    if !websockify_available() {
        return;
    }
    let w = spawn_websockify();
    let url = w.url();
    let o = pipe(
        &args(&url, &["--send", "base64", "--recv", "json"]),
        None,
        "3q2+7w==\n",
    );
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    let lines: Vec<serde_json::Value> = o
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"opcode":"binary","len":4,"data":"3q2+7w==","encoding":"base64"})
    );
    // The server's answer to our Close is a line too.
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[1]["opcode"], "close");
    assert_eq!(lines[1]["code"], 1000);
}

#[test]
fn raw_stdin_goes_out_in_frames_of_the_given_size() {
    if !websockify_available() {
        return;
    }
    let w = spawn_websockify();
    let url = w.url();
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("s.jsonl");
    let data: Vec<u8> = (0u8..=255).chain(0..44).collect(); // 300 bytes, not UTF-8
    let o = pipe(
        &args(
            &url,
            &[
                "--send",
                "binary",
                "--frame-size",
                "128",
                "--recv",
                "base64",
            ],
        )
        .into_iter()
        .chain(["--record", rec.to_str().unwrap()])
        .collect::<Vec<_>>(),
        None,
        &data,
    );
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    // The echo may come back in other pieces: together they are the bytes sent.
    let mut back = Vec::new();
    for line in o.stdout.lines() {
        back.extend(wsdeck::codec::decode_base64(line).unwrap());
    }
    assert_eq!(back, data);
    let sent: Vec<usize> = wsdeck::record::jsonl::read(&rec)
        .unwrap()
        .frames
        .iter()
        .filter(|f| f.dir == Direction::ClientToServer && f.opcode == Opcode::Binary)
        .map(|f| f.len)
        .collect();
    assert_eq!(sent, [128, 128, 44]);
}

#[test]
fn text_frames_get_websockifys_1003_and_a_non_zero_exit() {
    if !websockify_available() {
        return;
    }
    let w = spawn_websockify();
    let url = w.url();
    let o = pipe(&args(&url, &[]), None, "hello\n");
    assert!(!o.status.success());
    assert!(
        o.stderr
            .starts_with("wsdeck: server closed the connection: 1003")
            && o.stderr.contains("Text frames are not supported"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_line_that_is_not_hex_stops_the_pipe_with_its_number() {
    if !websockify_available() {
        return;
    }
    let w = spawn_websockify();
    let url = w.url();
    let o = pipe(
        &args(&url, &["--send", "hex", "--recv", "hex"]),
        None,
        "0102\nxyz\n0304\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", o.stderr);
    assert_eq!(
        o.stderr,
        "wsdeck: stdin line 2 is not hex: 'x' is not a hex digit\n"
    );
    // The first line went out and came back; the third was never sent.
    assert!(!o.stdout.contains("0304"), "{}", o.stdout);
}

#[test]
fn frame_size_needs_binary_and_a_sane_size() {
    let o = pipe(
        &args("ws://127.0.0.1:9/", &["--frame-size", "10"]),
        None,
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stderr.contains("needs --send binary"), "{}", o.stderr);
    let o = pipe(
        &args(
            "ws://127.0.0.1:9/",
            &["--send", "binary", "--frame-size", "0"],
        ),
        None,
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        o.stderr.contains("--frame-size must be between 1"),
        "{}",
        o.stderr
    );
}
