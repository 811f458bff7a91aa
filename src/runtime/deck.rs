//! The loop's state as a struct: the open sessions ("tabs"), the draw cadence, the scripted
//! demo and the clock. One method per event source — terminal, network batch, script wake,
//! tick, draw — so tests can drive it without a terminal or a `select!`.

use std::time::SystemTime;

use crossterm::event::{Event as TermEvent, KeyEventKind};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::time::Instant;

use super::{
    DeckKey, Exit, FRAME_INTERVAL, Flow, QUIT_CLOSE_WAIT, RunOptions, Tab, deck_key, draw,
    received_text,
};
use crate::app::{App, Command, Event, NoteLevel};

/// Where session `n` (from 2) records when the first records to `first`: `x.jsonl` →
/// `x-tab2.jsonl`.
fn tab_recording(first: &std::path::Path, n: usize) -> std::path::PathBuf {
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match first.extension() {
        Some(e) => format!("{stem}-tab{n}.{}", e.to_string_lossy()),
        None => format!("{stem}-tab{n}"),
    };
    first.with_file_name(name)
}
use crate::model::NetEvent;

pub struct Deck {
    pub tabs: Vec<Tab>,
    pub active: usize,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// The user (or the script) asked to leave.
    pub quitting: bool,
    /// The session whose channel is polled first next time (round robin).
    pub rr: usize,
    last_draw: Option<Instant>,
    draws: usize,
    opts: RunOptions,
    started: Instant,
    player: Option<crate::script::Player>,
    pub script_wake: Option<Instant>,
    script_error: Option<anyhow::Error>,
    pub next_tick: Option<Instant>,
    /// The session that ticks are being delivered to, while they are.
    ticking: Option<usize>,
}

impl Deck {
    /// One session over `app`, the commands its start asked for already executed.
    pub fn new(app: App, initial: Vec<Command>, mut opts: RunOptions) -> Deck {
        let mut first = Tab::new(app);
        if let Some(path) = &opts.record {
            first.start_recording(path, opts.overwrite);
        }
        // `--har` is written from what the screen holds (masked), unless --no-redact wants
        // it clear: then the recorder keeps the frames as reported until the end.
        if let Some(path) = &opts.har
            && opts.no_redact
        {
            first
                .tape
                .keep_for_har(path.clone(), opts.overwrite, opts.frame_limits);
        }
        let started = Instant::now();
        let player = opts.script.take().map(crate::script::Player::new);
        let mut deck = Deck {
            tabs: vec![first],
            active: 0,
            dirty: true,
            quitting: false,
            rr: 0,
            last_draw: None,
            draws: 0,
            script_wake: player.as_ref().map(|_| started),
            player,
            opts,
            started,
            script_error: None,
            next_tick: None,
            ticking: None,
        };
        for cmd in initial {
            deck.quitting |= deck.tabs[0].execute(cmd) == Flow::Quit;
        }
        deck
    }

    pub fn active_app(&self) -> &App {
        &self.tabs[self.active].app
    }

    /// Hand text the sessions copied to the clipboard; a failure is a notice.
    pub fn deliver_copies(&mut self) {
        for t in &mut self.tabs {
            for text in t.take_copies() {
                let failed = match self.opts.clipboard.as_mut() {
                    Some(c) => c.copy(&text).err().map(|e| format!("copy failed: {e}")),
                    None => Some("no clipboard in this run — nothing copied".to_string()),
                };
                if let Some(why) = failed {
                    let _ = t.update(Event::Notice(crate::app::NoteLevel::Error, why));
                }
            }
        }
    }

    /// When the next draw may happen (at most one per `FRAME_INTERVAL`).
    pub fn next_draw(&self) -> Instant {
        match self.last_draw {
            Some(t) => t + FRAME_INTERVAL,
            None => Instant::now(),
        }
    }

    /// Arm or disarm the clock for what the active session shows as of `now`.
    pub fn plan_ticks(&mut self, now: SystemTime) {
        match self.tabs[self.active].tick_in(now) {
            Some(d) => {
                if self.ticking != Some(self.active) {
                    // Ticks just became needed (the monitor opened, another session came
                    // forward, a countdown started): bring the clock up to date for this draw
                    // rather than show a stale one until the first tick.
                    self.ticking = Some(self.active);
                    let _ = self.tabs[self.active].update(Event::Tick(now));
                    self.dirty = true;
                }
                self.next_tick.get_or_insert_with(|| Instant::now() + d);
            }
            None => {
                self.next_tick = None;
                self.ticking = None;
            }
        }
    }

    fn send_active(&mut self, ev: Event) {
        self.quitting |= self.tabs[self.active].update(ev) == Flow::Quit;
        self.dirty = true;
    }

    /// A key, mouse, paste or resize from the terminal.
    pub fn on_terminal(&mut self, ev: TermEvent) {
        match ev {
            TermEvent::Key(k) if k.kind != KeyEventKind::Release => {
                match deck_key(&k, &self.opts) {
                    Some(DeckKey::New) => self.open_session(),
                    Some(DeckKey::Next) => self.active = (self.active + 1) % self.tabs.len(),
                    Some(DeckKey::Prev) => {
                        self.active = (self.active + self.tabs.len() - 1) % self.tabs.len()
                    }
                    Some(DeckKey::GoTo(n)) if n >= 1 && n <= self.tabs.len() => self.active = n - 1,
                    Some(DeckKey::GoTo(n)) => {
                        let open = self.tabs.len();
                        let s = if open == 1 { "" } else { "s" };
                        self.send_active(Event::Notice(
                            NoteLevel::Warn,
                            format!("there is no session {n}: {open} session{s} open"),
                        ));
                    }
                    Some(DeckKey::Close) => self.close_active(),
                    None => self.send_active(Event::Key(k)),
                }
                self.tabs[self.active].unread = 0;
                self.dirty = true;
            }
            TermEvent::Resize(w, h) => {
                for t in &mut self.tabs {
                    t.resize(w, h);
                }
                self.dirty = true;
            }
            TermEvent::Mouse(m) => self.send_active(Event::Mouse(m)),
            TermEvent::Paste(s) => self.send_active(Event::Paste(s)),
            _ => {}
        }
    }

    /// Alt-W: close the shown session (Close 1000) and drop its tab; the last one stays
    /// (Ctrl-Q quits).
    fn close_active(&mut self) {
        if self.tabs.len() == 1 {
            self.send_active(Event::Notice(
                NoteLevel::Warn,
                "this is the only session — Ctrl-Q quits".into(),
            ));
            return;
        }
        let mut t = self.tabs.remove(self.active);
        t.begin_close();
        self.active = self.active.min(self.tabs.len() - 1);
        self.rr = 0;
        let n = self.active + 1;
        self.send_active(Event::Notice(
            NoteLevel::Info,
            format!("session closed; showing session {n}"),
        ));
    }

    /// Ctrl-T: another session with the login pane filled as the first one started.
    fn open_session(&mut self) {
        let Some(init) = &self.opts.new_session else {
            return;
        };
        let (mut app, cmds) = App::new(init.clone());
        app.set_utc_offset(self.opts.utc_offset);
        if let Some((frames, bytes)) = self.opts.frame_limits {
            app.set_frame_limits(frames, bytes);
        }
        let mut tab = Tab::new(app);
        if let Some((w, h)) = self.tabs[self.active].size {
            tab.resize(w, h);
        }
        // The first session's recording (`--record`, the profile's `record`) is its own: this
        // one records beside it, to FILE-tabN.jsonl, and says so.
        if let Some(first) = &self.opts.record {
            let path = tab_recording(first, self.tabs.len() + 1);
            tab.start_recording(&path, false);
            if tab.app.monitor().recording().is_some() {
                let _ = tab.update(Event::Notice(
                    NoteLevel::Info,
                    format!(
                        "this session records to {} (the first one to {})",
                        path.display(),
                        first.display()
                    ),
                ));
            }
        }
        self.tabs.push(tab);
        self.active = self.tabs.len() - 1;
        for cmd in cmds {
            self.quitting |= self.tabs[self.active].execute(cmd) == Flow::Quit;
        }
    }

    /// A batch of network events for session `i` (the script hears the active one's).
    pub fn on_net_batch(&mut self, i: usize, batch: &mut Vec<NetEvent>) {
        if i == self.active
            && let Some(p) = self.player.as_mut()
        {
            let mut heard = false;
            for text in batch.iter().filter_map(received_text) {
                p.on_text(text);
                heard = true;
            }
            if heard {
                self.script_wake = Some(Instant::now());
            }
        }
        self.quitting |= self.tabs[i].on_net(batch, i == self.active) == Flow::Quit;
        self.dirty |= i == self.active || self.tabs.len() > 1;
    }

    /// The script's next steps are due: play keys until it sleeps, waits or ends.
    pub fn on_script_wake(&mut self) {
        self.script_wake = None;
        loop {
            use crate::script::Action;
            let Some(p) = self.player.as_mut() else {
                return;
            };
            match p.next(self.started.elapsed()) {
                Action::Key(k) => self.send_active(Event::Key(k)),
                Action::Sleep(d) => {
                    self.script_wake = Some(Instant::now() + d);
                    return;
                }
                Action::TimedOut { line, pattern } => {
                    self.script_error = Some(anyhow::anyhow!(
                        "script line {line}: no received message matched {pattern:?} in time"
                    ));
                    self.quitting = true;
                    return;
                }
                Action::Quit => {
                    self.quitting = true;
                    return;
                }
                Action::Done => {
                    self.player = None;
                    return;
                }
            }
        }
    }

    /// The clock moved: the active session's rates and countdowns.
    pub fn on_tick(&mut self, now: SystemTime) {
        self.next_tick = None;
        let _ = self.tabs[self.active].update(Event::Tick(now));
        self.dirty = true;
    }

    /// Draw the screen and hand the draw's feedback back to the active session.
    pub fn draw<B>(&mut self, terminal: &mut Terminal<B>) -> anyhow::Result<()>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        // The frame's start, not its end, sets the cadence (a draw takes time).
        let started_at = Instant::now();
        self.draws += 1;
        let fault = self.opts.panic_at_draw == Some(self.draws);
        let draws = self.draws;
        let mut fb = None;
        terminal.draw(|f| {
            fb = Some(draw(f, &mut self.tabs, self.active, SystemTime::now()));
            if fault {
                panic!("injected fault: panic in draw {draws}");
            }
        })?;
        if let Some(fb) = fb {
            let _ = self.tabs[self.active].update(Event::Drawn(fb));
        }
        self.last_draw = Some(started_at);
        self.dirty = false;
        Ok(())
    }

    /// Leave politely: Close 1000 on every session, wait briefly for the replies, draw the
    /// last screen, write the HAR; a recording or script failure is the run's error.
    pub async fn finish<B>(mut self, terminal: &mut Terminal<B>, exit: Exit) -> anyhow::Result<Exit>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        let deadline = Instant::now() + QUIT_CLOSE_WAIT;
        for t in &mut self.tabs {
            t.begin_close();
        }
        for t in &mut self.tabs {
            t.finish_close(deadline).await;
        }
        if exit == Exit::Quit {
            let _ = terminal.draw(|f| {
                draw(f, &mut self.tabs, self.active, SystemTime::now());
            });
        }
        if let Some(path) = &self.opts.har {
            let written = match self.tabs[0].tape.finish_har()? {
                Some(w) => w,
                None => self.tabs[0].export_har(path, self.opts.overwrite)?.0,
            };
            if let Some(s) = written.opened.sentence(path)
                && let Ok(mut notes) = self.opts.exit_notes.lock()
            {
                notes.push(s);
            }
        }
        if let Some(e) = self.tabs.iter_mut().find_map(|t| t.record_error.take()) {
            return Err(anyhow::anyhow!(e));
        }
        match self.script_error {
            Some(e) => Err(e),
            None => Ok(exit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppInit;
    use crate::spec::ConnectSpec;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn deck_with_new_sessions() -> Deck {
        let init = AppInit::new(ConnectSpec::new("ws://127.0.0.1:9/"));
        let (app, cmds) = App::new(init.clone());
        let opts = RunOptions {
            new_session: Some(init),
            ..RunOptions::default()
        };
        Deck::new(app, cmds, opts)
    }

    fn key(code: KeyCode, mods: KeyModifiers) -> TermEvent {
        TermEvent::Key(KeyEvent::new(code, mods))
    }

    #[test]
    fn ctrl_t_opens_a_session_and_alt_arrows_switch_without_a_terminal() {
        let mut d = deck_with_new_sessions();
        d.dirty = false;
        d.on_terminal(key(KeyCode::Char('t'), KeyModifiers::CONTROL));
        assert_eq!((d.tabs.len(), d.active), (2, 1));
        assert!(d.dirty);
        d.on_terminal(key(KeyCode::Left, KeyModifiers::ALT));
        assert_eq!(d.active, 0);
        d.on_terminal(TermEvent::Resize(100, 30));
        assert!(d.tabs.iter().all(|t| t.size == Some((100, 30))));
    }

    #[test]
    fn typing_reaches_the_active_session_and_ctrl_q_quits() {
        let mut d = deck_with_new_sessions();
        // The login pane starts on the user field (the URL is filled).
        for c in "bob".chars() {
            d.on_terminal(key(KeyCode::Char(c), KeyModifiers::NONE));
        }
        assert_eq!(d.active_app().login().user(), "bob");
        assert!(!d.quitting);
        d.on_terminal(key(KeyCode::Char('q'), KeyModifiers::CONTROL));
        assert!(d.quitting);
    }

    #[test]
    fn a_draw_clears_dirty_and_paces_the_next_one() {
        let mut d = deck_with_new_sessions();
        let mut term = Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        assert!(d.dirty);
        d.draw(&mut term).unwrap();
        assert!(!d.dirty);
        // The next draw waits a frame interval after this one (no wall-clock comparison:
        // a loaded machine may take longer than that to get here).
        let drawn = d.last_draw.expect("the draw is remembered");
        assert_eq!(d.next_draw(), drawn + FRAME_INTERVAL);
    }
}
