//! The built `wsdeck pipe` as a script runs it: whole stdin in, wait (bounded) for the exit.

use std::io::{Read, Write};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::GUARD;

pub struct Outcome {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Run `wsdeck pipe ARGS` with `stdin` as its whole input and the password (if any) in the
/// environment; wait (bounded) for it to exit.
pub fn pipe(args: &[&str], password: Option<&str>, stdin: impl AsRef<[u8]>) -> Outcome {
    let stdin = stdin.as_ref().to_vec();
    run(args, password, move |mut input| {
        let _ = input.write_all(&stdin);
    })
}

/// Run `wsdeck pipe ARGS` as a person at a terminal would: nothing for `wait`, then `input`,
/// then stdin held open for `hold` before it ends; wait (bounded) for the exit.
pub fn pipe_paced(args: &[&str], wait: Duration, input: &str, hold: Duration) -> Outcome {
    let input = input.to_string();
    run(args, None, move |mut stdin| {
        std::thread::sleep(wait);
        let _ = stdin.write_all(input.as_bytes());
        std::thread::sleep(hold);
    })
}

/// Start `wsdeck pipe ARGS`, hand its stdin to `feed` (on a thread; stdin ends when `feed`
/// returns), collect stdout and stderr until it exits.
fn run(
    args: &[&str],
    password: Option<&str>,
    feed: impl FnOnce(ChildStdin) + Send + 'static,
) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdeck"));
    cmd.arg("pipe")
        .args(args)
        .env_remove("WSDECK_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("WSDECK_PASSWORD", p);
    }
    let mut child = cmd.spawn().expect("start wsdeck pipe");
    let input = child.stdin.take().unwrap();
    // On a thread: a big input must not block against a full stdout.
    std::thread::spawn(move || feed(input));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = String::new();
        let mut stderr = String::new();
        let _ = out.read_to_string(&mut stdout);
        let _ = err.read_to_string(&mut stderr);
        let _ = tx.send((stdout, stderr));
    });
    let (stdout, stderr) = match rx.recv_timeout(GUARD) {
        Ok(o) => o,
        Err(_) => {
            let _ = child.kill();
            panic!("wsdeck pipe {args:?} did not finish within {GUARD:?}");
        }
    };
    let status = child.wait().unwrap();
    Outcome {
        status,
        stdout,
        stderr,
    }
}
