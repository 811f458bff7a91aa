//! Helpers shared by integration tests (`mod common;`).
//!
//! - `client`: a `net::spawn` session and the events it reported;
//! - `peers`: find the seed's Python peers in `../shared/peers`, skip or fail when missing,
//!   run `seed_server.py`;
//! - `pipe`: run the built `wsdeck pipe` with a whole stdin;
//! - `raw`: hand-written servers that misbehave on purpose (a Close never answered…);
//! - `netpeers`: certificates (rcgen), TLS and plain echo servers, third-party proxies;
//! - `serve`: run the built `wsdeck serve` as a child process;
//! - `runtime`: the whole event loop over a TestBackend, driven by keys;
//! - `pty`: the built binary in a pseudo-terminal, its screen read through vt100.
#![allow(dead_code)]

pub mod client;
pub mod netpeers;
pub mod peers;
pub mod pipe;
pub mod proxy;
pub mod pty;
pub mod raw;
pub mod runtime;
pub mod serve;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Hang guard for waiting on child processes and their output.
pub const GUARD: Duration = Duration::from_secs(20);

/// Forward every line `from` produces to a channel, on a thread (so a full pipe never blocks
/// the child).
pub fn lines_of(from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Wait for the first line and parse `listening on HOST:PORT` from it.
pub fn read_listening_line(lines: &mpsc::Receiver<String>, what: &str) -> SocketAddr {
    let line = lines
        .recv_timeout(GUARD)
        .unwrap_or_else(|e| panic!("{what} printed no `listening on` line: {e}"));
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{what}'s first line is not `listening on HOST:PORT`: {line:?}"));
    addr.parse()
        .unwrap_or_else(|e| panic!("{what} printed a bad address {addr:?}: {e}"))
}

/// Wait for `child` to exit, killing it (and panicking) after `GUARD`.
pub fn wait_guarded(child: &mut Child, what: &str) -> std::process::ExitStatus {
    wait_guarded_for(child, what, GUARD)
}

/// Wait for `child` to exit, killing it (and panicking) after `guard`.
pub fn wait_guarded_for(
    child: &mut Child,
    what: &str,
    guard: Duration,
) -> std::process::ExitStatus {
    let deadline = Instant::now() + guard;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(25)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} did not exit within {guard:?}");
            }
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }
}

/// Run `cmd` to its end with its output collected, killing it (and panicking) after `GUARD`:
/// for commands that must fail fast instead of hanging.
pub fn output_guarded(cmd: &mut std::process::Command, what: &str) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = wait_guarded(&mut child, what);
    std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// (VmRSS, VmHWM) in KiB of process `pid`, read from `/proc/PID/status`: the memory it holds
/// now and the most it ever held.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {path}"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Send SIGTERM to a child (via the `kill` command, no extra crates).
pub fn sigterm(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed");
}
