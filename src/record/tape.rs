//! The one recorder of a session's events, used by the UI's runtime (per tab) and by `pipe`:
//! the JSONL recording written as events pass (frames between handshakes in one write), and
//! for a HAR written at the end, the frames kept until then.
//!
//! Events reach it as the network task reported them — masked with the files' policy
//! (`redact`), so it writes them as they are.

use std::io;
use std::path::{Path, PathBuf};

use super::har::{HarOptions, Written, write_har_conns};
use super::jsonl::Recorder;
use super::log::FrameLog;
use super::target::{Opened, open_jsonl};
use crate::model::{FrameRecord, HandshakeInfo, NetEvent};

/// A write to the recording failed; the recording stopped there.
#[derive(Debug, thiserror::Error)]
#[error("recording to {} failed: {source}", path.display())]
pub struct RecordingFailed {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// What a HAR written at the end needs.
struct HarAtEnd {
    path: PathBuf,
    overwrite: bool,
    /// Every connection's upgrade and frames (one HAR entry per connection).
    log: FrameLog,
}

/// A session's recording (if on) and the frames kept for a HAR at the end (if asked for).
#[derive(Default)]
pub struct Tape {
    recorder: Option<Recorder>,
    har: Option<HarAtEnd>,
}

impl Tape {
    pub fn is_recording(&self) -> bool {
        self.recorder.is_some()
    }

    /// Record to `path` from now on, beginning with `handshake` (the current one, if any):
    /// after what the file already holds, unless `overwrite`. Replaces any recording in
    /// progress; says what was found at `path`.
    pub fn start(
        &mut self,
        path: &Path,
        handshake: Option<&HandshakeInfo>,
        overwrite: bool,
    ) -> anyhow::Result<Opened> {
        let (mut r, opened) = open_jsonl(path, overwrite)?;
        // The events come masked as the files' policy says (see the module docs).
        r.set_redact(false);
        if let Some(h) = handshake {
            r.write_handshake(h)?;
        }
        self.recorder = Some(r);
        Ok(opened)
    }

    pub fn stop(&mut self) {
        self.recorder = None;
    }

    /// Keep every handshake and frame from now on (within `limits`: frames, payload bytes)
    /// for [`Tape::finish_har`] to write to `path`.
    pub fn keep_for_har(&mut self, path: PathBuf, overwrite: bool, limits: Option<(usize, usize)>) {
        let log = match limits {
            Some((frames, bytes)) => FrameLog::with_limits(frames, bytes),
            None => FrameLog::default(),
        };
        self.har = Some(HarAtEnd {
            path,
            overwrite,
            log,
        });
    }

    /// Write the frames and handshakes among `events`, in order. On a write error the
    /// recording stops and the error is returned (once).
    pub fn observe(&mut self, events: &[NetEvent]) -> Result<(), RecordingFailed> {
        if let Some(har) = self.har.as_mut() {
            for ev in events {
                match ev {
                    NetEvent::Handshake(h) => har.log.push_handshake((**h).clone()),
                    NetEvent::Frame(f) => har.log.push(f),
                    _ => {}
                }
            }
        }
        let Some(r) = self.recorder.as_mut() else {
            return Ok(());
        };
        // Frames between handshakes go out in one write; order is kept.
        let mut result = Ok(());
        let mut start = 0;
        for (i, ev) in events.iter().enumerate() {
            if let NetEvent::Handshake(h) = ev {
                result = result
                    .and_then(|_| r.write_batch(frames_of(&events[start..i])))
                    .and_then(|_| r.write_handshake(h));
                start = i + 1;
            }
        }
        result = result.and_then(|_| r.write_batch(frames_of(&events[start..])));
        if let Err(source) = result {
            let path = r.path().to_path_buf();
            self.recorder = None;
            return Err(RecordingFailed { path, source });
        }
        Ok(())
    }

    /// Write the HAR kept for the end, if one was asked for and a connection was opened;
    /// `None` otherwise.
    pub fn finish_har(&mut self) -> anyhow::Result<Option<Written>> {
        let Some(har) = self.har.take() else {
            return Ok(None);
        };
        if har.log.handshakes().next().is_none() {
            return Ok(None);
        }
        let opts = HarOptions {
            // Masked as reported (see the module docs).
            redact: false,
            overwrite: har.overwrite,
        };
        let log = &har.log;
        write_har_conns(&har.path, log.handshakes(), log.store().iter(), opts).map(Some)
    }

    /// A HAR is kept for the end.
    pub fn keeps_har(&self) -> bool {
        self.har.is_some()
    }
}

fn frames_of(events: &[NetEvent]) -> impl Iterator<Item = &FrameRecord> {
    events.iter().filter_map(|e| match e {
        NetEvent::Frame(f) => Some(f),
        _ => None,
    })
}
