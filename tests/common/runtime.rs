//! The whole runtime (event loop, App, network task) driven by key events into a
//! `TestBackend` that publishes each finished frame — the way slumber tests its TUI.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use tokio::sync::mpsc;
use wsdeck::app::{App, AppInit};
use wsdeck::runtime::{Exit, RunOptions, run};

/// A TestBackend that publishes each finished frame as text and counts draws.
pub struct Spy {
    inner: TestBackend,
    screen: Arc<Mutex<String>>,
    draws: Arc<Mutex<usize>>,
}

impl Backend for Spy {
    type Error = <TestBackend as Backend>::Error;
    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, p: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(p)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, t: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(t)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()?;
        let buf = self.inner.buffer();
        let mut text = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                text.push_str(buf[(x, y)].symbol());
            }
            text.push('\n');
        }
        *self.screen.lock().unwrap() = text;
        *self.draws.lock().unwrap() += 1;
        Ok(())
    }
}

/// Keys in, screens out.
pub struct Harness {
    keys: mpsc::UnboundedSender<TermEvent>,
    screen: Arc<Mutex<String>>,
    draws: Arc<Mutex<usize>>,
}

impl Harness {
    pub fn key(&self, code: KeyCode, mods: KeyModifiers) {
        self.keys
            .send(TermEvent::Key(KeyEvent::new(code, mods)))
            .unwrap();
    }
    pub fn press(&self, code: KeyCode) {
        self.key(code, KeyModifiers::NONE);
    }
    pub fn type_text(&self, s: &str) {
        for c in s.chars() {
            self.press(KeyCode::Char(c));
        }
    }
    pub fn screen(&self) -> String {
        self.screen.lock().unwrap().clone()
    }
    pub fn draws(&self) -> usize {
        *self.draws.lock().unwrap()
    }
    /// Ctrl-Q, then the loop must end with `Exit::Quit` within 10 s.
    pub async fn quit(&self, handle: tokio::task::JoinHandle<anyhow::Result<Exit>>) {
        self.key(KeyCode::Char('q'), KeyModifiers::CONTROL);
        let exit = tokio::time::timeout(Duration::from_secs(10), handle)
            .await
            .expect("quit in time")
            .unwrap()
            .unwrap();
        assert_eq!(exit, Exit::Quit);
    }

    /// Wait (up to 15 s) until a drawn frame contains `needle`; returns that screen.
    pub async fn wait_for(&self, needle: &str) -> String {
        for _ in 0..600 {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{needle:?} never drawn; last screen:\n{}", self.screen());
    }
}

/// The embedded server on a free loopback port, user `admin`, password `123456`.
pub async fn demo_server() -> wsdeck::server::RunningServer {
    wsdeck::server::start(wsdeck::server::ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "admin",
        wsdeck::model::Secret::new("123456"),
    ))
    .await
    .unwrap()
}

/// Start the loop on a `width`×`height` spy terminal, inside a `LocalSet`; returns the
/// harness and the loop's join handle.
pub fn launch(
    init: AppInit,
    opts: RunOptions,
    (width, height): (u16, u16),
) -> (Harness, tokio::task::JoinHandle<anyhow::Result<Exit>>) {
    let (backend, tx, input, screen, draws) = spy(width, height);
    let handle = tokio::task::spawn_local(async move {
        let mut terminal = Terminal::new(backend).unwrap();
        let (app, initial) = App::new(init);
        run(
            &mut terminal,
            app,
            initial,
            input,
            std::future::pending::<()>(),
            opts,
        )
        .await
    });
    (
        Harness {
            keys: tx,
            screen,
            draws,
        },
        handle,
    )
}

/// `wsdeck proxy`'s loop on a `width`×`height` spy terminal over a started proxy; returns
/// the harness and the loop's join handle (spawned on the current runtime).
pub fn launch_proxy(
    ui: wsdeck::app::proxy::ProxyApp,
    proxy: wsdeck::proxy::RunningProxy,
    opts: wsdeck::runtime::proxy::ProxyRunOptions,
    (width, height): (u16, u16),
) -> (Harness, tokio::task::JoinHandle<anyhow::Result<Exit>>) {
    let (backend, tx, input, screen, draws) = spy(width, height);
    let handle = tokio::spawn(async move {
        let mut terminal = Terminal::new(backend).unwrap();
        wsdeck::runtime::proxy::run_proxy(
            &mut terminal,
            ui,
            proxy,
            input,
            std::future::pending::<()>(),
            opts,
        )
        .await
    });
    (
        Harness {
            keys: tx,
            screen,
            draws,
        },
        handle,
    )
}

/// Keys the loop reads as its terminal input.
type Keys = std::pin::Pin<Box<dyn futures_util::Stream<Item = std::io::Result<TermEvent>> + Send>>;

/// A spy terminal of `width`×`height`, the sender of its keys and the stream the loop reads
/// them from, and what the spy publishes.
#[allow(clippy::type_complexity)]
fn spy(
    width: u16,
    height: u16,
) -> (
    Spy,
    mpsc::UnboundedSender<TermEvent>,
    Keys,
    Arc<Mutex<String>>,
    Arc<Mutex<usize>>,
) {
    let screen = Arc::new(Mutex::new(String::new()));
    let draws = Arc::new(Mutex::new(0));
    let backend = Spy {
        inner: TestBackend::new(width, height),
        screen: screen.clone(),
        draws: draws.clone(),
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<TermEvent>();
    let input = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|o| o.map(Ok)));
    (backend, tx, Box::pin(input), screen, draws)
}
