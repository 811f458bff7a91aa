//! The built `wsdeck serve` as a child process.

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};

/// Environment variable the helper passes the password in.
pub const PASSWORD_VAR: &str = "WSDECK_TEST_SERVE_PASSWORD";

/// A running `wsdeck serve`; killed when dropped.
pub struct ServeProcess {
    pub child: Child,
    pub addr: SocketAddr,
    /// Stdout lines after `listening on …`.
    pub stdout: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

/// `wsdeck serve --listen 127.0.0.1:0 --user USER --password-env … EXTRA…`, waiting for its
/// `listening on` line.
pub fn spawn_serve(user: &str, password: &str, extra: &[&str]) -> ServeProcess {
    let mut args = vec!["--user", user, "--password-env", PASSWORD_VAR];
    args.extend_from_slice(extra);
    spawn_serve_with(&args, &[(PASSWORD_VAR, password)])
}

/// `wsdeck serve --listen 127.0.0.1:0 ARGS…` with these extra environment variables (no
/// credentials added: give `--users-file` or `--user`/`--password-env` in `args`).
pub fn spawn_serve_with(args: &[&str], envs: &[(&str, &str)]) -> ServeProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(envs.iter().copied())
        // Info-level logs land in `stderr_text()` for assertions and diagnostics.
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsdeck serve");
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err_pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&text);
        }
    });
    let stdout = super::lines_of(child.stdout.take().expect("piped stdout"));
    let addr = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        super::read_listening_line(&stdout, "wsdeck serve")
    })) {
        Ok(a) => a,
        Err(p) => {
            let _ = child.kill();
            let _ = child.wait();
            let log = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
            eprintln!("wsdeck serve stderr:\n{log}");
            std::panic::resume_unwind(p);
        }
    };
    ServeProcess {
        child,
        addr,
        stdout,
        stderr,
    }
}

impl ServeProcess {
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// What it logged on stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// (VmRSS, VmHWM) in KiB, read from `/proc/PID/status`: the memory it holds now and the
    /// most it ever held.
    pub fn memory_kib(&self) -> (u64, u64) {
        super::memory_kib(self.child.id())
    }

    /// SIGTERM, then wait (guarded) for it to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        super::sigterm(&self.child);
        super::wait_guarded(&mut self.child, "wsdeck serve")
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
