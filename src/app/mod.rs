//! Application state and its pure `update(event) -> commands`. No I/O here.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::model::{ConnectSpec, NetCommand, NetEvent};

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    Net(NetEvent),
}

/// What the app asks the runtime to do.
#[derive(Debug, Clone)]
pub enum Command {
    /// Close any current session and open a new one with this spec.
    Connect(ConnectSpec),
    /// Pass to the current session's network task.
    Net(NetCommand),
    /// Close the session (1000) and leave.
    Quit,
}

/// How the UI starts.
#[derive(Debug, Clone)]
pub struct AppInit {
    /// The login pane's initial contents (URL, user, password, auth, rules, headers…).
    pub spec: ConnectSpec,
    /// Connect at once (e.g. `--auth none`) instead of waiting for Enter.
    pub connect_now: bool,
    /// A line shown in the history at start (e.g. "demo server listening on …").
    pub banner: Option<String>,
}
