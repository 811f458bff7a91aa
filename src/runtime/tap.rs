//! Recording frames to JSONL as they pass through the runtime, one write per batch.

use std::path::Path;

use crate::model::{FrameRecord, HandshakeInfo, NetEvent};
use crate::record::jsonl::Recorder;
use crate::record::target::Opened;

/// Writes a tab's frames (and each handshake) to its recording, if one is on.
#[derive(Default)]
pub struct Tap {
    pub(crate) recorder: Option<Recorder>,
    pub(crate) no_redact: bool,
}

impl Tap {
    pub fn new(no_redact: bool) -> Tap {
        Tap {
            recorder: None,
            no_redact,
        }
    }

    pub fn is_on(&self) -> bool {
        self.recorder.is_some()
    }

    /// Start recording to `path` from now on, beginning with the current handshake (if any):
    /// after what the file already holds, unless `overwrite`. Replaces any recording in
    /// progress; says what was found at `path`.
    pub fn start(
        &mut self,
        path: &Path,
        handshake: Option<&HandshakeInfo>,
        overwrite: bool,
    ) -> anyhow::Result<Opened> {
        let (mut r, opened) = crate::record::target::open_jsonl(path, overwrite)?;
        r.set_redact(!self.no_redact);
        if let Some(h) = handshake {
            r.write_handshake(h)?;
        }
        self.recorder = Some(r);
        Ok(opened)
    }

    pub fn stop(&mut self) {
        self.recorder = None;
    }

    /// Write the frames and handshakes among `events`, in order. On a write error the
    /// recording stops and the error is returned (once).
    pub fn observe(&mut self, events: &[NetEvent]) -> Result<(), String> {
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
        if let Err(e) = result {
            let msg = format!(
                "recording to {} stopped: {e}; frames from now on are not recorded (r in the \
                 monitor starts a new recording)",
                r.path().display()
            );
            self.recorder = None;
            return Err(msg);
        }
        Ok(())
    }
}

fn frames_of(events: &[NetEvent]) -> impl Iterator<Item = &FrameRecord> {
    events.iter().filter_map(|e| match e {
        NetEvent::Frame(f) => Some(f),
        _ => None,
    })
}
