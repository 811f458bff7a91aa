//! Tests of the module above, in their own file so that the module stays readable (under ~800 lines).

use super::*;
use std::collections::HashMap;

const ALL: &[Context] = &[
    Context::Global,
    Context::Client,
    Context::Reconnecting,
    Context::Login,
    Context::Choice,
    Context::Chat,
    Context::Monitor,
    Context::Filter,
    Context::Palette,
    Context::Help,
    Context::Proxy,
    Context::Relayed,
    Context::RelayLine,
    Context::RuleLine,
];

#[test]
fn every_binding_resolves_to_an_action_allowed_in_its_contexts() {
    for b in KEYMAP.iter() {
        assert!(
            b.keys.is_empty() == matches!(b.label, Label::Text(_)),
            "{:?}: text rows have no keys, key rows have keys",
            b.help
        );
        for ctx in b.contexts {
            for (k, a) in &b.keys {
                assert!(
                    a.allowed_in(*ctx),
                    "{} in {ctx:?} is bound to {a:?}, which does nothing there",
                    k.name()
                );
                assert_eq!(
                    resolve(&[*ctx], &KeyEvent::new(k.code, k.mods)),
                    Some(a.clone())
                );
            }
        }
    }
}

#[test]
fn no_two_bindings_in_one_context_share_a_key() {
    for ctx in ALL {
        let mut seen: HashMap<Key, &str> = HashMap::new();
        for b in KEYMAP.iter().filter(|b| b.contexts.contains(ctx)) {
            for (k, _) in &b.keys {
                if let Some(other) = seen.insert(*k, b.help) {
                    panic!(
                        "{} is bound twice in {ctx:?}: {other:?} and {:?}",
                        k.name(),
                        b.help
                    );
                }
            }
        }
    }
}

#[test]
fn keys_are_named_once() {
    assert_eq!(ctrl('c').name(), "Ctrl-C");
    assert_eq!(alt(KeyCode::Left).name(), "Alt-←");
    assert_eq!(key(KeyCode::BackTab).name(), "Shift-Tab");
    assert_eq!(shift(KeyCode::PageDown).name(), "Shift-PgDn");
    assert_eq!(ch(' ').name(), "Space");
    assert_eq!(ch('J').name(), "J");
    let rows: Vec<String> = help_sections()
        .iter()
        .flat_map(|s| s.rows.iter().map(|r| r.0.clone()))
        .collect();
    for want in [
        "Ctrl-C, Ctrl-Q",
        "F5 … F12",
        "Ctrl-R, F6 (login pane)",
        "J, K, Shift-PgDn/PgUp",
        "Alt-B, Alt-F, Ctrl-←/→",
        "/record on [FILE]",
    ] {
        assert!(rows.iter().any(|r| r == want), "{want} missing: {rows:?}");
    }
}

#[test]
fn contexts_decide_what_a_key_does() {
    use Context as C;
    let k = |code| KeyEvent::new(code, KeyModifiers::NONE);
    // F6 shows the password on the login pane; elsewhere it sends snippet 2.
    assert_eq!(
        resolve(&[C::Login, C::Global, C::Client], &k(KeyCode::F(6))),
        Some(Action::Reveal)
    );
    assert_eq!(
        resolve(&[C::Global, C::Client, C::Chat], &k(KeyCode::F(6))),
        Some(Action::Snippet(1))
    );
    // Esc stops a reconnect before the monitor sees it.
    let mon = [C::Reconnecting, C::Global, C::Monitor];
    assert_eq!(
        resolve(&mon, &k(KeyCode::Esc)),
        Some(Action::CancelReconnect)
    );
    assert_eq!(
        resolve(&mon[1..], &k(KeyCode::Esc)),
        Some(Action::MonitorBack)
    );
    // Shift is ignored unless Shift-key is bound.
    let shifted = |code| KeyEvent::new(code, KeyModifiers::SHIFT);
    assert_eq!(
        resolve(&mon[1..], &shifted(KeyCode::Down)),
        Some(Action::MoveSelection(1))
    );
    assert_eq!(
        resolve(&mon[1..], &shifted(KeyCode::PageDown)),
        Some(Action::DetailPage(1))
    );
    assert_eq!(
        resolve(&mon[1..], &shifted(KeyCode::Char('J'))),
        Some(Action::ScrollDetail(1))
    );
    // Ctrl-R means nothing in the monitor: never mistaken for `r`.
    let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
    assert_eq!(resolve(&mon[1..], &ctrl_r), None);
    // Unbound keys are typing in text fields.
    assert_eq!(
        resolve(&[C::Global, C::Chat], &k(KeyCode::Char('x'))),
        Some(Action::Edit(crate::app::action::EditOp::Type))
    );
}

#[test]
fn hints_name_the_key_that_works_from_anywhere() {
    assert_eq!(
        key_for(Context::Global, &Action::Quit).as_deref(),
        Some("Ctrl-Q")
    );
    assert_eq!(
        key_for(Context::Client, &Action::ChatView).as_deref(),
        Some("F2")
    );
    assert_eq!(
        key_for(Context::Client, &Action::Snippet(3)).as_deref(),
        Some("F8")
    );
    // The chat view and snippets are wsdeck's own sessions', not the proxy's.
    assert_eq!(key_for(Context::Global, &Action::ChatView), None);
    assert_eq!(key_for(Context::Global, &Action::Ping), None);
    assert_eq!(
        key_for(Context::Monitor, &Action::Ping).as_deref(),
        Some("p")
    );
}

#[test]
fn markdown_lists_every_row() {
    let md = key_table_markdown();
    for sec in help_sections() {
        assert!(md.contains(sec.title));
        for (k, a) in &sec.rows {
            let (k, a) = (k.replace('|', "\\|"), a.replace('|', "\\|"));
            assert!(md.contains(&format!("| {k} | {a} |")));
        }
    }
    // Every row has exactly its two cells: a `|` inside one is escaped.
    for row in md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("|---"))
    {
        let bare = row.replace("\\|", "");
        assert_eq!(bare.matches('|').count(), 3, "{row}");
    }
}

#[test]
fn every_key_on_the_proxys_screens_does_something_allowed_there_and_none_is_a_client_key() {
    for stack in PROXY_STACKS {
        assert!(!stack.contains(&Context::Client), "{stack:?}");
        for b in KEYMAP.iter() {
            for (k, _) in &b.keys {
                let Some(a) = resolve(stack, &KeyEvent::new(k.code, k.mods)) else {
                    continue;
                };
                assert!(
                    stack.iter().any(|c| a.allowed_in(*c)),
                    "{} on {stack:?} resolves to {a:?}, which does nothing there",
                    k.name()
                );
                assert!(
                    !a.allowed_in(Context::Client),
                    "{} on {stack:?} resolves to {a:?}, a key of wsdeck's own sessions",
                    k.name()
                );
            }
        }
    }
    // Login pane, chat view, snippets (and F6, the password), tabs, palette: nothing in a
    // relayed connection or the list.
    for k in [
        ctrl('l'),
        key(KeyCode::F(2)),
        key(KeyCode::F(5)),
        key(KeyCode::F(6)),
        ctrl('t'),
        ctrl('p'),
        alt(KeyCode::Char('w')),
    ] {
        for stack in [RELAYED, LIST] {
            assert_eq!(
                resolve(stack, &KeyEvent::new(k.code, k.mods)),
                None,
                "{}",
                k.name()
            );
        }
    }
}

#[test]
fn the_proxys_help_starts_with_the_proxy_and_lists_only_what_works_there() {
    let secs = help_sections_for(HelpScope::Proxy);
    assert_eq!(secs[0].title, "Proxy: connection list (wsdeck proxy)");
    let rows: Vec<&str> = secs
        .iter()
        .flat_map(|s| s.rows.iter().map(|r| r.0.as_str()))
        .collect();
    for gone in [
        "Ctrl-T",
        "Ctrl-L",
        "F2",
        "F5 … F12",
        "Ctrl-P",
        "Alt-W",
        "Mouse wheel",
        "r",
    ] {
        assert!(
            !rows.contains(&gone),
            "{gone} in the proxy's help: {rows:?}"
        );
    }
    for there in [
        "Ctrl-C, Ctrl-Q",
        "F1",
        "F3",
        "i",
        "m",
        "Enter",
        "x",
        "/",
        "Paste",
    ] {
        assert!(
            rows.contains(&there),
            "{there} missing from the proxy's help: {rows:?}"
        );
    }
    // `f` forwards there: the monitor's row names only `l` for the frames.
    assert!(rows.contains(&"l"), "{rows:?}");
    assert!(!rows.contains(&"f, l"), "{rows:?}");
    // wsdeck's own help keeps every client key.
    let client: Vec<String> = help_sections_for(HelpScope::Client)
        .iter()
        .flat_map(|s| s.rows.iter().map(|r| r.0.clone()))
        .collect();
    for k in ["Ctrl-T", "Ctrl-L", "F2", "F5 … F12", "Ctrl-P", "f, l", "r"] {
        assert!(client.iter().any(|r| r == k), "{k} missing: {client:?}");
    }
}

#[test]
fn the_filters_direction_row_names_the_peers_in_the_proxy_and_in_out_in_wsdecks_own_help() {
    let filter_rows = |scope| -> Vec<String> {
        help_sections_for(scope)
            .into_iter()
            .find(|s| s.title.starts_with("Monitor filter"))
            .expect("a filter section")
            .rows
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    };
    let proxy = filter_rows(HelpScope::Proxy);
    assert!(
        proxy.iter().any(|k| k == "dir:client, dir:server"),
        "{proxy:?}"
    );
    assert!(!proxy.iter().any(|k| k.contains("dir:in")), "{proxy:?}");
    let client = filter_rows(HelpScope::Client);
    assert!(client.iter().any(|k| k == "dir:in, dir:out"), "{client:?}");
    assert!(
        !client.iter().any(|k| k.contains("dir:client")),
        "{client:?}"
    );
    // What each row names is what the filter takes, with the meaning it gives.
    use crate::model::{Direction, Opcode};
    use crate::monitor::filter::Filter;
    for (f, dir) in [
        ("dir:client", Direction::ClientToServer),
        ("dir:server", Direction::ServerToClient),
        ("dir:c2s", Direction::ClientToServer),
        ("dir:s2c", Direction::ServerToClient),
        ("dir:out", Direction::ClientToServer),
        ("dir:in", Direction::ServerToClient),
    ] {
        let f = Filter::parse(f).unwrap();
        assert!(f.matches(dir, Opcode::Text, b"x"), "{f:?}");
        assert!(!f.matches(dir.reverse(), Opcode::Text, b"x"), "{f:?}");
    }
    // The README lists both.
    let md = key_table_markdown();
    assert!(md.contains("| dir:in, dir:out |") && md.contains("| dir:client, dir:server |"));
}
