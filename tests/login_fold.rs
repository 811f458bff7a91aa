//! Issue 14 item 8: the login pane folds to one line once logged in (the history gets its
//! columns and rows back), a key and Tab bring it back, and whichever field has the focus is
//! on screen at every size down to 40×12.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsdeck::app::{App, AppInit, Event, Focus};
use wsdeck::model::{ConnState, NetEvent};
use wsdeck::spec::ConnectSpec;

fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) {
    app.update(Event::Key(KeyEvent::new(code, mods)));
}

/// The screen and the cursor's position.
fn draw(app: &mut App, w: u16, h: u16) -> (Vec<String>, Option<(u16, u16)>) {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut fb = None;
    term.draw(|f| fb = Some(wsdeck::ui::draw(f, app))).unwrap();
    let cursor = term.get_cursor_position().ok().map(|p| (p.x, p.y));
    app.update(Event::Drawn(fb.unwrap()));
    let buf = term.backend().buffer();
    let rows = (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect();
    (rows, cursor)
}

fn app() -> App {
    let mut spec = ConnectSpec::new("ws://127.0.0.1:40123/");
    spec.user = "admin".into();
    let (mut app, _) = App::new(AppInit::new(spec));
    app.set_utc_offset(0);
    app
}

fn logged_in() -> App {
    let mut app = app();
    for s in [ConnState::Connecting, ConnState::LoggedIn] {
        app.update(Event::Net(NetEvent::State(s)));
    }
    app
}

#[test]
fn once_logged_in_the_pane_is_one_line_and_the_history_gets_the_room() {
    for (w, h) in [(80, 24), (60, 20), (40, 12)] {
        let mut app = logged_in();
        assert!(app.login_folded(), "{w}×{h}");
        let (rows, _) = draw(&mut app, w, h);
        let all = rows.join("\n");
        assert!(rows[0].contains("▸ admin@127.0.0.1:40123 · "), "{all}");
        if w >= 60 {
            assert!(rows[0].contains("· logged in"), "{all}");
        }
        assert!(rows[0].contains("Ctrl-L"), "{all}");
        // The history's box starts on the second row, across the whole width.
        assert!(rows[1].starts_with('╭') && rows[1].ends_with('╮'), "{all}");
        assert!(rows[1].contains("Messages"), "{all}");
        assert!(!all.contains("Password"), "{all}");
        // Ctrl-L unfolds it, Ctrl-L folds it again.
        key(&mut app, KeyCode::Char('l'), KeyModifiers::CONTROL);
        assert!(!app.login_folded());
        let (rows, _) = draw(&mut app, w, h);
        assert!(rows.join("\n").contains("URL"), "{w}×{h}");
        key(&mut app, KeyCode::Char('l'), KeyModifiers::CONTROL);
        assert!(app.login_folded());
        // Tab into a login field unfolds it too.
        key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
        assert!(app.focus().is_login());
        assert!(!app.login_folded());
    }
}

#[test]
fn a_close_brings_the_pane_back() {
    let mut app = logged_in();
    app.update(Event::Net(NetEvent::State(ConnState::Closed {
        code: Some(4001),
        reason: String::new(),
    })));
    assert!(!app.login_folded());
    let (rows, _) = draw(&mut app, 80, 24);
    assert!(rows.join("\n").contains("URL"));
}

#[test]
fn the_focused_field_is_on_screen_at_every_size() {
    for (w, h) in [(40, 12), (44, 14), (60, 20), (80, 24), (120, 40)] {
        let mut app = app();
        for _ in 0..5 {
            let focus = app.focus();
            let (rows, cursor) = draw(&mut app, w, h);
            let all = rows.join("\n");
            let label = match focus {
                Focus::Url => "URL",
                Focus::User => "User",
                Focus::Password => "Password",
                _ => {
                    key(&mut app, KeyCode::Down, KeyModifiers::NONE);
                    continue;
                }
            };
            let (_, y) = cursor.unwrap_or_else(|| panic!("no cursor at {w}×{h}:\n{all}"));
            // Label beside the value (narrow) or on the row above it (wide).
            let near =
                rows[y as usize].contains(label) || (y > 0 && rows[y as usize - 1].contains(label));
            assert!(near, "{focus:?} not at the cursor at {w}×{h}:\n{all}");
            key(&mut app, KeyCode::Down, KeyModifiers::NONE);
        }
    }
}
