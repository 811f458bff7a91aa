//! A network session under test: `net::spawn` plus every event it reported, with waits
//! that are hang guards only (never speed assertions).

use std::time::SystemTime;

use tokio::time::timeout;
use wsdeck::model::{
    ConnState, Direction, FrameRecord, HandshakeInfo, NetCommand, NetError, NetEvent,
};
use wsdeck::net::{self, SessionHandle};
use wsdeck::spec::ConnectSpec;

use super::GUARD;

/// A session plus everything it reported so far, each event with the time it was seen.
pub struct Client {
    pub h: SessionHandle,
    pub seen: Vec<(SystemTime, NetEvent)>,
}

impl Client {
    pub fn start(spec: ConnectSpec) -> Self {
        Client {
            h: net::spawn(spec),
            seen: Vec::new(),
        }
    }

    pub fn send(&self, c: NetCommand) {
        self.h.commands.send(c).expect("session still running");
    }

    pub async fn next(&mut self) -> NetEvent {
        let ev = timeout(GUARD, self.h.events.recv())
            .await
            .unwrap_or_else(|_| panic!("no event within {GUARD:?}; seen: {:#?}", self.events()))
            .unwrap_or_else(|| panic!("channel closed without Ended; seen: {:#?}", self.events()));
        self.seen.push((SystemTime::now(), ev.clone()));
        ev
    }

    /// Wait for the first event matching `pred` and return it.
    pub async fn until(&mut self, what: &str, pred: impl Fn(&NetEvent) -> bool) -> NetEvent {
        loop {
            let ev = self.next().await;
            if pred(&ev) {
                return ev;
            }
            if matches!(ev, NetEvent::Ended) {
                panic!("ended before {what}; seen: {:#?}", self.events());
            }
        }
    }

    pub async fn until_state(
        &mut self,
        what: &str,
        pred: impl Fn(&ConnState) -> bool,
    ) -> ConnState {
        match self
            .until(what, |e| matches!(e, NetEvent::State(s) if pred(s)))
            .await
        {
            NetEvent::State(s) => s,
            _ => unreachable!(),
        }
    }

    pub async fn until_logged_in(&mut self) {
        self.until_state("logged in", |s| *s == ConnState::LoggedIn)
            .await;
    }

    /// The first received text frame containing `needle`.
    pub async fn until_text(&mut self, needle: &str) -> FrameRecord {
        match self
            .until(needle, |e| {
                matches!(e, NetEvent::Frame(f) if f.dir == Direction::ServerToClient
                    && f.text().is_some_and(|t| t.contains(needle)))
            })
            .await
        {
            NetEvent::Frame(f) => f,
            _ => unreachable!(),
        }
    }

    /// Wait for `Ended`, and check that nothing follows it.
    pub async fn until_ended(&mut self) {
        loop {
            if let NetEvent::Ended = self.next().await {
                assert!(
                    timeout(GUARD, self.h.events.recv())
                        .await
                        .unwrap()
                        .is_none(),
                    "an event followed Ended"
                );
                return;
            }
        }
    }

    pub fn events(&self) -> Vec<NetEvent> {
        self.seen.iter().map(|(_, e)| e.clone()).collect()
    }

    pub fn states(&self) -> Vec<ConnState> {
        self.seen
            .iter()
            .filter_map(|(_, e)| match e {
                NetEvent::State(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn frames(&self) -> Vec<FrameRecord> {
        self.seen
            .iter()
            .filter_map(|(_, e)| match e {
                NetEvent::Frame(f) => Some(f.clone()),
                _ => None,
            })
            .collect()
    }

    /// The first handshake reported.
    pub fn handshake(&self) -> Option<HandshakeInfo> {
        self.seen.iter().find_map(|(_, e)| match e {
            NetEvent::Handshake(h) => Some((**h).clone()),
            _ => None,
        })
    }

    /// The failure the session reported (panics when there was none).
    pub fn failure(&self) -> NetError {
        self.states()
            .into_iter()
            .find_map(|s| match s {
                ConnState::Failed(e) => Some(e),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no failure; seen: {:#?}", self.events()))
    }
}
