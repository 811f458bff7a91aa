//! The event loop: terminal input, every session's network events, a scripted demo, the
//! redraw timer. Generic over the ratatui backend and the input stream, so tests can run the
//! whole program (real network, real App) against a `TestBackend` and a channel of key events.
//!
//! Several sessions ("tabs") can be open at once; each has its own `App` (chat, monitor),
//! network task and recording. Ctrl-T opens one, Alt-←/→ switch.

mod tab;
pub mod tap;

use std::io;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::time::Instant;

use crate::app::{App, AppInit, Command, Event};
use crate::model::NetEvent;
pub use tab::{Flow, Tab};

/// At most this many draws a second; bursts in between are coalesced into one draw.
pub const FRAME_INTERVAL: Duration = Duration::from_micros(16_667);
/// How long quitting waits for the servers' Close replies.
pub const QUIT_CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Network events taken from a channel per wake-up.
pub const NET_BATCH: usize = 4096;
/// How often the clock ticks while something on screen depends on time (monitor stats,
/// a reconnect countdown). Otherwise there is no timer at all.
pub const TICK: Duration = Duration::from_secs(1);

/// Extras for one run of the loop.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// A scripted demo played into the UI as key presses.
    pub script: Option<crate::script::Script>,
    /// Record every frame (and each handshake) of the first session to this JSONL file.
    pub record: Option<std::path::PathBuf>,
    /// Write a HAR file of the first session here on exit.
    pub har: Option<std::path::PathBuf>,
    /// Record and export without redaction (`--no-redact`).
    pub no_redact: bool,
    /// What Ctrl-T opens: a login pane filled like this. `None`: no new sessions.
    pub new_session: Option<AppInit>,
    /// Local UTC offset for new sessions' clocks.
    pub utc_offset: i32,
    /// Where copied text goes (`y` in the monitor, F4 in the chat). `None`: copying is not
    /// available in this run (`tui::run_terminal` uses [`Clipboard::osc52_stdout`]).
    pub clipboard: Option<Clipboard>,
    /// In-memory frame limits (frames, payload bytes) for new sessions.
    pub frame_limits: Option<(usize, usize)>,
    /// Fault injection for tests (`WSDECK_FAULT_PANIC_AT_DRAW=N`): panic inside the Nth draw,
    /// to prove the terminal is restored on a panic.
    pub panic_at_draw: Option<usize>,
}

/// What a [`Clipboard`] calls with the copied text.
type CopyFn = Box<dyn FnMut(&str) -> io::Result<()> + Send>;

/// A clipboard sink: the real terminal gets an OSC 52 sequence; tests collect the text.
pub struct Clipboard(CopyFn);

impl Clipboard {
    pub fn new(f: impl FnMut(&str) -> io::Result<()> + Send + 'static) -> Clipboard {
        Clipboard(Box::new(f))
    }

    /// Write [`osc52`] to stdout (the terminal, or tmux/ssh in between, sets the clipboard).
    pub fn osc52_stdout() -> Clipboard {
        Clipboard::new(|text| {
            use std::io::Write;
            let mut out = io::stdout().lock();
            out.write_all(osc52(text).as_bytes())?;
            out.flush()
        })
    }

    pub fn copy(&mut self, text: &str) -> io::Result<()> {
        (self.0)(text)
    }
}

impl std::fmt::Debug for Clipboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clipboard")
    }
}

/// The OSC 52 "set clipboard" sequence: `ESC ] 52 ; c ; BASE64 ESC \`.
pub fn osc52(text: &str) -> String {
    use base64::Engine;
    format!(
        "\x1b]52;c;{}\x1b\\",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The user quit.
    Quit,
    /// SIGTERM / SIGHUP / SIGINT.
    Signal,
    /// The input stream ended (terminal lost).
    InputClosed,
}

/// Run until the user quits, a signal arrives or the input ends. Draws only when something
/// changed, at most once per `FRAME_INTERVAL`; sleeps (no timers, no polling) while nothing
/// happens.
pub async fn run<B, I, S>(
    terminal: &mut Terminal<B>,
    app: App,
    initial: Vec<Command>,
    input: I,
    shutdown: S,
    mut opts: RunOptions,
) -> anyhow::Result<Exit>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    I: Stream<Item = io::Result<TermEvent>> + Unpin,
    S: std::future::Future<Output = ()>,
{
    let mut input = input;
    tokio::pin!(shutdown);
    let mut tabs = vec![Tab::new(app, opts.no_redact)];
    let mut active = 0usize;
    let mut batch: Vec<NetEvent> = Vec::with_capacity(NET_BATCH);
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut quitting = false;
    let mut rr = 0usize;
    let mut draws = 0usize;

    if let Some(path) = &opts.record {
        tabs[0].start_recording(path);
    }
    let started = Instant::now();
    let mut player = opts.script.take().map(crate::script::Player::new);
    let mut script_wake: Option<Instant> = player.as_ref().map(|_| started);
    let mut script_error: Option<anyhow::Error> = None;
    let mut next_tick: Option<Instant> = None;
    // The session that ticks are being delivered to, while they are.
    let mut ticking: Option<usize> = None;

    for cmd in initial {
        quitting |= tabs[0].execute(cmd) == Flow::Quit;
    }

    let exit = loop {
        for t in &mut tabs {
            for text in t.take_copies() {
                let failed = match opts.clipboard.as_mut() {
                    Some(c) => c.copy(&text).err().map(|e| format!("copy failed: {e}")),
                    None => Some("no clipboard in this run — nothing copied".to_string()),
                };
                if let Some(why) = failed {
                    let _ = t.update(Event::Notice(crate::app::NoteLevel::Error, why));
                }
            }
        }
        if quitting {
            break Exit::Quit;
        }
        let next_draw = match last_draw {
            Some(t) => t + FRAME_INTERVAL,
            None => Instant::now(),
        };
        match tabs[active].tick_in(SystemTime::now()) {
            Some(d) => {
                if ticking != Some(active) {
                    // Ticks just became needed (the monitor opened, another session came
                    // forward, a countdown started): bring the clock up to date for this draw
                    // rather than show a stale one until the first tick.
                    ticking = Some(active);
                    let _ = tabs[active].update(Event::Tick(SystemTime::now()));
                    dirty = true;
                }
                next_tick.get_or_insert_with(|| Instant::now() + d);
            }
            None => {
                next_tick = None;
                ticking = None;
            }
        }
        tokio::select! {
            biased;
            _ = &mut shutdown => break Exit::Signal,
            ev = input.next() => {
                let ev = match ev {
                    Some(Ok(ev)) => ev,
                    Some(Err(e)) => return Err(e.into()),
                    None => break Exit::InputClosed,
                };
                match ev {
                    TermEvent::Key(k) if k.kind != KeyEventKind::Release => {
                        match deck_key(&k, &opts) {
                            Some(DeckKey::New) => {
                                if let Some(init) = &opts.new_session {
                                    let (mut app, cmds) = App::new(init.clone());
                                    app.set_utc_offset(opts.utc_offset);
                                    if let Some((frames, bytes)) = opts.frame_limits {
                                        app.set_frame_limits(frames, bytes);
                                    }
                                    let mut tab = Tab::new(app, opts.no_redact);
                                    if let Some((w, h)) = tabs[active].size {
                                        tab.resize(w, h);
                                    }
                                    tabs.push(tab);
                                    active = tabs.len() - 1;
                                    for cmd in cmds {
                                        quitting |= tabs[active].execute(cmd) == Flow::Quit;
                                    }
                                }
                            }
                            Some(DeckKey::Next) => active = (active + 1) % tabs.len(),
                            Some(DeckKey::Prev) => active = (active + tabs.len() - 1) % tabs.len(),
                            None => quitting |= tabs[active].update(Event::Key(k)) == Flow::Quit,
                        }
                        tabs[active].unread = 0;
                        dirty = true;
                    }
                    TermEvent::Resize(w, h) => {
                        for t in &mut tabs {
                            t.resize(w, h);
                        }
                        dirty = true;
                    }
                    TermEvent::Mouse(m) => {
                        quitting |= tabs[active].update(Event::Mouse(m)) == Flow::Quit;
                        dirty = true;
                    }
                    TermEvent::Paste(s) => {
                        quitting |= tabs[active].update(Event::Paste(s)) == Flow::Quit;
                        dirty = true;
                    }
                    _ => {}
                }
            }
            // A due frame goes before more network events, so a flood cannot hold the
            // screen back (the batch limit bounds the time between two draws).
            _ = tokio::time::sleep_until(next_draw), if dirty => {
                // The frame's start, not its end, sets the cadence (a draw takes time).
                let started_at = Instant::now();
                draws += 1;
                let fault = opts.panic_at_draw == Some(draws);
                let mut fb = None;
                terminal.draw(|f| {
                    fb = Some(draw(f, &tabs, active, SystemTime::now()));
                    if fault {
                        panic!("injected fault: panic in draw {draws}");
                    }
                })?;
                if let Some(fb) = fb {
                    let _ = tabs[active].update(Event::Drawn(fb));
                }
                last_draw = Some(started_at);
                dirty = false;
            }
            (i, _n) = recv_any(&mut tabs, &mut batch, &mut rr) => {
                if i == active
                    && let Some(p) = player.as_mut()
                {
                    let mut heard = false;
                    for text in batch.iter().filter_map(received_text) {
                        p.on_text(text);
                        heard = true;
                    }
                    if heard {
                        script_wake = Some(Instant::now());
                    }
                }
                quitting |= tabs[i].on_net(&mut batch, i == active) == Flow::Quit;
                dirty |= i == active || tabs.len() > 1;
            }
            _ = sleep_until_some(script_wake), if script_wake.is_some() => {
                script_wake = None;
                let Some(p) = player.as_mut() else { continue };
                loop {
                    use crate::script::Action;
                    match p.next(started.elapsed()) {
                        Action::Key(k) => {
                            quitting |= tabs[active].update(Event::Key(k)) == Flow::Quit;
                            dirty = true;
                        }
                        Action::Sleep(d) => {
                            script_wake = Some(Instant::now() + d);
                            break;
                        }
                        Action::TimedOut { line, pattern } => {
                            script_error = Some(anyhow::anyhow!(
                                "script line {line}: no received message matched {pattern:?} in time"
                            ));
                            quitting = true;
                            break;
                        }
                        Action::Quit => {
                            quitting = true;
                            break;
                        }
                        Action::Done => {
                            player = None;
                            break;
                        }
                    }
                }
            }
            _ = sleep_until_some(next_tick), if next_tick.is_some() => {
                next_tick = None;
                let _ = tabs[active].update(Event::Tick(SystemTime::now()));
                dirty = true;
            }
        }
    };

    // Leave politely: Close 1000 on every session, then wait briefly for the replies.
    let deadline = Instant::now() + QUIT_CLOSE_WAIT;
    for t in &mut tabs {
        t.begin_close();
    }
    for t in &mut tabs {
        t.finish_close(deadline).await;
    }
    if exit == Exit::Quit {
        let _ = terminal.draw(|f| {
            draw(f, &tabs, active, SystemTime::now());
        });
    }
    if let Some(path) = &opts.har {
        tabs[0].export_har(path)?;
    }
    if let Some(e) = tabs.iter_mut().find_map(|t| t.record_error.take()) {
        return Err(anyhow::anyhow!(e));
    }
    match script_error {
        Some(e) => Err(e),
        None => Ok(exit),
    }
}

enum DeckKey {
    New,
    Next,
    Prev,
}

/// Keys the deck handles itself, before the active session's App sees them (the keymap's
/// session actions, which work everywhere).
fn deck_key(k: &KeyEvent, opts: &RunOptions) -> Option<DeckKey> {
    use crate::app::action::{Action, Context};
    match crate::app::keymap::resolve(&[Context::Global], k)? {
        Action::NewSession if opts.new_session.is_some() => Some(DeckKey::New),
        Action::NextSession => Some(DeckKey::Next),
        Action::PrevSession => Some(DeckKey::Prev),
        _ => None,
    }
}

/// The session tabs (when there are several) above the active session's screen, as of
/// `now`; returns what the active session's draw measured.
pub fn draw(
    frame: &mut ratatui::Frame,
    tabs: &[Tab],
    active: usize,
    now: SystemTime,
) -> crate::app::Feedback {
    let area = frame.area();
    if tabs.len() <= 1 {
        return crate::ui::draw_in(frame, area, &tabs[active].app, now);
    }
    use ratatui::layout::{Constraint, Layout};
    let [bar, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let infos: Vec<crate::ui::tabs::TabInfo> = tabs
        .iter()
        .map(|t| crate::ui::tabs::TabInfo {
            url: t.app.url(),
            state: t.app.conn(),
            unread: t.unread,
        })
        .collect();
    crate::ui::tabs::draw(frame, bar, &infos, active);
    crate::ui::draw_in(frame, rest, &tabs[active].app, now)
}

/// Wait for the next batch from any session, taking turns so a flood on one cannot starve
/// the others. Pending forever when no session is open.
async fn recv_any(tabs: &mut [Tab], batch: &mut Vec<NetEvent>, rr: &mut usize) -> (usize, usize) {
    std::future::poll_fn(|cx| {
        let n = tabs.len();
        for k in 0..n {
            let i = (*rr + k) % n;
            if let Some(s) = tabs[i].session.as_mut()
                && let Poll::Ready(got) = s.events.poll_recv_many(cx, batch, NET_BATCH)
            {
                *rr = (i + 1) % n;
                return Poll::Ready((i, got));
            }
        }
        Poll::Pending
    })
    .await
}

/// The text of a received text frame.
fn received_text(ev: &NetEvent) -> Option<&str> {
    match ev {
        NetEvent::Frame(f) if f.dir == crate::model::Direction::ServerToClient => f.text(),
        _ => None,
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
