//! The real terminal: raw mode and the alternate screen, restored on every way out (quit,
//! error, panic, SIGTERM/SIGHUP). The event loop itself is `crate::runtime`.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::app::{App, Command};

pub use crate::runtime::{Exit, FRAME_INTERVAL, RunOptions, run};

/// Whether `enter` is in effect, so `restore` runs once: leaving the alternate screen twice
/// would move the cursor back over what was printed in between (e.g. a panic message).
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Put the terminal in raw mode on the alternate screen; `restore` undoes it.
pub fn enter() -> io::Result<()> {
    ENTERED.store(true, Ordering::SeqCst);
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
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = crossterm::execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        // Blank the alternate screen first: tmux (3.3a) moves its content onto the normal
        // screen when the window was resized while it was shown.
        crossterm::cursor::MoveTo(0, 0),
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All),
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
pub async fn run_terminal(
    app: App,
    initial: Vec<Command>,
    opts: RunOptions,
) -> anyhow::Result<Exit> {
    let mut opts = opts;
    opts.clipboard
        .get_or_insert_with(crate::runtime::Clipboard::osc52_stdout);
    install_panic_hook();
    enter()?;
    let _guard = TerminalGuard;
    let mut terminal: Terminal<CrosstermBackend<Stdout>> =
        Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let input = crossterm::event::EventStream::new();
    run(&mut terminal, app, initial, input, shutdown_signal(), opts).await
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

/// Run `wsdeck proxy`'s UI on the real terminal until the user quits or a signal arrives.
pub async fn run_proxy_terminal(
    ui: crate::app::proxy::ProxyApp,
    proxy: crate::proxy::RunningProxy,
    opts: crate::runtime::proxy::ProxyRunOptions,
) -> anyhow::Result<Exit> {
    let mut opts = opts;
    opts.clipboard
        .get_or_insert_with(crate::runtime::Clipboard::osc52_stdout);
    opts.editor.get_or_insert_with(external_editor);
    install_panic_hook();
    enter()?;
    let _guard = TerminalGuard;
    let mut terminal: Terminal<CrosstermBackend<Stdout>> =
        Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let input = crossterm::event::EventStream::new();
    crate::runtime::proxy::run_proxy(&mut terminal, ui, proxy, input, shutdown_signal(), opts).await
}

/// `$VISUAL`, else `$EDITOR`, else `vi`, on a private temporary file holding the text, with
/// the UI suspended meanwhile; what was saved, without the newline editors add at the end.
pub fn external_editor() -> crate::runtime::proxy::EditorFn {
    Box::new(|text: &str| {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = tempfile::Builder::new()
            .prefix("wsdeck-edit-")
            .tempdir()
            .map_err(|e| format!("cannot make a file for the editor: {e}"))?;
        let path = dir.path().join("message.txt");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let set = |name| {
            std::env::var(name)
                .ok()
                .filter(|e: &String| !e.trim().is_empty())
        };
        let editor = set("VISUAL")
            .or_else(|| set("EDITOR"))
            .unwrap_or_else(|| "vi".to_string());
        restore();
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(&path)
            .status();
        let _ = enter();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(format!("the editor ({editor}) exited with {s}")),
            Err(e) => return Err(format!("cannot run the editor ({editor}): {e}")),
        }
        let mut out = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read back the edited message: {e}"))?;
        if out.ends_with('\n') {
            out.pop();
            if out.ends_with('\r') {
                out.pop();
            }
        }
        Ok(out)
    })
}
