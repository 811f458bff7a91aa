//! Hostile servers and hostile files against the built client (issue 15.1, 15.3, 15.6, 15.7):
//! the real `wsdeck` binary, memory read from its `/proc/PID/status`, every wait guarded so a
//! hang fails the test instead of stalling it. Nothing here asserts a speed.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::output_guarded;

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
