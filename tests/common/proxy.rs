//! The built `wsdeck proxy --no-ui` as a child process, and its JSON lines.

use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use serde_json::Value;

/// A running `wsdeck proxy --no-ui`; killed when dropped.
pub struct ProxyProcess {
    pub child: Child,
    pub addr: SocketAddr,
    lines: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    /// Every stdout line read so far, parsed.
    pub seen: Vec<Value>,
}

/// `wsdeck proxy --no-ui --listen 127.0.0.1:0 ARGS…`, waiting for its `listening on` line
/// (on stderr; stdout carries only JSON).
pub fn spawn_proxy(args: &[&str]) -> ProxyProcess {
    spawn_proxy_env(args, &[])
}

pub fn spawn_proxy_env(args: &[&str], env: &[(&str, &str)]) -> ProxyProcess {
    spawn(args, env, Stdio::null())
}

/// [`spawn_proxy`] with stdin a pipe (take it from `child.stdin`): for `--intercept`, whose
/// steering commands come from stdin.
pub fn spawn_proxy_piped(args: &[&str]) -> ProxyProcess {
    spawn(args, &[], Stdio::piped())
}

fn spawn(args: &[&str], env: &[(&str, &str)], stdin: Stdio) -> ProxyProcess {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdeck"));
    cmd.args(["proxy", "--no-ui", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start wsdeck proxy");
    let lines = super::lines_of(child.stdout.take().expect("piped stdout"));
    let stderr = super::lines_of(child.stderr.take().expect("piped stderr"));
    let addr = super::read_listening_line(&stderr, "wsdeck proxy");
    ProxyProcess {
        child,
        addr,
        lines,
        stderr,
        seen: Vec::new(),
    }
}

impl ProxyProcess {
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Read lines until one satisfies `pred`; panics (showing what was seen) after `GUARD`.
    pub fn until(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + super::GUARD;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let v: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                Err(_) => panic!(
                    "wsdeck proxy printed no {what} within {:?}; it printed:\n{}\nstderr:\n{}",
                    super::GUARD,
                    self.dump(),
                    self.stderr.try_iter().collect::<Vec<_>>().join("\n")
                ),
            }
        }
    }

    /// Wait for the `closed` line of connection `conn`.
    pub fn until_closed(&mut self, conn: u64) -> Value {
        self.until(&format!("closed line of connection {conn}"), |v| {
            v["type"] == "closed" && v["conn"] == conn
        })
    }

    /// The frame lines (no `type`) of connection `conn` seen so far.
    pub fn frames(&self, conn: u64) -> Vec<Value> {
        self.seen
            .iter()
            .filter(|v| v.get("type").is_none() && v["conn"] == conn)
            .cloned()
            .collect()
    }

    /// All stdout so far, one line per value.
    pub fn dump(&self) -> String {
        self.seen
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stderr lines after `listening on`, so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    /// SIGTERM, then wait (guarded) for it to exit; the rest of stdout is read into `seen`.
    pub fn terminate(&mut self) -> ExitStatus {
        super::sigterm(&self.child);
        let status = super::wait_guarded(&mut self.child, "wsdeck proxy");
        while let Ok(line) = self.lines.recv_timeout(std::time::Duration::from_secs(2)) {
            if let Ok(v) = serde_json::from_str(&line) {
                self.seen.push(v);
            }
        }
        status
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(dir, opcode, text)` of frame lines, for compact assertions.
pub fn summary(frames: &[Value]) -> Vec<(String, String, String)> {
    frames
        .iter()
        .map(|f| {
            (
                f["dir"].as_str().unwrap_or("").to_string(),
                f["opcode"].as_str().unwrap_or("").to_string(),
                f["text"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}
