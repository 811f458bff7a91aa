//! End to end in a real pseudo-terminal: the built binary, `wsdeck demo`, read through a
//! terminal emulator (vt100) exactly as a person would see it.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const ROWS: u16 = 30;
const COLS: u16 = 110;
const WAIT: Duration = Duration::from_secs(20);

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    /// Every screen seen so far, for "never shown" checks.
    seen: Arc<Mutex<String>>,
}

impl Screen {
    fn spawn(args: &[&str]) -> Screen {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_wsdeck"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(cmd).expect("spawn wsdeck");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(ROWS).unwrap(),
            std::num::NonZeroU16::new(COLS).unwrap(),
            0,
        )));
        let seen = Arc::new(Mutex::new(String::new()));
        {
            let parser = parser.clone();
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let mut p = parser.lock().unwrap();
                            p.process(&buf[..n]);
                            seen.lock().unwrap().push_str(&p.screen().contents());
                        }
                    }
                }
            });
        }
        Screen {
            parser,
            writer,
            child,
            _master: pair.master,
            seen,
        }
    }

    fn contents(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, needle: &str) {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if self.contents().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{needle:?} never appeared on screen; screen was:\n{}",
            self.contents()
        );
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    fn type_text(&mut self, text: &str) {
        for b in text.bytes() {
            self.send(&[b]);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread take the last bytes.
                std::thread::sleep(Duration::from_millis(200));
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("wsdeck did not exit; screen was:\n{}", self.contents());
    }

    /// The terminal is back to normal: main screen, cursor shown, no mouse reporting.
    fn assert_restored(&self) {
        let p = self.parser.lock().unwrap();
        let s = p.screen();
        assert!(!s.alternate_screen(), "still on the alternate screen");
        assert!(!s.hide_cursor(), "cursor left hidden");
        assert_eq!(
            s.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse reporting left on"
        );
    }
}

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
