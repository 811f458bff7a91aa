//! `wsdeck replay`: an app over a recorded session, read-only.

use crate::model::{NetEvent, Opcode};
use crate::spec::{AuthMethod, ConnectSpec};

use super::{App, AppInit, NoteLevel, View, host_of};

impl App {
    /// A read-only app over a recorded session (`wsdeck replay FILE`): the monitor and the
    /// chat history hold its frames, stats come from their times, the status bar shows
    /// "replay: FILE". The monitor keeps the newest frames within the default limits.
    pub fn replay(recording: crate::record::Recording, file: &str) -> App {
        use crate::record::store::{DEFAULT_MAX_BYTES, DEFAULT_MAX_FRAMES};
        App::replay_with_limits(recording, file, DEFAULT_MAX_FRAMES, DEFAULT_MAX_BYTES)
    }

    /// [`App::replay`] with other frame-store limits (see [`App::set_frame_limits`]).
    pub fn replay_with_limits(
        recording: crate::record::Recording,
        file: &str,
        max_frames: usize,
        max_bytes: usize,
    ) -> App {
        let crate::record::Recording {
            handshake,
            reconnects,
            frames,
            truncated_lines,
        } = recording;
        let url = handshake
            .as_ref()
            .or(reconnects.first().map(|(_, h)| h))
            .map(|h| h.url.clone())
            .unwrap_or_default();
        let mut spec = ConnectSpec::new(url.clone());
        spec.auth = AuthMethod::None;
        let (mut app, _) = App::new(AppInit::new(spec));
        app.source = crate::source::Source::new(
            crate::source::SourceKind::Recording {
                file: file.to_string(),
            },
            crate::record::FrameLog::with_limits(max_frames, max_bytes),
        );
        app.view = View::Monitor;
        // The login pane shows the recording, with nothing to type into.
        app.focus = super::Focus::Input;
        app.session.replaying(&app.masker.url(&url));
        if !url.is_empty() {
            app.chat.history.set_peer(&host_of(&url));
        }
        let mut note = format!("replay of {file}: {} frames", frames.len());
        if truncated_lines > 0 {
            note.push_str(" (an unfinished last line was skipped)");
        }
        app.chat.history.push_note(None, NoteLevel::Info, &note);
        if let Some(h) = handshake {
            app.on_net(NetEvent::Handshake(Box::new(h)));
        }
        let mut later = reconnects.into_iter().peekable();
        let mut pings = std::collections::VecDeque::new();
        for (i, f) in frames.into_iter().enumerate() {
            while let Some((_, h)) = later.next_if(|(at, _)| *at <= i) {
                app.source.log.stats_mut().disconnected();
                app.on_net(NetEvent::Handshake(Box::new(h)));
            }
            app.replay_rtt(&mut pings, &f);
            app.on_frame(f);
        }
        for (_, h) in later {
            app.on_net(NetEvent::Handshake(Box::new(h)));
        }
        let last_close = app
            .source
            .log
            .store()
            .iter()
            .rev()
            .take(4)
            .find(|f| f.opcode == Opcode::Close)
            .and_then(|f| f.close_info());
        app.session.set_closed(
            last_close.as_ref().map(|c| c.code),
            last_close.map(|c| c.reason).unwrap_or_default(),
        );
        app.source.log.stats_mut().disconnected();
        app
    }

    /// The recording's file name, when this app replays one.
    pub fn replay_file(&self) -> Option<&str> {
        self.source.recording_file()
    }
}
