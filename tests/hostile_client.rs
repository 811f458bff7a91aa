//! Hostile servers and hostile files against the built client (issue 15.1, 15.3, 15.6, 15.7):
//! the real `wsdeck` binary, memory read from its `/proc/PID/status`, every wait guarded so a
//! hang fails the test instead of stalling it. Nothing here asserts a speed.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::output_guarded;
use common::pty::Screen;

fn wsdeck(args: &[&str], envs: &[(&str, &str)], what: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdeck"));
    cmd.args(args).envs(envs.iter().copied());
    output_guarded(&mut cmd, what)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(ok.success(), "mkfifo {}", path.display());
}

/// Fails with one sentence that names the file and says what it is.
fn assert_refused(o: &Output, file: &Path, says: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "exit 0 for {}: {err}", file.display());
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains(says), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
}

#[test]
fn replay_of_a_device_a_fifo_or_a_symlink_to_one_fails_at_once_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.jsonl");
    mkfifo(&fifo);
    let zero_link = dir.path().join("zero.jsonl");
    std::os::unix::fs::symlink("/dev/zero", &zero_link).unwrap();
    let fifo_link = dir.path().join("fifo-link.jsonl");
    std::os::unix::fs::symlink(&fifo, &fifo_link).unwrap();
    let zero = Path::new("/dev/zero");
    for (file, says) in [
        (zero, "a character device"),
        (fifo.as_path(), "a FIFO"),
        (zero_link.as_path(), "a character device"),
        (fifo_link.as_path(), "a FIFO"),
    ] {
        let o = wsdeck(
            &["replay", file.to_str().unwrap()],
            &[],
            "wsdeck replay of a special file",
        );
        assert_refused(&o, file, says);
        assert!(
            stderr(&o).contains("cannot open recording"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn a_recording_line_without_end_is_cut_at_the_line_limit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("endless.jsonl");
    // Sparse: 200 MiB of zero bytes and no line break, without using the disk.
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(200 << 20).unwrap();
    drop(f);
    let o = wsdeck(
        &["replay", file.to_str().unwrap()],
        &[],
        "wsdeck replay of a file with an endless line",
    );
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("line 1 is longer than 128 MiB"), "{err}");
    assert!(err.contains("not a wsdeck recording"), "{err}");
}

#[test]
fn a_config_symlinked_to_a_device_or_a_fifo_fails_at_once_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let zero_link = dir.path().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero_link).unwrap();
    let fifo_link = dir.path().join("fifo.toml");
    std::os::unix::fs::symlink(&fifo, &fifo_link).unwrap();
    for (file, says) in [
        (zero_link.as_path(), "a character device"),
        (fifo_link.as_path(), "a FIFO"),
    ] {
        let path = file.to_str().unwrap();
        let o = wsdeck(
            &["pipe", "--config", path, "@prod"],
            &[],
            "wsdeck pipe --config on a special file",
        );
        assert_refused(&o, file, says);
        // The same through the environment variable.
        let o = wsdeck(
            &["pipe", "@prod"],
            &[("WSDECK_CONFIG", path)],
            "wsdeck pipe with WSDECK_CONFIG on a special file",
        );
        assert_refused(&o, file, says);
        assert!(stderr(&o).contains("cannot read config"), "{}", stderr(&o));
    }
}

#[test]
fn a_config_bigger_than_any_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.toml");
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    let o = wsdeck(
        &["pipe", "--config", file.to_str().unwrap(), "@prod"],
        &[],
        "wsdeck pipe --config on a 1 GiB file",
    );
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("larger than 4 MiB"), "{err}");
}

// ---------------------------------------------------------------------------------------
// 15.1: a server that pings flat out and never reads our pongs.

const MIB: u64 = 1024;

/// A server that answers the upgrade, then writes `size`-byte pings as fast as the socket
/// takes them and never reads a byte. Returns its port and the bytes of pings it got written.
fn ping_flooder(size: usize) -> (u16, Arc<AtomicU64>) {
    ping_flooder_reading(size, false)
}

/// [`ping_flooder`], reading (and dropping) what the client sends when `reads`.
fn ping_flooder_reading(size: usize, reads: bool) -> (u16, Arc<AtomicU64>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let written = Arc::new(AtomicU64::new(0));
    let count = written.clone();
    std::thread::spawn(move || {
        let Ok((mut tcp, _)) = listener.accept() else {
            return;
        };
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if tcp.read(&mut byte).unwrap_or(0) == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let key = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| value.trim().to_string())
            })
            .expect("a Sec-WebSocket-Key");
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        if tcp.write_all(answer.as_bytes()).is_err() {
            return;
        }
        if reads {
            let mut rx = tcp.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                while rx.read(&mut buf).is_ok_and(|n| n > 0) {}
            });
        }
        // Batches of pings, each with its own counter so none is like the previous one.
        let mut n = 0u64;
        loop {
            let mut batch = Vec::with_capacity(1 << 16);
            while batch.len() < 1 << 16 {
                n += 1;
                let mut payload = format!("{n:0>size$}").into_bytes();
                payload.truncate(size);
                batch.push(0x89);
                batch.push(size as u8);
                batch.extend_from_slice(&payload);
            }
            if tcp.write_all(&batch).is_err() {
                return;
            }
            count.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
    });
    (port, written)
}

/// Wait until the flooder got `at_least` bytes out (the client is reading its pings).
fn wait_for_flood(written: &AtomicU64, at_least: u64) {
    let start = std::time::Instant::now();
    while written.load(Ordering::Relaxed) < at_least {
        assert!(
            start.elapsed() < common::GUARD,
            "the client read only {} bytes of pings",
            written.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn pipe_memory_stays_bounded_when_the_server_pings_flat_out_and_never_reads() {
    for size in [125, 16] {
        let (port, written) = ping_flooder(size);
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
            .args(["pipe", &format!("ws://127.0.0.1:{port}/"), "--auth", "none"])
            .args(["--no-reconnect", "--ping-interval", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let err = common::lines_of(child.stderr.take().unwrap());
        wait_for_flood(&written, 1 << 20);
        std::thread::sleep(Duration::from_secs(5));
        let (_, hwm) = common::memory_kib(child.id());
        let flood = written.load(Ordering::Relaxed);
        // Still responsive: the end of stdin closes (the server never answers the Close, so
        // that is an error after the close timeout), it does not wait for the flood.
        drop(stdin);
        let status = common::wait_guarded(&mut child, "wsdeck pipe under a ping flood");
        let errors: Vec<String> = err.try_iter().collect();
        assert!(
            hwm < 100 * MIB,
            "{size}-byte pings: wsdeck pipe reached {} MiB after reading {} MiB of pings \
             ({status}, stderr {errors:?})",
            hwm / MIB,
            flood >> 20
        );
    }
}

/// `wsdeck connect URL --auth none --keep-frames 10000` in a pty, on the monitor view once it
/// lists pings and pongs.
fn ui_flooded(port: u16) -> Screen {
    let url = format!("ws://127.0.0.1:{port}/");
    let mut sc = Screen::spawn(&[
        "connect",
        &url,
        "--auth",
        "none",
        "--keep-frames",
        "10000",
        "--no-reconnect",
        "--ping-interval",
        "0",
    ]);
    // `--auth none` connects at once.
    sc.wait_for("connected");
    sc.send(b"\x1bOR"); // F3: the monitor
    sc.wait_for("ping");
    sc.wait_for("pong");
    sc
}

/// Sample the UI's memory over a few seconds of flood — under 100 MiB, and not growing
/// (16 MiB at most between the second and the seventh second) — then quit it with Ctrl-Q.
fn assert_ui_bounded_and_quits(mut sc: Screen, written: &AtomicU64, what: &str) {
    let pid = sc.child.process_id().expect("child pid");
    std::thread::sleep(Duration::from_secs(2));
    let (early, _) = common::memory_kib(pid);
    std::thread::sleep(Duration::from_secs(5));
    let (late, hwm) = common::memory_kib(pid);
    let flood = written.load(Ordering::Relaxed);
    assert!(
        hwm < 100 * MIB && late < early + 16 * MIB,
        "{what}: the UI went from {} to {} MiB (peak {} MiB) over {} MiB of pings; screen:\n{}",
        early / MIB,
        late / MIB,
        hwm / MIB,
        flood >> 20,
        sc.contents()
    );
    sc.send(&[0x11]); // Ctrl-Q
    assert!(sc.wait_exit().success(), "{}", sc.contents());
    sc.assert_restored();
}

#[test]
fn the_ui_stays_bounded_and_responsive_when_the_server_pings_flat_out_and_never_reads() {
    let (port, written) = ping_flooder(125);
    let sc = ui_flooded(port);
    assert_ui_bounded_and_quits(sc, &written, "125-byte pings, never read");
}

#[test]
fn the_ui_stays_bounded_when_the_server_pings_flat_out_and_reads_every_pong() {
    let (port, written) = ping_flooder_reading(16, true);
    let sc = ui_flooded(port);
    assert_ui_bounded_and_quits(sc, &written, "16-byte pings, pongs read");
}

// ---------------------------------------------------------------------------------------
// 15.7: the disk fills up during a recording in the UI.

#[test]
fn a_recording_that_hits_a_full_disk_says_so_at_once_and_rec_goes_away() {
    let mut server = common::serve::spawn_serve("admin", "123456", &["--tick", "0"]);
    let url = server.url();
    // /dev/full: opening works, every write fails with "No space left on device".
    let mut sc = Screen::spawn_env(
        &["connect", &url, "--user", "admin", "--record", "/dev/full"],
        &[("WSDECK_PASSWORD", "123456")],
    );
    sc.wait_for("Login");
    sc.send(b"\r");
    sc.wait_for("logged in as admin");
    // The first frames already failed to be written: said at once, in the chat and the
    // status bar, and still there after more keys (a notice alone would be gone).
    sc.wait_for("recording to /dev/full stopped: No space left on device");
    sc.type_text("hello\r");
    sc.wait_for("your submit context: hello");
    let screen = sc.contents();
    assert!(
        screen.contains("recording to /dev/full stopped"),
        "{screen}"
    );
    assert!(screen.contains("○ REC stopped"), "{screen}");
    assert!(!screen.contains("● REC"), "{screen}");
    sc.send(&[0x11]); // Ctrl-Q
    let status = sc.wait_exit();
    // Quitting still reports the lost recording.
    assert!(!status.success());
    server.terminate();
}
