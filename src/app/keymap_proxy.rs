//! The proxy's key bindings (`wsdeck proxy`): the connection list, a relayed connection's
//! monitor and the inject / edit line. Part of the one key table ([`super::KEYMAP`]).

use crossterm::event::KeyCode;

use super::{Binding, Section, bind, ch, key};
use crate::app::action::{Action, Context};

/// The contexts a key is looked up in (outermost first) on each of the proxy's screens; a
/// relayed connection's App and the list use these, and the proxy's help lists what they
/// resolve to. None has `Context::Client`: the keys of wsdeck's own sessions are not bound.
pub const LIST: &[Context] = &[Context::Global, Context::Proxy];
pub const RULE_LINE: &[Context] = &[Context::RuleLine, Context::Global];
pub const HELP: &[Context] = &[Context::Help];
pub const RELAYED: &[Context] = &[Context::Global, Context::Relayed, Context::Monitor];
pub const RELAYED_FILTER: &[Context] = &[Context::Global, Context::Filter];
pub const RELAY_LINE: &[Context] = &[Context::RelayLine, Context::Global];
pub const PROXY_STACKS: &[&[Context]] =
    &[LIST, RULE_LINE, HELP, RELAYED, RELAYED_FILTER, RELAY_LINE];

// Over 100 lines on purpose: one table (a binding per entry), read top to bottom like the
// help it generates, as `keymap()` is.
#[allow(clippy::too_many_lines)]
pub(super) fn bindings() -> Vec<Binding> {
    use Action as A;
    use Context as C;
    use KeyCode as K;
    use Section as S;
    const STEER: &[Context] = &[C::Proxy, C::Relayed];
    vec![
        bind(
            S::Proxy,
            &[C::Proxy],
            vec![
                (ch('j'), A::ConnMove(1)),
                (ch('k'), A::ConnMove(-1)),
                (key(K::Down), A::ConnMove(1)),
                (key(K::Up), A::ConnMove(-1)),
                (key(K::PageDown), A::ConnMove(10)),
                (key(K::PageUp), A::ConnMove(-10)),
            ],
            "select the next / previous connection",
        ),
        bind(
            S::Proxy,
            &[C::Proxy],
            vec![(key(K::Home), A::ConnFirst), (key(K::End), A::ConnLast)],
            "first / newest connection (End follows new ones)",
        ),
        bind(
            S::Proxy,
            &[C::Proxy],
            vec![(key(K::Enter), A::OpenConnection)],
            "open the connection's monitor: both peers' messages, both handshakes",
        ),
        bind(
            S::Proxy,
            STEER,
            vec![(ch('i'), A::ToggleIntercept)],
            "intercept on / off: hold matching messages until you act on them",
        ),
        bind(
            S::Proxy,
            STEER,
            vec![(ch('I'), A::EditIntercept)],
            "type the intercept rule (filter syntax; dir:client, dir:server)",
        ),
        bind(
            S::Proxy,
            &[C::Proxy],
            vec![(ch('F'), A::ForwardAllHeld)],
            "forward every held message of every connection",
        ),
        bind(
            S::Proxy,
            &[C::Proxy],
            vec![(ch('c'), A::ClearClosed)],
            "take closed connections off the list",
        ),
        bind(
            S::Proxy,
            &[C::RuleLine],
            vec![(key(K::Enter), A::ApplyRule), (key(K::Esc), A::CancelRule)],
            "intercept rule: turn it on / leave it as it was",
        ),
        bind(
            S::Relayed,
            &[C::Relayed],
            vec![(key(K::Esc), A::ConnectionList)],
            "back to the connection list (first closes the handshake panel / filter)",
        ),
        bind(
            S::Relayed,
            &[C::Relayed],
            vec![(ch('f'), A::ForwardHeld), (ch('d'), A::DropHeld)],
            "forward / drop the held message (the selected row, else the oldest)",
        ),
        bind(
            S::Relayed,
            &[C::Relayed],
            vec![(ch('E'), A::EditHeld)],
            "edit the held message in the line (Enter forwards it)",
        ),
        bind(
            S::Relayed,
            &[C::Relayed],
            vec![(ch('O'), A::EditHeldExternal)],
            "edit the held message in $EDITOR (saving forwards it)",
        ),
        bind(
            S::Relayed,
            &[C::Relayed],
            vec![(ch('F'), A::ForwardAllHeld)],
            "forward every held message of this connection",
        ),
        bind(
            S::Relayed,
            &[C::Relayed],
            vec![(ch('m'), A::Inject)],
            "type a message to inject (to the server; Tab: to the client)",
        ),
        bind(
            S::Relayed,
            &[C::Relayed],
            vec![(ch('R'), A::Resend)],
            "resend the selected message: edit it, Enter sends it to the same peer",
        ),
        bind(
            S::RelayLine,
            &[C::RelayLine],
            vec![(key(K::Enter), A::SubmitRelayLine)],
            "send the message / forward the edited one",
        ),
        bind(
            S::RelayLine,
            &[C::RelayLine],
            vec![(key(K::Tab), A::SwapTarget)],
            "inject to the other peer (server ⇄ client)",
        ),
        bind(
            S::RelayLine,
            &[C::RelayLine],
            vec![(key(K::Esc), A::CancelRelayLine)],
            "close the line (a held message stays held)",
        ),
    ]
}
