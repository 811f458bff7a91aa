//! `wsdeck proxy`'s loop: terminal input, the proxy's events, the redraw timer and the clock.
//! The UI state is [`ProxyApp`]; this carries its commands out (to the proxy's `Control`, the
//! editor, the clipboard, files) and records every connection with `--record`.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use crossterm::event::{Event as TermEvent, KeyEventKind};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::time::Instant;

use super::{Clipboard, Exit, FRAME_INTERVAL, NET_BATCH, TICK};
use crate::app::NoteLevel;
use crate::app::proxy::{ProxyApp, ProxyIn, ProxyOut};
use crate::proxy::{ProxyEvent, RunningProxy, tape::Tape};
use crate::ui::ViewCache;

/// Opens text in the user's editor and returns what was saved (the real terminal suspends
/// the UI around it; tests pass a function).
pub type EditorFn = Box<dyn FnMut(&str) -> Result<String, String> + Send>;

/// Extras for one run of the proxy's UI.
#[derive(Default)]
pub struct ProxyRunOptions {
    /// Record every connection to this JSONL file as messages pass.
    pub record: Option<PathBuf>,
    /// Write a HAR file of every connection on exit.
    pub har: Option<PathBuf>,
    /// Record and export without redaction.
    pub no_redact: bool,
    /// Replace files already at the `record` / `har` paths (else append / pick a new name).
    pub overwrite: bool,
    pub clipboard: Option<Clipboard>,
    pub editor: Option<EditorFn>,
}

struct Loop {
    ui: ProxyApp,
    /// The proxy's events come in through it and commands go out through its `Control`.
    proxy: RunningProxy,
    opts: ProxyRunOptions,
    tape: Option<Tape>,
    caches: HashMap<u64, ViewCache>,
    dirty: bool,
    quitting: bool,
    last_draw: Option<Instant>,
    /// The terminal must be cleared before the next draw (after the editor ran).
    clear: bool,
}

/// Run the proxy's UI until the user quits, a signal arrives or the input ends.
pub async fn run_proxy<B, I, S>(
    terminal: &mut Terminal<B>,
    ui: ProxyApp,
    proxy: RunningProxy,
    input: I,
    shutdown: S,
    opts: ProxyRunOptions,
) -> anyhow::Result<Exit>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    I: Stream<Item = io::Result<TermEvent>> + Unpin,
    S: std::future::Future<Output = ()>,
{
    let mut input = input;
    tokio::pin!(shutdown);
    let (tape, appended) = match &opts.record {
        Some(p) => {
            let (t, said) = Tape::create(p, opts.overwrite)?;
            (Some(t), said)
        }
        None => (None, None),
    };
    let mut ui = ui;
    if opts.har.is_some() {
        ui.keep_cleared_for_export();
    }
    if let Some(s) = appended {
        ui.update(ProxyIn::Notice(NoteLevel::Info, s));
    }
    let mut lp = Loop {
        ui,
        proxy,
        opts,
        tape,
        caches: HashMap::new(),
        dirty: true,
        quitting: false,
        last_draw: None,
        clear: false,
    };
    let mut next_tick = Instant::now() + TICK;
    let mut batch = Vec::with_capacity(64);
    let exit = loop {
        if lp.quitting {
            break Exit::Quit;
        }
        let next_draw = lp
            .last_draw
            .map_or_else(Instant::now, |t| t + FRAME_INTERVAL);
        tokio::select! {
            biased;
            _ = &mut shutdown => break Exit::Signal,
            ev = input.next() => match ev {
                Some(Ok(ev)) => lp.on_terminal(ev),
                Some(Err(e)) => return Err(e.into()),
                None => break Exit::InputClosed,
            },
            _ = tokio::time::sleep_until(next_draw), if lp.dirty => lp.draw(terminal)?,
            n = lp.proxy.recv_many(&mut batch, NET_BATCH) => {
                if n == 0 {
                    break Exit::InputClosed;
                }
                lp.on_events(&mut batch);
            }
            _ = tokio::time::sleep_until(next_tick) => {
                next_tick = Instant::now() + TICK;
                if lp.ui.open_app().is_some() {
                    lp.ui.update(ProxyIn::Tick(SystemTime::now()));
                    lp.dirty = true;
                }
            }
        }
    };
    // Every connection is closed with 1000 both ways; its end goes to the list, the
    // recording and the HAR.
    let mut ends = Vec::new();
    lp.proxy
        .shut_down(crate::proxy::SHUTDOWN_WAIT, |ev| ends.push(ev))
        .await;
    lp.on_events(&mut ends);
    lp.finish(terminal, exit)
}

impl Loop {
    fn on_terminal(&mut self, ev: TermEvent) {
        let outs = match ev {
            TermEvent::Key(k) if k.kind != KeyEventKind::Release => self.ui.update(ProxyIn::Key(k)),
            TermEvent::Paste(s) => self.ui.update(ProxyIn::Paste(s)),
            TermEvent::Resize(..) => Vec::new(),
            _ => return,
        };
        self.dirty = true;
        self.execute(outs);
    }

    fn on_events(&mut self, batch: &mut Vec<ProxyEvent>) {
        for ev in batch.drain(..) {
            if let Some(t) = self.tape.as_mut()
                && let Err(e) = t.observe(&ev)
            {
                self.tape = None;
                let text = format!(
                    "recording stopped: cannot write the recording ({e}) — free some space and \
                     restart the proxy with --record"
                );
                self.ui.update(ProxyIn::Notice(NoteLevel::Error, text));
            }
            self.ui.update(ProxyIn::Proxy(ev));
        }
        self.dirty = true;
    }

    fn execute(&mut self, outs: Vec<ProxyOut>) {
        for o in outs {
            match o {
                ProxyOut::Proxy(cmd) => {
                    if !self.proxy.send(cmd) {
                        self.ui.update(ProxyIn::Notice(
                            NoteLevel::Warn,
                            "the connection has closed — nothing was sent".into(),
                        ));
                    }
                }
                ProxyOut::SetIntercept(rule) => {
                    match rule.as_deref().map(crate::proxy::intercept_rule) {
                        None => self.proxy.set_intercept(None),
                        Some(Ok(r)) => self.proxy.set_intercept(Some(r)),
                        // The UI parsed it already; say so rather than hold nothing silently.
                        Some(Err(e)) => {
                            self.ui
                                .update(ProxyIn::Notice(NoteLevel::Error, e.to_string()));
                        }
                    }
                }
                ProxyOut::Editor {
                    conn,
                    seq,
                    binary,
                    text,
                } => {
                    let result = match self.opts.editor.as_mut() {
                        // The editor owns the terminal until it exits; on a multi-threaded
                        // runtime the relays go on meanwhile.
                        Some(edit) => match tokio::runtime::Handle::current().runtime_flavor() {
                            tokio::runtime::RuntimeFlavor::MultiThread => {
                                tokio::task::block_in_place(|| edit(&text))
                            }
                            _ => edit(&text),
                        },
                        None => Err("no editor in this run".to_string()),
                    };
                    let _ = binary;
                    self.clear = true;
                    let more = self.ui.update(ProxyIn::Edited { conn, seq, result });
                    self.execute(more);
                }
                ProxyOut::ExportHar { conn, path } => {
                    let notice = match self.export_har(Some(conn), &path) {
                        Ok((n, written)) => (
                            NoteLevel::Good,
                            format!("HAR written: {} ({n} messages)", written.display()),
                        ),
                        Err(e) => (NoteLevel::Error, format!("{e:#}")),
                    };
                    self.ui.update(ProxyIn::Notice(notice.0, notice.1));
                }
                ProxyOut::Copy(text) => {
                    let failed = match self.opts.clipboard.as_mut() {
                        Some(c) => c.copy(&text).err().map(|e| format!("copy failed: {e}")),
                        None => Some("no clipboard in this run — nothing copied".to_string()),
                    };
                    if let Some(why) = failed {
                        self.ui.update(ProxyIn::Notice(NoteLevel::Error, why));
                    }
                }
                ProxyOut::Quit => self.quitting = true,
            }
        }
    }

    /// One connection's (or every connection's) handshakes and messages as HAR, one entry
    /// per connection (beside a file already at `path`, unless `--overwrite`); returns the
    /// number of messages and where they went.
    fn export_har(
        &self,
        conn: Option<u64>,
        path: &std::path::Path,
    ) -> anyhow::Result<(usize, PathBuf)> {
        let listed = self
            .ui
            .rows()
            .iter()
            .filter(|r| conn.is_none_or(|c| c == r.conn))
            .filter_map(|r| self.ui.app(r.conn));
        // All of them: the ones `c` took off the list too (kept with --har).
        let cleared = self.ui.cleared_apps().iter().filter(|_| conn.is_none());
        let mut apps: Vec<_> = cleared.chain(listed).collect();
        apps.sort_by_key(|a| a.source().proxied());
        let n = apps.iter().map(|a| a.frames().len()).sum();
        let opts = crate::record::har::HarOptions {
            redact: !self.opts.no_redact,
            overwrite: self.opts.overwrite,
        };
        let written = crate::record::har::write_har_conns(
            path,
            apps.iter().flat_map(|a| a.source().log.handshakes()),
            apps.iter().flat_map(|a| a.frames().iter()),
            opts,
        )?;
        Ok((n, written.path))
    }

    fn draw<B>(&mut self, terminal: &mut Terminal<B>) -> anyhow::Result<()>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        let started = Instant::now();
        if std::mem::take(&mut self.clear) {
            // The editor left a blank screen: blank ratatui's idea of it too, so the draw
            // below writes every cell (`Terminal::clear` would ask the terminal where its
            // cursor is, which not every terminal answers).
            terminal.backend_mut().clear()?;
            terminal.draw(|_| {})?;
        }
        let open = self.ui.open_app().and_then(|a| a.source().proxied());
        let cache = self.caches.entry(open.unwrap_or(0)).or_default();
        let mut drawn = None;
        let ui = &self.ui;
        terminal.draw(|f| {
            drawn = Some(crate::ui::proxy::draw(
                f,
                f.area(),
                ui,
                SystemTime::now(),
                cache,
            ));
        })?;
        if let Some(d) = drawn {
            if let Some(fb) = d.app {
                self.ui.update(ProxyIn::Drawn(fb));
            }
            if let Some(page) = d.list_page {
                self.ui.update(ProxyIn::ListDrawn { page });
            }
            if let Some(max) = d.help_max {
                self.ui.update(ProxyIn::Drawn(crate::app::Feedback {
                    help_max: Some(max),
                    ..Default::default()
                }));
            }
        }
        self.last_draw = Some(started);
        self.dirty = false;
        Ok(())
    }

    fn finish<B>(mut self, terminal: &mut Terminal<B>, exit: Exit) -> anyhow::Result<Exit>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        if exit == Exit::Quit {
            let _ = self.draw(terminal);
        }
        if let Some(t) = self.tape.as_mut() {
            let _ = t.sync();
        }
        if let Some(path) = self.opts.har.clone() {
            let (_, written) = self.export_har(None, &path)?;
            if written != path {
                eprintln!(
                    "wsdeck: {} exists: the HAR went to {} (--overwrite replaces it)",
                    path.display(),
                    written.display()
                );
            }
        }
        Ok(exit)
    }
}
