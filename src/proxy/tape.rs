//! The proxy's recording: every connection's handshakes (both legs) and messages in one JSONL
//! file as they pass, written by the same recorder as wsdeck's own sessions (`record`).

use std::path::Path;

use super::ProxyEvent;
use crate::record::Recorder;

pub struct Tape {
    rec: Recorder,
}

impl Tape {
    /// Record to `path` (after a recording already there, unless `overwrite`), and the
    /// sentence that says what happened to a file already there. What the proxy reports
    /// is written as it is: the proxy has hidden the secrets already, unless `--no-redact`.
    pub fn create(path: &Path, overwrite: bool) -> anyhow::Result<(Tape, Option<String>)> {
        let (mut rec, opened) = crate::record::target::open_jsonl(path, overwrite)?;
        rec.set_redact(false);
        Ok((Tape { rec }, opened.sentence(path)))
    }

    /// Write what `ev` adds to the recording (handshakes, messages; nothing else).
    pub fn observe(&mut self, ev: &ProxyEvent) -> std::io::Result<()> {
        match ev {
            ProxyEvent::Opened(o) => {
                self.rec.write_handshake(&o.client_leg)?;
                self.rec.write_handshake(&o.server_leg)
            }
            ProxyEvent::Frames { frames, .. } => {
                self.rec.write_batch(frames.iter().map(|f| &f.record))
            }
            _ => Ok(()),
        }
    }

    /// Flush and sync to disk.
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.rec.sync()
    }
}
