//! The event loop: terminal input, every session's network events, a scripted demo, the
//! redraw timer. Generic over the ratatui backend and the input stream, so tests can run the
//! whole program (real network, real App) against a `TestBackend` and a channel of key events.
//!
//! Several sessions ("tabs") can be open at once; each has its own `App` (chat, monitor),
//! network task and recording. Ctrl-T opens one, Alt-←/→ switch.

mod deck;
pub mod proxy;
mod tab;

use std::io;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use crossterm::event::{Event as TermEvent, KeyEvent};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::time::Instant;

use crate::app::{App, AppInit, Command};
use crate::model::NetEvent;
pub use deck::Deck;
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
    /// Replace an existing `record` / `har` file (`--overwrite`) instead of appending to it /
    /// writing the next free name.
    pub overwrite: bool,
    /// Sentences for stderr once the terminal is restored (where the exit's HAR went when
    /// its name was taken). The caller keeps a clone and prints them.
    pub exit_notes: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
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
/// happens. Each wake-up goes to one method of [`Deck`], which tests can drive alone.
pub async fn run<B, I, S>(
    terminal: &mut Terminal<B>,
    app: App,
    initial: Vec<Command>,
    input: I,
    shutdown: S,
    opts: RunOptions,
) -> anyhow::Result<Exit>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    I: Stream<Item = io::Result<TermEvent>> + Unpin,
    S: std::future::Future<Output = ()>,
{
    let mut input = input;
    tokio::pin!(shutdown);
    let mut deck = Deck::new(app, initial, opts);
    let mut batch: Vec<NetEvent> = Vec::with_capacity(NET_BATCH);
    let exit = loop {
        deck.deliver_copies();
        if deck.quitting {
            break Exit::Quit;
        }
        let next_draw = deck.next_draw();
        deck.plan_ticks(SystemTime::now());
        tokio::select! {
            biased;
            _ = &mut shutdown => break Exit::Signal,
            ev = input.next() => match ev {
                Some(Ok(ev)) => deck.on_terminal(ev),
                Some(Err(e)) => return Err(e.into()),
                None => break Exit::InputClosed,
            },
            // A due frame goes before more network events, so a flood cannot hold the
            // screen back (the batch limit bounds the time between two draws).
            _ = tokio::time::sleep_until(next_draw), if deck.dirty => deck.draw(terminal)?,
            (i, _n) = recv_any(&mut deck.tabs, &mut batch, &mut deck.rr) => {
                deck.on_net_batch(i, &mut batch);
            }
            _ = sleep_until_some(deck.script_wake), if deck.script_wake.is_some() => {
                deck.on_script_wake();
            }
            _ = sleep_until_some(deck.next_tick), if deck.next_tick.is_some() => {
                deck.on_tick(SystemTime::now());
            }
        }
    };
    deck.finish(terminal, exit).await
}

enum DeckKey {
    New,
    Next,
    Prev,
    /// Show tab N (from 1).
    GoTo(usize),
    Close,
}

/// Keys the deck handles itself, before the active session's App sees them (the keymap's
/// session actions, which work everywhere).
fn deck_key(k: &KeyEvent, opts: &RunOptions) -> Option<DeckKey> {
    use crate::app::action::{Action, Context};
    match crate::app::keymap::resolve(&[Context::Client], k)? {
        Action::NewSession if opts.new_session.is_some() => Some(DeckKey::New),
        Action::NextSession => Some(DeckKey::Next),
        Action::PrevSession => Some(DeckKey::Prev),
        Action::GoToSession(n) => Some(DeckKey::GoTo(n)),
        Action::CloseSession => Some(DeckKey::Close),
        _ => None,
    }
}

/// The session tabs (when there are several) above the active session's screen, as of
/// `now`; returns what the active session's draw measured.
pub fn draw(
    frame: &mut ratatui::Frame,
    tabs: &mut [Tab],
    active: usize,
    now: SystemTime,
) -> crate::app::Feedback {
    let area = frame.area();
    if tabs.len() <= 1 {
        let t = &mut tabs[active];
        return crate::ui::draw_in(frame, area, &t.app, now, &mut t.view_cache);
    }
    use ratatui::layout::{Constraint, Layout};
    let [bar, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let infos: Vec<crate::ui::tabs::TabInfo> = tabs
        .iter()
        .map(|t| crate::ui::tabs::TabInfo {
            url: t.app.url(),
            user: t.app.login().user(),
            profile: t.app.login().profile_name(),
            state: t.app.conn(),
            unread: t.unread,
        })
        .collect();
    crate::ui::tabs::draw(frame, bar, &infos, active);
    let t = &mut tabs[active];
    crate::ui::draw_in(frame, rest, &t.app, now, &mut t.view_cache)
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
