//! End to end in a real pseudo-terminal: the built binary, `wsdeck demo`, read through a
//! terminal emulator (vt100) exactly as a person would see it.

use std::io::Write;

mod common;

use common::pty::{COLS, ROWS, Screen};

#[test]
fn demo_login_echo_and_quit_in_a_real_terminal() {
    let mut sc = Screen::spawn(&["demo", "--tick", "0"]);
    sc.wait_for("demo server listening on ws://127.0.0.1:");
    // The login pane is filled with the demo user and password: Enter logs in.
    sc.send(b"\r");
    sc.wait_for("congratulation, you have connect with server");
    sc.wait_for("now, you can do something else");
    sc.type_text("hello from a pty");
    sc.send(b"\r");
    sc.wait_for("your submit context: hello from a pty");
    // Ctrl-C quits, closing the connection and restoring the terminal.
    sc.send(&[0x03]);
    let status = sc.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    sc.assert_restored();
    let seen = sc.seen.lock().unwrap();
    assert!(
        !seen.contains("123456"),
        "the demo password was shown in clear"
    );
}

#[test]
fn sigterm_restores_the_terminal() {
    let mut sc = Screen::spawn(&["demo", "--tick", "0"]);
    sc.wait_for("demo server listening on");
    let pid = sc.child.process_id().expect("child pid");
    assert!(sc.parser.lock().unwrap().screen().alternate_screen());
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    sc.wait_exit();
    sc.assert_restored();
}

#[test]
fn the_shipped_demo_script_plays_the_seed_flow_end_to_end() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo.script");
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("demo.jsonl");
    let mut sc = Screen::spawn(&[
        "demo",
        "--tick",
        "0",
        "--script",
        script,
        "--record",
        rec.to_str().unwrap(),
    ]);
    sc.wait_for("sorry, the username or password is wrong");
    sc.wait_for("congratulation, you have connect with server");
    sc.wait_for("your submit context: hello, server");
    let status = sc.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    sc.assert_restored();
    assert!(!sc.seen.lock().unwrap().contains("123456"));
    // The recording holds every frame of the scripted session, the password redacted.
    let recording = wsdeck::record::jsonl::read(&rec).unwrap();
    let texts: Vec<String> = recording
        .frames
        .iter()
        .filter_map(|f| f.text().map(str::to_string))
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t == "your submit context: 你好, wsdeck 👋"),
        "{texts:?}"
    );
    assert!(recording.handshake.is_some());
    let raw = std::fs::read_to_string(&rec).unwrap();
    assert!(!raw.contains("123456") && !raw.contains("654321"));
}

#[test]
fn a_script_whose_wait_times_out_fails_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.script");
    std::fs::write(
        &script,
        "key Enter\nwait 1s congratulation\nwait 500ms never says this\n",
    )
    .unwrap();
    let mut sc = Screen::spawn(&["demo", "--tick", "0", "--script", script.to_str().unwrap()]);
    let status = sc.wait_exit();
    assert!(!status.success());
    sc.assert_restored();
    sc.wait_for("script line 3: no received message matched \"never says this\"");
}

/// Text from the network that tries to drive the terminal: set the title, write the
/// clipboard, ring the bell, clear the screen, move the cursor, change colours, flip bidi.
const HOSTILE: &[&str] = &[
    "T1 \x1b]0;PWNED-TITLE\x07",
    "T2 \x1b]52;c;c2VjcmV0\x07",
    "T3 \x1b[2J\x1b[Hcleared",
    "T4 \x1b[31mRED\x1b[0m",
    "T5 \x1b[5;5Hmoved",
    "T6 \x07bell",
    "T7 \u{202e}evil\u{202c}",
    "T8 \x1bP1$qDCS\x1b\\",
    "T9 \u{9b}31mC1",
    "T10 \x1b]8;;http://x.test\x1b\\link\x1b]8;;\x1b\\",
];

#[test]
fn hostile_server_text_stays_inert_in_a_real_terminal() {
    // The demo server broadcasts one client's text to the others as `admin: text`: the UI in
    // the pty receives every hostile line exactly as another client sent it.
    let mut server = common::serve::spawn_serve("admin", "123456", &["--tick", "0"]);
    let url = server.url();
    let mut sc = Screen::spawn_env(
        &["connect", &url, "--user", "admin"],
        &[("WSDECK_PASSWORD", "123456")],
    );
    sc.wait_for("Login");
    sc.send(b"\r");
    sc.wait_for("logged in as admin");

    let mut input = String::new();
    for line in HOSTILE {
        input.push_str(line);
        input.push('\n');
    }
    let mut pipe = std::process::Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(["pipe", &url, "--user", "admin"])
        .env("WSDECK_PASSWORD", "123456")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    pipe.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    assert!(pipe.wait().unwrap().success());

    sc.wait_for("T10");
    let screen = sc.contents();
    // Shown as inert placeholders…
    assert!(screen.contains("␛]0;PWNED-TITLE"), "{screen}");
    assert!(screen.contains("␛[2J"), "{screen}");
    assert!(screen.contains("\\u{202e}evil"), "{screen}");
    // …the screen was not cleared (the folded login line is still drawn), nothing moved to
    // 5;5…
    assert!(screen.contains("▸ admin@"), "{screen}");
    let p = sc.parser.lock().unwrap();
    let row5: String = (0..COLS)
        .filter_map(|c| {
            p.screen()
                .cell(4, c)
                .map(|cell| cell.contents().to_string())
        })
        .collect();
    assert!(
        !row5.contains("moved") || row5.contains("T5"),
        "cursor moved: {row5}"
    );
    // …no title, clipboard or bell reached the terminal…
    assert!(
        p.callbacks().events.is_empty(),
        "the terminal was driven: {:?}",
        p.callbacks().events
    );
    // …and "RED" is not red.
    for r in 0..ROWS {
        let line: String = (0..COLS)
            .filter_map(|c| {
                p.screen()
                    .cell(r, c)
                    .map(|cell| cell.contents().to_string())
            })
            .collect();
        if let Some(at) = line.find("RED") {
            let col = line[..at].chars().count() as u16;
            let cell = p.screen().cell(r, col).unwrap();
            assert_ne!(
                cell.fgcolor(),
                vt100::Color::Idx(1),
                "server text set a colour"
            );
        }
    }
    drop(p);
    sc.send(&[0x11]); // Ctrl-Q
    assert!(sc.wait_exit().success());
    sc.assert_restored();
    server.terminate();
}

#[test]
fn a_panic_while_drawing_restores_the_terminal_and_reports() {
    let mut sc = Screen::spawn_env(
        &["demo", "--tick", "0"],
        &[("WSDECK_FAULT_PANIC_AT_DRAW", "2"), ("RUST_BACKTRACE", "0")],
    );
    sc.wait_for("demo server listening on");
    // Draw 1 happens; a key makes the second one, which panics.
    sc.send(b"\x1bOP"); // F1
    let status = sc.wait_exit();
    assert!(!status.success(), "a panic must not exit 0");
    sc.assert_restored();
    // The panic message is printed after the terminal is restored, so it stays readable.
    sc.wait_for("injected fault: panic in draw 2");
    assert!(
        !sc.parser.lock().unwrap().screen().alternate_screen(),
        "message printed on the alternate screen"
    );
}

#[test]
fn no_color_means_no_colour_in_a_real_terminal() {
    let mut sc = Screen::spawn_env(&["demo", "--tick", "0"], &[("NO_COLOR", "1")]);
    sc.wait_for("demo server listening on");
    sc.send(b"\r");
    sc.wait_for("logged in as admin");
    {
        let p = sc.parser.lock().unwrap();
        let s = p.screen();
        for r in 0..ROWS {
            for c in 0..COLS {
                let cell = s.cell(r, c).unwrap();
                assert_eq!(
                    (cell.fgcolor(), cell.bgcolor()),
                    (vt100::Color::Default, vt100::Color::Default),
                    "colour at row {r} col {c} ({:?}) with NO_COLOR",
                    cell.contents()
                );
            }
        }
    }
    sc.send(&[0x03]);
    assert!(sc.wait_exit().success());
}

#[test]
fn without_no_color_the_screen_has_colour() {
    // The check above can fail: the same screen normally has colours.
    let mut sc = Screen::spawn_env(&["demo", "--tick", "0"], &[("NO_COLOR", "")]);
    sc.wait_for("demo server listening on");
    sc.send(b"\r");
    sc.wait_for("logged in as admin");
    let coloured = {
        let p = sc.parser.lock().unwrap();
        let s = p.screen();
        (0..ROWS)
            .flat_map(|r| (0..COLS).map(move |c| (r, c)))
            .filter(|&(r, c)| s.cell(r, c).unwrap().fgcolor() != vt100::Color::Default)
            .count()
    };
    assert!(coloured > 0);
    sc.send(&[0x03]);
    assert!(sc.wait_exit().success());
}

/// Issue 2's "done when", as a person would do it: the real UI in a terminal against the
/// seed's own Python server — a wrong password is rejected on the same connection, the right
/// one is accepted, and every line comes back as `your submit context: …`.
#[test]
fn the_ui_logs_in_to_the_seeds_python_server_and_chats() {
    if !common::peers::peers_available() {
        return;
    }
    let seed = common::peers::spawn_seed_server("admin", "123456");
    let url = seed.url();
    // `--user` given: the cursor waits in the password field.
    let mut sc = Screen::spawn_env(
        &["connect", &url, "--user", "admin"],
        &[("WSDECK_PASSWORD", "")],
    );
    sc.wait_for("Password");
    sc.type_text("not-it");
    sc.send(b"\r");
    sc.wait_for("sorry, the username or password is wrong");
    // Still connected; the password field was cleared and focused: type the right one.
    sc.type_text("123456");
    sc.send(b"\r");
    sc.wait_for("congratulation, you have connect with server");
    sc.wait_for("logged in as admin");
    sc.type_text("hello seed");
    sc.send(b"\r");
    sc.wait_for("your submit context: hello seed");
    assert!(!sc.seen.lock().unwrap().contains("123456"));
    assert!(
        !sc.seen.lock().unwrap().contains("wrong:"),
        "typed password shown"
    );
    sc.send(&[0x11]);
    assert!(sc.wait_exit().success());
    sc.assert_restored();
}

#[test]
fn a_profile_picked_in_the_login_pane_logs_in_records_and_offers_its_snippets() {
    let server = common::serve::spawn_serve("admin", "lab-secret", &["--tick", "0"]);
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("lab.jsonl");
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[profiles.lab]\nurl = \"{url}\"\nuser = \"admin\"\npassword_env = \"LAB_PW\"\nrecord = \"{}\"\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("snippets.toml"),
        "[[profiles.lab.snippets]]\nname = \"lab hello\"\ntext = \"hi from the lab profile\"\n",
    )
    .unwrap();
    let config = dir.path().join("config.toml");
    let mut sc = Screen::spawn_env(
        &[],
        &[
            ("WSDECK_CONFIG", config.to_str().unwrap()),
            ("LAB_PW", "lab-secret"),
            ("WSDECK_PASSWORD", ""),
        ],
    );
    sc.wait_for("1 saved");
    // ↑ ↑ to the Profile field, → picks "lab" (URL, user and password filled), Enter logs in.
    sc.send(b"\x1b[A");
    sc.send(b"\x1b[A");
    sc.send(b"\x1b[C");
    sc.wait_for("@lab");
    sc.send(b"\r");
    sc.wait_for("logged in as admin");
    // F5: the profile's own snippet (from snippets.toml beside the config file).
    sc.send(b"\x1b[15~");
    sc.wait_for("your submit context: hi from the lab profile");
    sc.send(&[0x11]);
    assert!(sc.wait_exit().success());
    sc.assert_restored();
    // The profile's `record` file has the whole session, and never the password.
    let recorded = std::fs::read_to_string(&record).expect("the profile's recording");
    assert!(recorded.contains(r#""type":"handshake""#), "{recorded}");
    assert!(recorded.contains("your submit context: hi from the lab profile"));
    assert!(recorded.contains("admin:***"));
    assert!(!recorded.contains("lab-secret"));
    assert!(!sc.seen.lock().unwrap().contains("lab-secret"));
}

/// What a terminal sends for `k`: Alt as an ESC prefix (what xterm, tmux, GNOME Terminal
/// and iTerm2 with "Esc+" send), Ctrl-letters as control bytes, arrows and Delete as CSI.
fn xterm_bytes(k: &wsdeck::app::keymap::Key) -> Vec<u8> {
    use crossterm::event::{KeyCode as K, KeyModifiers as M};
    let csi_mod = |base: &str, tail: &str| {
        if k.mods == M::CONTROL {
            format!("\x1b[{base};5{tail}").into_bytes()
        } else if k.mods.is_empty() && base == "1" {
            format!("\x1b[{tail}").into_bytes()
        } else if k.mods.is_empty() {
            format!("\x1b[{base}{tail}").into_bytes()
        } else {
            panic!("no encoding for {}", k.name())
        }
    };
    match (k.code, k.mods) {
        (K::Char(c), M::CONTROL) => vec![c as u8 - b'a' + 1],
        (K::Char(c), M::ALT) => vec![0x1b, c as u8],
        (K::Backspace, M::NONE) => vec![0x7f],
        (K::Backspace, M::ALT) => vec![0x1b, 0x7f],
        (K::Left, _) => csi_mod("1", "D"),
        (K::Right, _) => csi_mod("1", "C"),
        (K::Delete, _) => csi_mod("3", "~"),
        _ => panic!("no encoding for {} in this test: add it", k.name()),
    }
}

/// Issue 14 item 1: every editing key of the key table, sent as a terminal sends it, does
/// what the table says in the message input. `abc def ghi` with the cursor after `abc de`,
/// the key, then `X`: the line the demo server echoes shows where the cursor went and what
/// was deleted.
#[test]
fn every_editing_key_in_the_table_works_through_a_real_terminal() {
    use wsdeck::app::action::{Action, Context, EditOp as E};
    let mut sc = Screen::spawn(&["demo", "--tick", "0"]);
    sc.wait_for("demo server listening on");
    sc.send(b"\r");
    sc.wait_for("logged in as admin");
    let left = xterm_bytes(&wsdeck::app::keymap::key(crossterm::event::KeyCode::Left));
    let mut tried = 0;
    for b in wsdeck::app::keymap::KEYMAP.iter() {
        if !b.contexts.contains(&Context::Chat) {
            continue;
        }
        for (k, a) in &b.keys {
            let Action::Edit(op) = a else { continue };
            let (before, expected): (&[u8], &str) = match op {
                E::Type => continue,
                E::Start => (b"", "Xabc def ghi"),
                E::End => (b"", "abc def ghiX"),
                E::PrevChar => (b"", "abc dXef ghi"),
                E::NextChar => (b"", "abc defX ghi"),
                E::PrevWord => (b"", "abc Xdef ghi"),
                E::NextWord => (b"", "abc def Xghi"),
                E::DeletePrev => (b"", "abc dXf ghi"),
                E::DeleteNext => (b"", "abc deX ghi"),
                E::DeletePrevWord => (b"", "abc Xf ghi"),
                E::DeleteNextWord => (b"", "abc deXghi"),
                E::DeleteToEnd => (b"", "abc deX"),
                E::DeleteLine => (b"", "X"),
                // Ctrl-K cuts `f ghi` first; the key puts it back.
                E::Yank => (&[0x0b], "abc def ghiX"),
            };
            sc.type_text("abc def ghi");
            for _ in 0..5 {
                sc.send(&left);
            }
            sc.send(before);
            sc.send(&xterm_bytes(k));
            sc.type_text("X");
            sc.send(b"\r");
            let want = format!("your submit context: {expected}");
            let start = std::time::Instant::now();
            while !sc.contents().contains(&want) {
                assert!(
                    start.elapsed() < common::pty::WAIT,
                    "{} ({op:?}) gave the wrong line: want {expected:?}; screen:\n{}",
                    k.name(),
                    sc.contents()
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            sc.type_text("/clear");
            sc.send(b"\r");
            while sc.contents().contains(&want) {
                assert!(start.elapsed() < common::pty::WAIT, "/clear did not clear");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            tried += 1;
        }
    }
    assert!(tried >= 19, "only {tried} editing keys found in the table");
    sc.send(&[0x11]);
    assert!(sc.wait_exit().success());
}

#[test]
fn the_proxy_holds_edits_in_editor_drops_and_injects_between_the_seeds_client_and_server() {
    if !common::peers::peers_available() {
        return common::peers::skip_or_fail("the seed's Python peers (pip install websockets)");
    }
    let seed = common::peers::spawn_seed_server("admin", "123456");
    // `$EDITOR` is what a user would do in it: change "plan" to "PLAN" and save.
    let mut sc = Screen::spawn_env(
        &[
            "proxy",
            "--listen",
            "127.0.0.1:0",
            &seed.url(),
            "--intercept",
            "dir:client",
        ],
        &[("EDITOR", "sed -i s/plan/PLAN/"), ("VISUAL", "")],
    );
    sc.wait_for("No connections yet");
    let screen = sc.contents();
    let port = regex::Regex::new(r"127\.0\.0\.1:(\d+) →")
        .unwrap()
        .captures(&screen)
        .expect("the listen address in the header")[1]
        .to_string();
    let mut client = std::process::Command::new(common::peers::python())
        .arg(common::peers::seed_client_py())
        .arg(format!("ws://127.0.0.1:{port}"))
        .env("PYTHONUNBUFFERED", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start seed_client.py");
    let mut to_client = client.stdin.take().unwrap();
    let from_client = common::lines_of(client.stdout.take().unwrap());
    let expect = |want: &str| {
        let deadline = std::time::Instant::now() + common::GUARD;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match from_client.recv_timeout(left) {
                Ok(line) if line.contains(want) => return,
                Ok(_) => continue,
                Err(_) => panic!("the seed's client never printed {want:?}"),
            }
        }
    };
    use std::io::Write as _;
    // The login is held too (dir:client): forwarded with f from the connection's monitor.
    writeln!(to_client, "admin:123456").unwrap();
    sc.wait_for("1 held");
    sc.send(b"\r");
    sc.wait_for("admin:***");
    sc.send(b"f");
    expect("congratulation");
    // Edited in $EDITOR, then forwarded: the server echoes the edited text.
    writeln!(to_client, "secret plan").unwrap();
    sc.wait_for("secret plan");
    sc.send(b"O");
    expect("your submit context: secret PLAN");
    // Dropped: the server never sees it, so the seed's client waits for a reply that a
    // message injected towards it (Tab) supplies.
    writeln!(to_client, "drop me").unwrap();
    sc.wait_for("drop me");
    sc.send(b"d");
    sc.wait_for("dropped message");
    sc.send(b"m");
    sc.wait_for("→ server (text)");
    sc.type_text("from the proxy");
    sc.send(b"\t");
    sc.wait_for("→ client (text)");
    sc.send(b"\r");
    expect("from the proxy");
    assert!(!sc.seen.lock().unwrap().contains("123456"));
    sc.send(&[0x11]);
    assert!(sc.wait_exit().success());
    sc.assert_restored();
    drop(to_client);
    let _ = client.kill();
    let _ = client.wait();
}

/// Issue 14 item 8 at 40×12: the focused Password field is on screen; once logged in the
/// login pane folds to one line (the history gets the rows); Ctrl-L brings it back.
#[test]
fn at_40x12_the_focused_field_shows_and_the_pane_folds_once_logged_in() {
    let mut server = common::serve::spawn_serve("admin", "123456", &["--tick", "0"]);
    let url = server.url();
    let mut sc = Screen::spawn_sized(
        &["connect", &url, "--user", "admin", "--ping-interval", "0"],
        &[("WSDECK_PASSWORD", "")],
        (40, 12),
    );
    // `--user` given: the cursor waits in the Password field, which must be visible.
    sc.wait_for("Password");
    let cursor_row = sc.parser.lock().unwrap().screen().cursor_position().0;
    let row: String = sc
        .contents()
        .lines()
        .nth(cursor_row as usize)
        .unwrap_or("")
        .into();
    assert!(
        row.contains("Password"),
        "the cursor is not in the Password field: {row:?}\n{}",
        sc.contents()
    );
    sc.type_text("123456");
    sc.send(b"\r");
    sc.wait_for("▸ admin@127.0.0.1:");
    let screen = sc.contents();
    assert!(!screen.contains("Password"), "{screen}");
    assert!(screen.contains("congratulation"), "{screen}");
    // Ctrl-L unfolds it.
    sc.send(&[0x0c]);
    sc.wait_for("URL");
    sc.send(&[0x11]);
    assert!(sc.wait_exit().success());
    server.terminate();
}
