//! The seed's own client (`../shared/peers/seed_client.py`) against `wsdeck serve`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::peers;

#[test]
fn seed_client_logs_in_and_chats_with_wsdeck_serve() {
    if !peers::peers_available() {
        return;
    }
    let mut serve = common::serve::spawn_serve("admin", "123456", &["--tick", "0"]);

    let mut client = Command::new(peers::python())
        .arg(peers::seed_client_py())
        .arg(serve.url())
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start seed_client.py");
    client
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(b"admin:bad\nadmin:123456\nhello\nexit\n")
        .expect("write the client's stdin");
    let stdout = common::lines_of(client.stdout.take().expect("piped stdout"));
    let stderr = common::lines_of(client.stderr.take().expect("piped stderr"));
    let status = common::wait_guarded(&mut client, "seed_client.py");
    let out: String = stdout.iter().collect::<Vec<_>>().join("\n");
    let err: String = stderr.iter().collect::<Vec<_>>().join("\n");
    assert!(
        status.success(),
        "seed_client.py failed: {status:?}\n{out}\n{err}"
    );

    // The prompts share lines with the replies; look for each reply in order.
    let expected = [
        "sorry, the username or password is wrong, please submit again",
        "congratulation, you have connect with server",
        "now, you can do something else",
        "your submit context: hello",
        "you have enter \"exit\", goodbye",
    ];
    let mut rest = out.as_str();
    for want in expected {
        match rest.find(want) {
            Some(i) => rest = &rest[i + want.len()..],
            None => panic!("seed_client.py output lacks {want:?} (in order):\n{out}\n{err}"),
        }
    }
    assert!(
        !out.contains("Traceback") && !err.contains("Traceback"),
        "{out}\n{err}"
    );

    // The server is still up and stops cleanly.
    let status = serve.terminate();
    assert!(status.success(), "wsdeck serve exit: {status:?}");
    let log = serve.stderr_text();
    assert!(
        log.contains("login rejected") && log.contains("logged in"),
        "{log}"
    );
}
