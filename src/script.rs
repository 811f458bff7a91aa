//! Scripted demos: a small line-based language played into the real UI as key presses.
//!
//! ```text
//! # comment
//! type hello, server      # types the text with a human-like delay per key
//! key Enter               # one key: Enter, Tab, Esc, F1…F12, Up, PgUp, Ctrl-C, Alt-3, a…
//! wait your submit context: hello   # until a received text frame matches this regex
//! wait 5s congratulation  # …with its own timeout (default 10 s)
//! pause 800ms             # or `pause 2s`; a bare number is milliseconds
//! view monitor            # switch view: chat | monitor
//! speed 40ms              # delay between typed keys from now on (default 60 ms)
//! quit                    # leave wsdeck (also happens at the end unless `stay` is given)
//! stay                    # keep the UI open after the last step
//! ```

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use regex::Regex;

/// One step of a script.
#[derive(Debug, Clone)]
pub enum Step {
    Type(String),
    Key(KeyEvent),
    Wait { pattern: Regex, timeout: Duration },
    Pause(Duration),
    Speed(Duration),
    Quit,
    Stay,
}

/// A parsed script with the line each step came from.
#[derive(Debug, Clone)]
pub struct Script {
    pub steps: Vec<(usize, Step)>,
}

pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);
pub const DEFAULT_KEY_DELAY: Duration = Duration::from_millis(60);

impl Script {
    pub fn load(path: &std::path::Path) -> anyhow::Result<Script> {
        let text = crate::files::read_text(path, crate::files::MAX_SMALL_FILE)
            .map_err(|e| anyhow::anyhow!("cannot read script {}: {e}", path.display()))?;
        Script::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Parse a script; errors say `line N: …`.
    pub fn parse(text: &str) -> Result<Script, ScriptError> {
        let mut steps = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (word, rest) = match line.split_once(char::is_whitespace) {
                Some((w, r)) => (w, r.trim()),
                None => (line.trim_end(), ""),
            };
            let step = parse_step(word, rest).map_err(|why| ScriptError::Line { n, why })?;
            steps.push((n, step));
        }
        if steps.is_empty() {
            return Err(ScriptError::Empty);
        }
        Ok(Script { steps })
    }
}

/// A script that cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    #[error("line {n}: {why}")]
    Line { n: usize, why: StepError },
    #[error("the script has no steps")]
    Empty,
}

/// What is wrong with one step of a script.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("`type` needs the text to type")]
    NoText,
    #[error("`wait` needs a regex to wait for")]
    NoPattern,
    #[error("bad regex: {0}")]
    BadRegex(String),
    #[error("unknown view {0:?} (chat or monitor)")]
    UnknownView(String),
    #[error("unknown step {0:?} (type, key, wait, pause, speed, view, quit, stay)")]
    UnknownStep(String),
    #[error("bad duration {0:?} (e.g. 500ms, 2s)")]
    BadDuration(String),
    #[error("`key` needs a key name")]
    NoKey,
    #[error("unknown key {0:?}")]
    UnknownKey(String),
}

fn parse_step(word: &str, rest: &str) -> Result<Step, StepError> {
    match word {
        "type" => {
            if rest.is_empty() {
                return Err(StepError::NoText);
            }
            Ok(Step::Type(unquote(rest)))
        }
        "key" => parse_key(rest).map(Step::Key),
        "wait" => {
            let (timeout, pat) = match rest.split_once(char::is_whitespace) {
                Some((first, after)) if parse_duration(first).is_ok() => {
                    (parse_duration(first)?, after.trim())
                }
                _ => (DEFAULT_WAIT, rest),
            };
            if pat.is_empty() {
                return Err(StepError::NoPattern);
            }
            let pattern =
                Regex::new(&unquote(pat)).map_err(|e| StepError::BadRegex(e.to_string()))?;
            Ok(Step::Wait { pattern, timeout })
        }
        "pause" => parse_duration(rest).map(Step::Pause),
        "speed" => parse_duration(rest).map(Step::Speed),
        "view" => match rest {
            "chat" => Ok(Step::Key(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE))),
            "monitor" => Ok(Step::Key(KeyEvent::new(KeyCode::F(3), KeyModifiers::NONE))),
            other => Err(StepError::UnknownView(other.to_string())),
        },
        "quit" => Ok(Step::Quit),
        "stay" => Ok(Step::Stay),
        other => Err(StepError::UnknownStep(other.to_string())),
    }
}

/// `"text"` → `text` (lets a script type leading or trailing spaces); anything else as is.
fn unquote(s: &str) -> String {
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// `250`, `250ms`, `2s`, `1.5s`.
pub fn parse_duration(s: &str) -> Result<Duration, StepError> {
    let s = s.trim();
    let bad = || StepError::BadDuration(s.to_string());
    if let Some(ms) = s.strip_suffix("ms") {
        ms.parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| bad())
    } else if let Some(secs) = s.strip_suffix('s') {
        let v: f64 = secs.parse().map_err(|_| bad())?;
        if !(0.0..=86_400.0).contains(&v) {
            return Err(bad());
        }
        Ok(Duration::from_secs_f64(v))
    } else {
        s.parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| bad())
    }
}

/// `Enter`, `Ctrl-C`, `Alt-3`, `Shift-Tab`, `F5`, `a`…
pub fn parse_key(s: &str) -> Result<KeyEvent, StepError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(StepError::NoKey);
    }
    let mut mods = KeyModifiers::NONE;
    let mut name = s;
    loop {
        let lower = name.to_ascii_lowercase();
        let (m, len) = if lower.starts_with("ctrl-") {
            (KeyModifiers::CONTROL, 5)
        } else if lower.starts_with("alt-") {
            (KeyModifiers::ALT, 4)
        } else if lower.starts_with("shift-") {
            (KeyModifiers::SHIFT, 6)
        } else {
            break;
        };
        if name.len() == len {
            break;
        }
        mods |= m;
        name = &name[len..];
    }
    let code = match name.to_ascii_lowercase().as_str() {
        "enter" | "return" => KeyCode::Enter,
        "tab" if mods.contains(KeyModifiers::SHIFT) => {
            mods.remove(KeyModifiers::SHIFT);
            KeyCode::BackTab
        }
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "esc" | "escape" => KeyCode::Esc,
        "space" => KeyCode::Char(' '),
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pagedown" => KeyCode::PageDown,
        f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
            let n: u8 = f[1..].parse().unwrap_or(0);
            if !(1..=12).contains(&n) {
                return Err(StepError::UnknownKey(s.to_string()));
            }
            KeyCode::F(n)
        }
        _ => {
            let mut chars = name.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                }),
                _ => return Err(StepError::UnknownKey(s.to_string())),
            }
        }
    };
    Ok(KeyEvent::new(code, mods))
}

/// What the player wants now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Press this key now.
    Key(KeyEvent),
    /// Nothing to do before this much time passed (or a frame arrives, while waiting).
    Sleep(Duration),
    /// A `wait` ran out of time.
    TimedOut { line: usize, pattern: String },
    /// Leave the program.
    Quit,
    /// The script is over; keep the UI open.
    Done,
}

/// Plays a script step by step. Time is passed in, so it is testable without sleeping.
#[derive(Debug)]
pub struct Player {
    script: Script,
    step: usize,
    /// Characters of the current `type` step already pressed.
    typed: usize,
    key_delay: Duration,
    /// When the next key may be pressed / the pause ends / the wait gives up.
    due: Option<Duration>,
    /// A received text matched the current `wait` step.
    matched: bool,
    stay: bool,
    jitter: u32,
}

impl Player {
    pub fn new(script: Script) -> Player {
        Player {
            script,
            step: 0,
            typed: 0,
            key_delay: DEFAULT_KEY_DELAY,
            due: None,
            matched: false,
            stay: false,
            jitter: 0x9e37_79b9,
        }
    }

    /// A received text frame: completes a pending `wait` whose regex matches it.
    pub fn on_text(&mut self, text: &str) {
        if let Some((_, Step::Wait { pattern, .. })) = self.script.steps.get(self.step)
            && pattern.is_match(text)
        {
            self.matched = true;
        }
    }

    /// A human-like delay: the base delay ± 40 %.
    fn human_delay(&mut self) -> Duration {
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 17;
        self.jitter ^= self.jitter << 5;
        let spread = (self.jitter % 81) as f64 / 100.0 + 0.6; // 0.6 ..= 1.4
        self.key_delay.mul_f64(spread)
    }

    /// The next action at time `now` (time since the script started).
    pub fn next(&mut self, now: Duration) -> Action {
        loop {
            let Some((line, step)) = self.script.steps.get(self.step).cloned() else {
                return if self.stay {
                    Action::Done
                } else {
                    Action::Quit
                };
            };
            if let Some(due) = self.due
                && now < due
                && !(self.matched && matches!(step, Step::Wait { .. }))
            {
                return Action::Sleep(due - now);
            }
            match step {
                // The human-like delay comes before each key, so that once the last key is
                // pressed the next step (often a `wait`) is current at once and cannot miss
                // a fast reply.
                Step::Type(text) => match text.chars().nth(self.typed) {
                    Some(c) => {
                        if self.due.is_none() {
                            self.due = Some(now + self.human_delay());
                            continue;
                        }
                        self.typed += 1;
                        self.due = None;
                        return Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
                    }
                    None => self.advance(),
                },
                Step::Key(k) => {
                    if self.due.is_none() {
                        self.due = Some(now + self.human_delay());
                        continue;
                    }
                    self.advance();
                    return Action::Key(k);
                }
                Step::Pause(d) => {
                    if self.due.is_none() {
                        self.due = Some(now + d);
                        continue;
                    }
                    self.advance();
                }
                Step::Wait { pattern, timeout } => {
                    if self.matched {
                        self.advance();
                        continue;
                    }
                    match self.due {
                        None => self.due = Some(now + timeout),
                        Some(_) => {
                            return Action::TimedOut {
                                line,
                                pattern: pattern.as_str().to_string(),
                            };
                        }
                    }
                }
                Step::Speed(d) => {
                    self.key_delay = d;
                    self.advance();
                }
                Step::Quit => return Action::Quit,
                Step::Stay => {
                    self.stay = true;
                    self.advance();
                }
            }
        }
    }

    fn advance(&mut self) {
        self.step += 1;
        self.typed = 0;
        self.due = None;
        self.matched = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_demo_script_parses() {
        let s = Script::parse(include_str!("../assets/demo.script")).unwrap();
        assert!(s.steps.len() > 5);
    }

    #[test]
    fn errors_name_the_line() {
        let err = Script::parse("type hi\n\nfly away\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 3: unknown step \"fly\""), "{err}");
        let err = Script::parse("wait (\n").unwrap_err().to_string();
        assert!(err.starts_with("line 1: bad regex"), "{err}");
        let err = Script::parse("key Hyper-X\n").unwrap_err().to_string();
        assert!(err.contains("unknown key"), "{err}");
        let err = Script::parse("pause soon\n").unwrap_err().to_string();
        assert!(err.contains("bad duration"), "{err}");
    }

    #[test]
    fn keys_parse() {
        assert_eq!(parse_key("Enter").unwrap().code, KeyCode::Enter);
        let k = parse_key("Ctrl-C").unwrap();
        assert_eq!(
            (k.code, k.modifiers),
            (KeyCode::Char('c'), KeyModifiers::CONTROL)
        );
        let k = parse_key("Alt-3").unwrap();
        assert_eq!(
            (k.code, k.modifiers),
            (KeyCode::Char('3'), KeyModifiers::ALT)
        );
        assert_eq!(parse_key("Shift-Tab").unwrap().code, KeyCode::BackTab);
        assert_eq!(parse_key("F12").unwrap().code, KeyCode::F(12));
        assert!(parse_key("F13").is_err());
        assert_eq!(parse_key("-").unwrap().code, KeyCode::Char('-'));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("250").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
    }

    fn keys_until_blocked(p: &mut Player, now: Duration) -> (Vec<KeyCode>, Action) {
        let mut keys = Vec::new();
        let mut t = now;
        loop {
            match p.next(t) {
                Action::Key(k) => keys.push(k.code),
                Action::Sleep(d) if d < Duration::from_secs(1) => t += d,
                other => return (keys, other),
            }
        }
    }

    #[test]
    fn types_then_waits_for_a_matching_reply_then_quits() {
        let script =
            Script::parse("type hi\nkey Enter\nwait 5s context: hi$\npause 100\n").unwrap();
        let mut p = Player::new(script);
        let (keys, blocked) = keys_until_blocked(&mut p, Duration::ZERO);
        assert_eq!(
            keys,
            vec![KeyCode::Char('h'), KeyCode::Char('i'), KeyCode::Enter]
        );
        // Waiting: a long sleep until the timeout.
        assert!(matches!(blocked, Action::Sleep(d) if d > Duration::from_secs(4)));
        p.on_text("unrelated push");
        assert!(matches!(p.next(Duration::from_secs(1)), Action::Sleep(_)));
        p.on_text("your submit context: hi");
        // Then the pause, then the end of the script quits.
        let (keys, end) = keys_until_blocked(&mut p, Duration::from_secs(1));
        assert!(keys.is_empty());
        assert_eq!(end, Action::Quit);
    }

    #[test]
    fn a_reply_right_after_the_last_key_is_not_missed() {
        let mut p = Player::new(Script::parse("key Enter\nwait ok\n").unwrap());
        let mut t = Duration::ZERO;
        loop {
            match p.next(t) {
                Action::Key(_) => break,
                Action::Sleep(d) => t += d,
                other => panic!("{other:?}"),
            }
        }
        // The reply arrives before the player is asked again.
        p.on_text("ok");
        assert_eq!(p.next(t), Action::Quit);
    }

    #[test]
    fn a_wait_times_out_with_its_line() {
        let mut p = Player::new(Script::parse("# c\nwait 1s never\n").unwrap());
        assert!(matches!(p.next(Duration::ZERO), Action::Sleep(_)));
        assert_eq!(
            p.next(Duration::from_secs(2)),
            Action::TimedOut {
                line: 2,
                pattern: "never".into()
            }
        );
    }

    #[test]
    fn stay_keeps_the_ui_open() {
        let mut p = Player::new(Script::parse("stay\nkey a\n").unwrap());
        let (_, end) = keys_until_blocked(&mut p, Duration::ZERO);
        assert_eq!(end, Action::Done);
    }

    #[test]
    fn typing_delays_look_human() {
        let mut p = Player::new(Script::parse("type abcdefgh\n").unwrap());
        let mut delays = Vec::new();
        let mut t = Duration::ZERO;
        for _ in 0..8 {
            if let Action::Sleep(d) = p.next(t) {
                delays.push(d);
                t += d;
            }
            assert!(matches!(p.next(t), Action::Key(_)));
        }
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(30) && *d <= Duration::from_millis(90))
        );
        assert!(delays.windows(2).any(|w| w[0] != w[1]), "{delays:?}");
    }
}
