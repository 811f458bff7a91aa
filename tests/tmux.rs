//! wsdeck in tmux, as people run it: what a resize does to the screen it leaves behind.

use std::process::Command;
use std::time::{Duration, Instant};

/// One tmux server of its own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(width: u16, height: u16, command: &str) -> Option<Tmux> {
        let socket = format!("wsdeck-test-{}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
            ])
            .args(["-x", &width.to_string(), "-y", &height.to_string(), command])
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmux { socket })
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-t", "t", "-p"])
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait_until(needle, |s| s.contains(needle))
    }

    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if done(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what} never shown; last screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[test]
fn quitting_after_the_window_grew_leaves_the_shell_screen_clean() {
    let bin = env!("CARGO_BIN_EXE_wsdeck");
    let command = format!("printf 'BEFORE\\n'; {bin} demo; echo EXITED $?; sleep 60");
    let Some(t) = Tmux::start(60, 16, &command) else {
        assert!(
            std::env::var_os("WSDECK_REQUIRE_PEERS").is_none(),
            "tmux is needed for this test (apt-get install tmux)"
        );
        eprintln!("skipped: tmux is not installed");
        return;
    };
    t.wait_for("password filled");
    t.tmux(&["resize-window", "-t", "t", "-x", "120", "-y", "30"]);
    // Drawn again at the new size before quitting.
    t.wait_until("the UI at 120 columns", |s| {
        s.lines()
            .any(|l| l.starts_with('╭') && l.chars().count() > 100)
    });
    t.tmux(&["send-keys", "-t", "t", "C-q"]);
    let after = t.wait_for("EXITED 0");
    assert!(
        after.starts_with("BEFORE\nEXITED 0"),
        "the UI was left behind:\n{after}"
    );
    assert!(!after.contains('│') && !after.contains("Login"), "{after}");
}
