//! The monitor pane: keys, paste and mouse over the frame-log view ([`crate::monitor`]).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::SystemTime;

use crossterm::event::KeyEvent;
use tui_input::Input;

use super::action::{Action, EditOp, Refused};
use super::{App, Command, NoteLevel};
use crate::model::{FrameRecord, NetCommand, Opcode};
use crate::monitor::{Filter, FilterEdit, MonitorView};
use crate::record::FrameStore;
use crate::source::Source;

/// Which view fills the screen above the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// Login pane, history and input (F2).
    #[default]
    Chat,
    /// The session monitor (F3).
    Monitor,
}

/// `wsdeck-YYYYMMDD-HHMMSS` for `t` at `offset` seconds east of UTC.
fn stamp(t: SystemTime, offset: i32) -> String {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs().min(i64::MAX as u64) as i64,
        Err(_) => 0,
    }
    .saturating_add(offset as i64);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(dt) => format!(
            "wsdeck-{:04}{:02}{:02}-{:02}{:02}{:02}",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        ),
        Err(_) => "wsdeck-session".to_string(),
    }
}

impl App {
    /// The monitor over this app's source's log (frames, filter, selection, stats).
    pub fn monitor(&self) -> MonitorView<'_> {
        self.monitor.view(&self.source.log)
    }

    /// The source whose frames this app shows (our session, or a recording).
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Nothing can be sent or connected (a recording): the one guard every action asks.
    pub fn read_only(&self) -> bool {
        self.source.read_only()
    }

    /// Every kept frame (for the HAR export and tests).
    pub fn frames(&self) -> &FrameStore {
        self.source.log.store()
    }

    /// Take in a frame of the source (already redacted as it should be shown).
    pub(super) fn log_frame(&mut self, f: &FrameRecord) {
        self.source.log.push(f);
        self.monitor.pushed(&self.source.log, f);
    }

    /// Which view is shown.
    pub fn view(&self) -> View {
        self.view
    }

    /// Bound the frames kept in memory (defaults: 1,000,000 frames, 512 MiB of payload);
    /// the oldest are dropped now if the store is over the new limits.
    pub fn set_frame_limits(&mut self, max_frames: usize, max_bytes: usize) {
        self.source.log.set_limits(max_frames, max_bytes);
        self.monitor.trim_matches(&self.source.log);
    }

    /// The recording file, while recording.
    pub fn recording(&self) -> Option<&PathBuf> {
        self.monitor.recording.as_ref()
    }

    /// Why the last recording stopped by itself (a write failed), until a new one starts.
    pub fn recording_stopped(&self) -> Option<&str> {
        self.monitor.recording_stopped()
    }

    /// A file name for an export or recording made now: `wsdeck-YYYYMMDD-HHMMSS.EXT` in
    /// local time, from the latest time the app knows (frames, ticks).
    fn file_name(&mut self, ext: &str) -> PathBuf {
        let base = match self.source.log.stats().now() {
            Some(t) => stamp(t, self.utc_offset),
            None => "wsdeck-session".to_string(),
        };
        let name = format!("{base}.{ext}");
        let n = match &self.monitor.last_export {
            Some((last, n)) if *last == name => n + 1,
            _ => 1,
        };
        self.monitor.last_export = Some((name.clone(), n));
        if n == 1 {
            PathBuf::from(name)
        } else {
            PathBuf::from(format!("{base}-{n}.{ext}"))
        }
    }

    pub(super) fn on_monitor_paste(&mut self, s: &str) {
        if let Some(edit) = &mut self.monitor.edit {
            super::input::insert_text(&mut edit.input, s);
            self.filter_typed();
        }
    }

    /// The filter line changed: filter live when it parses (as it is typed), else keep the
    /// last filter that did and say what is wrong.
    fn filter_typed(&mut self) {
        let m = &mut self.monitor;
        let Some(edit) = &mut m.edit else { return };
        match Filter::parse(edit.input.value()) {
            Ok(f) => {
                edit.error = None;
                m.set_filter(&self.source.log, Some(f));
            }
            Err(e) => edit.error = Some(e.message),
        }
    }

    /// A monitor action (the keymap's monitor and filter contexts).
    pub(super) fn apply_monitor(&mut self, a: &Action) {
        let m = &mut self.monitor;
        let log = &self.source.log;
        let page = m.page.max(1) as isize;
        let detail_page = m.detail_page as isize;
        match *a {
            Action::MoveSelection(n) => m.move_selection(log, n as isize),
            Action::SelectPage(n) => m.move_selection(log, page * n as isize),
            Action::SelectFirst => m.select_first(log),
            Action::Follow => m.follow(),
            Action::ScrollDetail(n) => m.scroll_detail(n as isize),
            Action::DetailPage(n) => m.scroll_detail(detail_page * n as isize),
            Action::TogglePause => m.toggle_pause(log),
            Action::ToggleHex => {
                m.hex = !m.hex;
                m.detail_scroll = 0;
            }
            Action::ToggleHandshake => {
                m.handshake_panel = !m.handshake_panel;
                m.detail_scroll = 0;
            }
            Action::ToggleFrames => m.frames_open = !m.frames_open,
            Action::OpenFilter => {
                let current = m.filter.as_ref().map(|f| f.source()).unwrap_or("");
                m.edit = Some(FilterEdit {
                    input: Input::new(current.to_string()),
                    error: None,
                });
            }
            Action::MonitorBack => {
                if m.handshake_panel {
                    m.handshake_panel = false;
                } else if m.filter.is_some() {
                    m.set_filter(log, None);
                }
            }
            Action::ApplyFilter => {
                let Some(edit) = &mut m.edit else { return };
                match Filter::parse(edit.input.value()) {
                    Ok(f) => {
                        m.edit = None;
                        m.set_filter(log, Some(f));
                    }
                    // Keep the line open with the text as typed; the message says what is wrong.
                    Err(e) => edit.error = Some(e.message),
                }
            }
            Action::ClearFilter => {
                m.edit = None;
                m.set_filter(log, None);
            }
            _ => {}
        }
    }

    /// A key typed into the filter line.
    pub(super) fn edit_filter(&mut self, op: EditOp, k: KeyEvent) {
        let Some(edit) = &mut self.monitor.edit else {
            return;
        };
        if super::input::apply_edit(&mut edit.input, op, &k).is_some_and(|c| c.value) {
            self.filter_typed();
        }
    }

    pub(super) fn ping_now(&mut self) -> Result<Vec<Command>, Refused> {
        if !self.session.conn().is_open() {
            self.notify(NoteLevel::Warn, "not connected — no ping sent");
            return Err(Refused);
        }
        self.monitor.pings += 1;
        self.monitor.ping_waiting = true;
        let payload = format!("wsdeck-{}", self.monitor.pings).into_bytes();
        Ok(vec![Command::Net(NetCommand::Ping(payload))])
    }

    pub(super) fn toggle_recording(&mut self) -> Vec<Command> {
        match self.monitor.recording.take() {
            Some(path) => {
                self.notify(
                    NoteLevel::Info,
                    format!("recording stopped: {}", path.display()),
                );
                vec![Command::Record(None)]
            }
            None => {
                let path = self.file_name("jsonl");
                self.notify(
                    NoteLevel::Good,
                    format!("recording to {} (r stops)", path.display()),
                );
                self.monitor.recording = Some(path.clone());
                vec![Command::Record(Some(path))]
            }
        }
    }

    /// Export the frames as HAR to `path` (a dated name when `None`).
    pub(super) fn export_har(&mut self, path: Option<PathBuf>) -> Result<Vec<Command>, Refused> {
        if self.source.log.store().is_empty() && self.session.handshake().is_none() {
            self.notify(NoteLevel::Warn, "nothing to export yet");
            return Err(Refused);
        }
        let path = path.unwrap_or_else(|| self.file_name("har"));
        let n = self.source.log.store().len();
        self.notify(
            NoteLevel::Info,
            format!("exporting {n} frames to {}…", path.display()),
        );
        Ok(vec![Command::ExportHar(path)])
    }

    /// A replayed session's frames: ping → pong round trips give the RTT (the live session
    /// reports it as `NetEvent::Rtt`).
    pub(super) fn replay_rtt(
        &mut self,
        pings: &mut VecDeque<(bytes::Bytes, SystemTime)>,
        f: &FrameRecord,
    ) {
        match (f.dir, f.opcode) {
            (crate::model::Direction::ClientToServer, Opcode::Ping) => {
                if pings.len() >= 16 {
                    pings.pop_front();
                }
                pings.push_back((f.payload.clone(), f.at));
            }
            (crate::model::Direction::ServerToClient, Opcode::Pong) => {
                if let Some(i) = pings.iter().position(|(p, _)| *p == f.payload) {
                    let (_, sent) = pings[i];
                    pings.drain(..=i);
                    if let Ok(d) = f.at.duration_since(sent) {
                        let _ = self.session.on_net(crate::model::NetEvent::Rtt(d));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn stamp_is_local_time() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(stamp(t, 0), "wsdeck-20231114-221320");
        assert_eq!(stamp(t, 3600), "wsdeck-20231114-231320");
    }
}
