//! The built binary in a real pseudo-terminal, read through a terminal emulator (vt100)
//! exactly as a person would see it.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const ROWS: u16 = 30;
pub const COLS: u16 = 110;
pub const WAIT: Duration = Duration::from_secs(20);

/// Records what the terminal was asked to do besides drawing: a title, a clipboard write, a
/// bell. Server text must never cause any of them.
#[derive(Default)]
pub struct Watch {
    pub events: Vec<String>,
}

impl vt100::Callbacks for Watch {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.events.push("bell".into());
    }
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.events
            .push(format!("title {}", String::from_utf8_lossy(title)));
    }
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.events
            .push(format!("icon {}", String::from_utf8_lossy(name)));
    }
    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _ty: &[u8], data: &[u8]) {
        self.events
            .push(format!("clipboard {}", String::from_utf8_lossy(data)));
    }
}

pub struct Screen {
    pub parser: Arc<Mutex<vt100::Parser<Watch>>>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    /// Every screen seen so far, for "never shown" checks.
    pub seen: Arc<Mutex<String>>,
}

impl Screen {
    pub fn spawn(args: &[&str]) -> Screen {
        Screen::spawn_env(args, &[])
    }

    pub fn spawn_env(args: &[&str], env: &[(&str, &str)]) -> Screen {
        Screen::spawn_sized(args, env, (COLS, ROWS))
    }

    /// In a terminal of `cols`×`rows`.
    pub fn spawn_sized(args: &[&str], env: &[(&str, &str)], (cols, rows): (u16, u16)) -> Screen {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_wsdeck"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn wsdeck");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new_with_callbacks(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
            0,
            Watch::default(),
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

    pub fn contents(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub fn wait_for(&self, needle: &str) {
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

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    pub fn type_text(&mut self, text: &str) {
        for b in text.bytes() {
            self.send(&[b]);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
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
    pub fn assert_restored(&self) {
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
