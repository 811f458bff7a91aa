//! How stdin becomes frames (`--send`): each line a text frame, each line hex or base64 as a
//! binary frame, or raw stdin as binary frames (`--frame-size`). Read on its own thread (a
//! blocking read must not hold up exit).

use std::io;

use tokio::sync::mpsc;

use crate::codec::{decode_base64, decode_hex};
use crate::model::NetCommand;

/// stdin items buffered ahead of the session.
const QUEUE: usize = 1024;
/// Bytes per read of raw stdin (`--send binary` without `--frame-size`).
const READ_CHUNK: usize = 64 * 1024;

/// `--send`: what stdin holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SendMode {
    /// Each line is a text frame (invalid UTF-8 replaced).
    #[default]
    Text,
    /// Raw bytes: each read a binary frame, or `--frame-size` bytes per frame.
    Binary,
    /// Each line is hex (spaces allowed) sent as a binary frame.
    Hex,
    /// Each line is base64 sent as a binary frame.
    Base64,
}

/// One frame to send, or why stdin could not be turned into one (reading stops there).
pub(super) type Input = Result<NetCommand, String>;

/// Start reading stdin in `mode`; `frame_size` only for [`SendMode::Binary`].
pub(super) fn read_stdin(mode: SendMode, frame_size: Option<usize>) -> mpsc::Receiver<Input> {
    let (tx, rx) = mpsc::channel(QUEUE);
    std::thread::spawn(move || {
        let stdin = io::stdin().lock();
        match mode {
            SendMode::Binary => read_raw(stdin, frame_size, &tx),
            _ => read_lines(stdin, mode, &tx),
        }
    });
    rx
}

fn read_lines(mut stdin: impl io::BufRead, mode: SendMode, tx: &mpsc::Sender<Input>) {
    let mut buf = Vec::new();
    let mut number = 0u64;
    loop {
        buf.clear();
        match stdin.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        number += 1;
        if buf.ends_with(b"\n") {
            buf.pop();
            if buf.ends_with(b"\r") {
                buf.pop();
            }
        }
        let item = line_frame(&buf, mode, number);
        let stop = item.is_err();
        if tx.blocking_send(item).is_err() || stop {
            return;
        }
    }
}

/// The frame one stdin line (without its line ending) stands for.
fn line_frame(line: &[u8], mode: SendMode, number: u64) -> Input {
    let text = String::from_utf8_lossy(line);
    let bad = |what: &str, why: &dyn std::fmt::Display| {
        format!("stdin line {number} is not {what}: {why}")
    };
    match mode {
        SendMode::Hex => decode_hex(&text)
            .map(NetCommand::SendBinary)
            .map_err(|why| bad("hex", &why)),
        SendMode::Base64 => decode_base64(&text)
            .map(NetCommand::SendBinary)
            .map_err(|why| bad("base64", &why)),
        SendMode::Text | SendMode::Binary => Ok(NetCommand::SendText(text.into_owned())),
    }
}

/// Raw stdin: each read becomes a frame, or (with `frame_size`) exactly that many bytes per
/// frame, the last one shorter.
fn read_raw(mut stdin: impl io::Read, frame_size: Option<usize>, tx: &mpsc::Sender<Input>) {
    let size = frame_size.unwrap_or(READ_CHUNK).max(1);
    let mut frame: Vec<u8> = Vec::with_capacity(size.min(READ_CHUNK));
    let mut buf = vec![0u8; size.min(READ_CHUNK)];
    loop {
        let want = match frame_size {
            Some(_) => (size - frame.len()).min(buf.len()),
            None => buf.len(),
        };
        let n = match stdin.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        frame.extend_from_slice(&buf[..n]);
        if frame_size.is_none() || frame.len() == size {
            let full = std::mem::replace(&mut frame, Vec::with_capacity(size.min(READ_CHUNK)));
            if tx.blocking_send(Ok(NetCommand::SendBinary(full))).is_err() {
                return;
            }
        }
    }
    if !frame.is_empty() {
        let _ = tx.blocking_send(Ok(NetCommand::SendBinary(frame)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(c: &Input) -> &[u8] {
        match c {
            Ok(NetCommand::SendBinary(b)) => b,
            other => panic!("not a binary frame: {other:?}"),
        }
    }

    #[test]
    fn lines_become_frames_by_mode_and_bad_lines_are_named() {
        assert_eq!(
            binary(&line_frame(b"de ad", SendMode::Hex, 1)),
            [0xde, 0xad]
        );
        assert_eq!(
            binary(&line_frame(b"3q0=", SendMode::Base64, 1)),
            [0xde, 0xad]
        );
        assert!(matches!(
            line_frame(b"caf\xc3\xa9", SendMode::Text, 1),
            Ok(NetCommand::SendText(t)) if t == "café"
        ));
        assert_eq!(
            line_frame(b"xyz", SendMode::Hex, 3).unwrap_err(),
            "stdin line 3 is not hex: 'x' is not a hex digit"
        );
        assert!(
            line_frame(b"!!", SendMode::Base64, 7)
                .unwrap_err()
                .starts_with("stdin line 7 is not base64: ")
        );
    }

    #[test]
    fn raw_stdin_is_cut_into_frames_of_the_given_size() {
        let (tx, mut rx) = mpsc::channel(16);
        let data: Vec<u8> = (0..10).collect();
        read_raw(&data[..], Some(4), &tx);
        drop(tx);
        let mut frames = Vec::new();
        while let Ok(item) = rx.try_recv() {
            frames.push(binary(&item).to_vec());
        }
        assert_eq!(frames, [vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
    }
}
