//! The terminal runtime: terminal setup and restore, the event loop joining the terminal,
//! the network task and the redraw timer.
//!
//! The loop is generic over the ratatui backend and the input stream, so tests can run the
//! whole program (real network, real App) against a `TestBackend` and a channel of key events.

use std::io::{self, Stdout, Write};
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent, KeyEventKind,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use tokio::time::Instant;

use crate::app::{App, Command, Event};
use crate::model::{NetCommand, NetEvent};
use crate::net::{self, SessionHandle};

/// At most this many draws a second; bursts in between are coalesced into one draw.
pub const FRAME_INTERVAL: Duration = Duration::from_micros(16_667);
/// How long quitting waits for the server's Close reply.
pub const QUIT_CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Network events taken from the channel per wake-up.
const NET_BATCH: usize = 4096;

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

/// Put the terminal in raw mode on the alternate screen; `restore` undoes it.
pub fn enter() -> io::Result<()> {
    enable_raw_mode()?;
    crossterm::execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )?;
    Ok(())
}

/// Undo `enter`. Safe to call more than once and when the terminal is gone.
pub fn restore() {
    let mut out = io::stdout();
    let _ = crossterm::execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal when dropped, whatever path leaves the UI.
pub struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Restore the terminal before the default panic message is printed.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Run the full-screen UI on the real terminal until the user quits or a signal arrives.
pub async fn run_terminal(app: App, initial: Vec<Command>) -> anyhow::Result<Exit> {
    install_panic_hook();
    enter()?;
    let _guard = TerminalGuard;
    let mut terminal: Terminal<CrosstermBackend<Stdout>> =
        Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let input = crossterm::event::EventStream::new();
    let exit = run(&mut terminal, app, initial, input, shutdown_signal()).await?;
    Ok(exit)
}

/// Resolves on SIGTERM, SIGHUP or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    async fn wait(s: &mut Option<tokio::signal::unix::Signal>) {
        match s {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
    tokio::select! {
        _ = wait(&mut term) => {}
        _ = wait(&mut hup) => {}
        _ = wait(&mut int) => {}
    }
}

/// The event loop. Draws only when something changed, at most once per `FRAME_INTERVAL`;
/// sleeps (no timers, no polling) while nothing happens.
pub async fn run<B, I, S>(
    terminal: &mut Terminal<B>,
    mut app: App,
    initial: Vec<Command>,
    input: I,
    shutdown: S,
) -> anyhow::Result<Exit>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    I: Stream<Item = io::Result<TermEvent>> + Unpin,
    S: std::future::Future<Output = ()>,
{
    let mut input = input;
    tokio::pin!(shutdown);
    let mut session: Option<SessionHandle> = None;
    let mut batch: Vec<NetEvent> = Vec::with_capacity(NET_BATCH);
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut quitting = false;

    for cmd in initial {
        quitting |= execute(cmd, &mut session);
    }

    let exit = loop {
        if quitting {
            break Exit::Quit;
        }
        let next_draw = match last_draw {
            Some(t) => t + FRAME_INTERVAL,
            None => Instant::now(),
        };
        tokio::select! {
            biased;
            _ = &mut shutdown => break Exit::Signal,
            ev = input.next() => {
                let ev = match ev {
                    Some(Ok(ev)) => ev,
                    Some(Err(e)) => return Err(e.into()),
                    None => break Exit::InputClosed,
                };
                if let Some(ev) = map_term_event(ev) {
                    for cmd in app.update(ev) {
                        quitting |= execute(cmd, &mut session);
                    }
                    dirty = true;
                }
            }
            n = recv_batch(&mut session, &mut batch) => {
                let ended = n == 0 || matches!(batch.last(), Some(NetEvent::Ended));
                for ev in batch.drain(..) {
                    for cmd in app.update(Event::Net(ev)) {
                        quitting |= execute(cmd, &mut session);
                    }
                }
                if ended {
                    session = None;
                }
                dirty = true;
            }
            _ = tokio::time::sleep_until(next_draw), if dirty => {
                terminal.draw(|f| crate::ui::draw(f, &app))?;
                last_draw = Some(Instant::now());
                dirty = false;
            }
        }
    };

    // Leave politely: Close 1000, then wait briefly for the server's reply.
    if let Some(mut s) = session.take() {
        let _ = s.commands.send(NetCommand::Close {
            code: 1000,
            reason: "bye".into(),
        });
        let deadline = Instant::now() + QUIT_CLOSE_WAIT;
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, s.events.recv()).await {
            let ended = matches!(ev, NetEvent::Ended);
            let _ = app.update(Event::Net(ev));
            if ended {
                break;
            }
        }
        if exit == Exit::Quit {
            let _ = terminal.draw(|f| crate::ui::draw(f, &app));
        }
    }
    Ok(exit)
}

/// Wait for the next batch of network events; pending forever when there is no session.
async fn recv_batch(session: &mut Option<SessionHandle>, batch: &mut Vec<NetEvent>) -> usize {
    match session {
        Some(s) => s.events.recv_many(batch, NET_BATCH).await,
        None => std::future::pending().await,
    }
}

/// Carry out one command; returns true when the app asked to quit.
fn execute(cmd: Command, session: &mut Option<SessionHandle>) -> bool {
    match cmd {
        Command::Connect(spec) => {
            if let Some(old) = session.take() {
                let _ = old.commands.send(NetCommand::Close {
                    code: 1000,
                    reason: "reconnecting".into(),
                });
            }
            *session = Some(net::spawn(spec));
            false
        }
        Command::Net(c) => {
            if let Some(s) = session {
                let _ = s.commands.send(c);
            }
            false
        }
        Command::Quit => true,
    }
}

/// Terminal events the app cares about (key presses, not releases).
pub fn map_term_event(ev: TermEvent) -> Option<Event> {
    match ev {
        TermEvent::Key(k) if k.kind != KeyEventKind::Release => Some(Event::Key(k)),
        TermEvent::Mouse(m) => Some(Event::Mouse(m)),
        TermEvent::Paste(s) => Some(Event::Paste(s)),
        TermEvent::Resize(w, h) => Some(Event::Resize(w, h)),
        _ => None,
    }
}
