//! The registry of connected clients: broadcast, pushes and shutdown notices.
//!
//! Every connection registers its outgoing queue here, bounded in bytes ([`Budget`]) and in
//! messages. A broadcast that finds a reader's queue full waits for room — the sender is
//! slowed (it is not read meanwhile), nobody is dropped for a burst — but for at most the
//! slow-reader timeout: a reader whose queue made no room for that long is dropped from the
//! room and sent a Close (1008, [`SLOW_REASON`]) ahead of what was still queued. Pushes never
//! wait: a push that does not fit is skipped, and a reader whose queue stays full that long
//! is dropped the same way. So a client that never reads cannot grow the server's memory,
//! and stalls the others for at most that timeout, once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Bytes of data messages queued for one connection and not yet handed to its socket: taken
/// when a Text or Binary message is queued, given back by the writer once it is written.
/// Control frames (pings, closes) are tiny and not counted.
#[derive(Clone)]
pub(crate) struct Budget {
    bytes: Arc<Semaphore>,
    limit: usize,
}

/// Counted per message on top of its payload, so a flood of tiny messages counts too.
const MESSAGE_OVERHEAD: usize = 64;

impl Budget {
    pub fn new(limit: usize) -> Budget {
        let limit = limit.clamp(1, u32::MAX as usize);
        Budget {
            bytes: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }

    /// What `msg` costs (never more than the whole budget, so it always fits eventually).
    fn cost(&self, msg: &Message) -> u32 {
        let len = match msg {
            Message::Text(t) => t.len(),
            Message::Binary(b) => b.len(),
            _ => return 0,
        };
        (len + MESSAGE_OVERHEAD).min(self.limit) as u32
    }

    /// Take `msg`'s cost if it is free now.
    pub fn try_take(&self, msg: &Message) -> bool {
        match self.cost(msg) {
            0 => true,
            n => match self.bytes.try_acquire_many(n) {
                Ok(permit) => {
                    permit.forget();
                    true
                }
                Err(_) => false,
            },
        }
    }

    /// Take `msg`'s cost, waiting until the writer has freed enough.
    pub async fn take(&self, msg: &Message) {
        let n = self.cost(msg);
        if n > 0
            && let Ok(permit) = self.bytes.acquire_many(n).await
        {
            permit.forget();
        }
    }

    /// Give back `msg`'s cost (it was written, or could not be queued).
    pub fn give_back(&self, msg: &Message) {
        let n = self.cost(msg) as usize;
        if n > 0 {
            self.bytes.add_permits(n);
        }
    }

    /// Bytes taken and not given back.
    #[cfg(test)]
    pub fn in_use(&self) -> usize {
        self.limit - self.bytes.available_permits()
    }
}

/// Reason of the Close (1008) sent to a client dropped for not reading.
pub const SLOW_REASON: &str = "outgoing queue full: client too slow";

/// Tells one connection to close at once: the Close frame to send ahead of whatever is still
/// queued for it (its writer discards that). The first call wins.
#[derive(Clone)]
pub(crate) struct Kill(Arc<watch::Sender<Option<CloseFrame>>>);

impl Kill {
    pub fn new() -> Kill {
        Kill(Arc::new(watch::Sender::new(None)))
    }

    pub fn close_now(&self, code: CloseCode, reason: &'static str) {
        self.0.send_if_modified(|frame| {
            if frame.is_some() {
                return false;
            }
            *frame = Some(CloseFrame {
                code,
                reason: reason.into(),
            });
            true
        });
    }

    pub fn is_set(&self) -> bool {
        self.0.borrow().is_some()
    }

    pub fn subscribe(&self) -> Killed {
        Killed(self.0.subscribe())
    }
}

/// The receiving side of a [`Kill`].
pub(crate) struct Killed(watch::Receiver<Option<CloseFrame>>);

impl Killed {
    /// Wait until the connection is told to close; returns the Close frame to send.
    pub async fn wait(&mut self) -> CloseFrame {
        let frame = match self.0.wait_for(Option::is_some).await {
            Ok(frame) => frame.clone(),
            Err(_) => None,
        };
        match frame {
            Some(frame) => frame,
            // Every `Kill` is gone: nobody can ask any more; never resolve.
            None => std::future::pending().await,
        }
    }
}

/// One connection as the room sees it.
struct Member {
    /// The user name it logged in with; `None` until it has logged in.
    name: Option<Arc<str>>,
    target: Target,
    /// Server pushes sent to this member so far.
    pushes: u64,
    /// Since when pushes have found its queue full.
    full_since: Option<Instant>,
}

/// Where messages for one member go (cloned out of the room to wait for room outside its
/// lock).
#[derive(Clone)]
struct Target {
    id: u64,
    tx: mpsc::Sender<Message>,
    budget: Budget,
    kill: Kill,
}

/// What happened to one message offered without waiting.
enum Delivery {
    Queued,
    /// The queue has no room for it now.
    Full(Message),
    /// The connection is already ending.
    Gone,
}

impl Target {
    fn try_deliver(&self, msg: Message) -> Delivery {
        if self.kill.is_set() {
            return Delivery::Gone;
        }
        if !self.budget.try_take(&msg) {
            return Delivery::Full(msg);
        }
        match self.tx.try_send(msg) {
            Ok(()) => Delivery::Queued,
            Err(mpsc::error::TrySendError::Full(msg)) => {
                self.budget.give_back(&msg);
                Delivery::Full(msg)
            }
            Err(mpsc::error::TrySendError::Closed(msg)) => {
                self.budget.give_back(&msg);
                Delivery::Gone
            }
        }
    }

    /// Queue `msg`, waiting for room; false if the connection ends first.
    async fn deliver(&self, msg: Message) -> bool {
        let mut killed = self.kill.subscribe();
        let queue = async {
            self.budget.take(&msg).await;
            match self.tx.send(msg).await {
                Ok(()) => true,
                Err(mpsc::error::SendError(msg)) => {
                    self.budget.give_back(&msg);
                    false
                }
            }
        };
        tokio::select! {
            biased;
            _ = killed.wait() => false,
            queued = queue => queued,
        }
    }
}

#[derive(Default)]
pub(crate) struct Room {
    members: Mutex<HashMap<u64, Member>>,
}

impl Room {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Member>> {
        // A panic elsewhere while holding the lock leaves the map consistent (every
        // operation is a single insert/remove/iteration), so keep going.
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Register a new connection (not logged in yet).
    pub fn join(&self, id: u64, tx: mpsc::Sender<Message>, budget: Budget, kill: Kill) {
        self.lock().insert(
            id,
            Member {
                name: None,
                target: Target {
                    id,
                    tx,
                    budget,
                    kill,
                },
                pushes: 0,
                full_since: None,
            },
        );
    }

    pub fn leave(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Mark a connection as logged in under `name`; returns how many are logged in now.
    pub fn logged_in(&self, id: u64, name: Arc<str>) -> usize {
        let mut map = self.lock();
        if let Some(m) = map.get_mut(&id) {
            m.name = Some(name);
        }
        map.values().filter(|m| m.name.is_some()).count()
    }

    /// Number of connections, logged in or not.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// (connections, logged-in connections).
    pub fn counts(&self) -> (usize, usize) {
        let map = self.lock();
        let logged_in = map.values().filter(|m| m.name.is_some()).count();
        (map.len(), logged_in)
    }

    /// Drop `target` from the room as too slow and tell it to close with 1008.
    fn drop_slow(map: &mut HashMap<u64, Member>, target: &Target, stalled: Duration) {
        map.remove(&target.id);
        target.kill.close_now(CloseCode::Policy, SLOW_REASON);
        tracing::warn!(
            id = target.id,
            stalled_ms = stalled.as_millis() as u64,
            "dropped a client whose outgoing queue stayed full: client too slow"
        );
    }

    /// Queue `msg` for every logged-in member except `from`. A member whose queue is full is
    /// waited for (all of them at once), up to `stall`; one that made no room by then is
    /// dropped with a Close. Returns (queued, dropped).
    pub async fn broadcast(&self, from: u64, msg: Message, stall: Duration) -> (usize, usize) {
        let mut queued = 0;
        let mut waiting = Vec::new();
        {
            let map = self.lock();
            for (&id, m) in map.iter() {
                if id == from || m.name.is_none() {
                    continue;
                }
                match m.target.try_deliver(msg.clone()) {
                    Delivery::Queued => queued += 1,
                    Delivery::Full(msg) => waiting.push((m.target.clone(), msg)),
                    Delivery::Gone => {}
                }
            }
        }
        if waiting.is_empty() {
            return (queued, 0);
        }
        // Back-pressure: the sender's own session waits here, so it is not read meanwhile.
        let started = Instant::now();
        let waits = waiting.iter().map(|(target, msg)| async move {
            tokio::time::timeout(stall, target.deliver(msg.clone())).await
        });
        let results = futures_util::future::join_all(waits).await;
        let mut dropped = 0;
        let mut map = self.lock();
        for ((target, _), result) in waiting.iter().zip(results) {
            match result {
                Ok(true) => queued += 1,
                Ok(false) => {}
                Err(_elapsed) => {
                    Self::drop_slow(&mut map, target, started.elapsed());
                    dropped += 1;
                }
            }
        }
        (queued, dropped)
    }

    /// Send every logged-in member its next server push, built by
    /// `text(push_number, clients_online)`, without waiting: a member whose queue is full
    /// skips it, and is dropped with a Close once its queue has been full for `stall`.
    /// Returns how many were queued.
    pub fn push(&self, text: impl Fn(u64, usize) -> String, stall: Duration) -> usize {
        let mut map = self.lock();
        let online = map.values().filter(|m| m.name.is_some()).count();
        let now = Instant::now();
        let mut queued = 0;
        let mut slow = Vec::new();
        for m in map.values_mut() {
            if m.name.is_none() {
                continue;
            }
            m.pushes += 1;
            match m.target.try_deliver(Message::text(text(m.pushes, online))) {
                Delivery::Queued => {
                    queued += 1;
                    m.full_since = None;
                }
                Delivery::Full(_) => {
                    let since = *m.full_since.get_or_insert(now);
                    if now.duration_since(since) >= stall {
                        slow.push((m.target.clone(), now.duration_since(since)));
                    }
                }
                Delivery::Gone => {}
            }
        }
        for (target, stalled) in slow {
            Self::drop_slow(&mut map, &target, stalled);
        }
        queued
    }

    /// Queue a Close frame for every member (logged in or not); members whose queue is full
    /// are told to close at once (their queue is discarded). Empties the room.
    pub fn close_all(&self, code: CloseCode, reason: &'static str) {
        let mut map = self.lock();
        for m in map.values() {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            if let Delivery::Full(_) = m.target.try_deliver(Message::Close(Some(frame))) {
                m.target.kill.close_now(code, reason);
            }
        }
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How long the tests' broadcasts wait for a full queue.
    const STALL: Duration = Duration::from_millis(50);

    fn member(room: &Room, id: u64, cap: usize) -> (mpsc::Receiver<Message>, Killed) {
        let (tx, rx) = mpsc::channel(cap);
        let kill = Kill::new();
        let killed = kill.subscribe();
        room.join(id, tx, Budget::new(1 << 30), kill);
        (rx, killed)
    }

    /// Wait for the member to be told to close; it must be 1008 "… client too slow".
    async fn told_too_slow(killed: &mut Killed) {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), killed.wait())
            .await
            .expect("slow member told to go");
        assert_eq!(frame.code, CloseCode::Policy);
        assert_eq!(frame.reason.as_str(), SLOW_REASON);
    }

    #[tokio::test]
    async fn byte_budget_drops_a_member_with_too_much_waiting() {
        let room = Room::default();
        let (tx, mut slow_rx) = mpsc::channel(1000);
        let slow_kill = Kill::new();
        let mut slow_killed = slow_kill.subscribe();
        let budget = Budget::new(3 * (1000 + MESSAGE_OVERHEAD));
        room.join(1, tx, budget.clone(), slow_kill);
        let (mut fast, _) = member(&room, 2, 1000);
        room.logged_in(1, "a".into());
        room.logged_in(2, "a".into());
        let big = Message::text("x".repeat(1000));
        for _ in 0..3 {
            assert_eq!(room.broadcast(99, big.clone(), STALL).await, (2, 0));
        }
        assert_eq!(budget.in_use(), 3 * (1000 + MESSAGE_OVERHEAD));
        // Pings and closes are not counted; the 4th big message does not fit.
        assert_eq!(
            room.broadcast(99, Message::Ping(Default::default()), STALL)
                .await,
            (2, 0)
        );
        assert_eq!(room.broadcast(99, big.clone(), STALL).await, (1, 1));
        told_too_slow(&mut slow_killed).await;
        assert_eq!(room.len(), 1);
        // What the writer hands to the socket is given back.
        let written = slow_rx.try_recv().unwrap();
        budget.give_back(&written);
        assert_eq!(budget.in_use(), 2 * (1000 + MESSAGE_OVERHEAD));
        for _ in 0..5 {
            assert!(fast.try_recv().is_ok());
        }
    }

    #[tokio::test]
    async fn a_message_bigger_than_the_budget_still_fits_alone() {
        let budget = Budget::new(100);
        let huge = Message::binary(vec![0u8; 10_000]);
        assert!(budget.try_take(&huge));
        assert!(!budget.try_take(&Message::text("a")));
        budget.give_back(&huge);
        assert_eq!(budget.in_use(), 0);
        budget.take(&huge).await;
        assert_eq!(budget.in_use(), 100);
    }

    #[tokio::test]
    async fn broadcast_reaches_other_logged_in_members_only() {
        let room = Room::default();
        let (mut a, _) = member(&room, 1, 4);
        let (mut b, _) = member(&room, 2, 4);
        let (mut c, _) = member(&room, 3, 4);
        room.logged_in(1, "admin".into());
        assert_eq!(room.logged_in(2, "admin".into()), 2);
        let (queued, dropped) = room.broadcast(1, Message::text("admin: hi"), STALL).await;
        assert_eq!((queued, dropped), (1, 0));
        assert_eq!(b.try_recv().unwrap(), Message::text("admin: hi"));
        assert!(a.try_recv().is_err());
        assert!(c.try_recv().is_err());
    }

    #[tokio::test]
    async fn full_queue_drops_only_that_member() {
        let room = Room::default();
        let (_slow_rx, mut slow_kill) = member(&room, 1, 1);
        let (mut fast, _) = member(&room, 2, 16);
        room.logged_in(1, "admin".into());
        room.logged_in(2, "admin".into());
        room.broadcast(99, Message::text("one"), STALL).await;
        let (queued, dropped) = room.broadcast(99, Message::text("two"), STALL).await;
        assert_eq!((queued, dropped), (1, 1));
        // The slow member was told to go and left the room.
        told_too_slow(&mut slow_kill).await;
        assert_eq!(room.len(), 1);
        assert_eq!(fast.try_recv().unwrap(), Message::text("one"));
        assert_eq!(fast.try_recv().unwrap(), Message::text("two"));
    }

    #[tokio::test]
    async fn pushes_are_numbered_per_member() {
        let room = Room::default();
        let (mut a, _) = member(&room, 1, 8);
        room.logged_in(1, "admin".into());
        room.push(|n, online| format!("#{n} {online}"), STALL);
        let (mut b, _) = member(&room, 2, 8);
        room.logged_in(2, "admin".into());
        room.push(|n, online| format!("#{n} {online}"), STALL);
        assert_eq!(a.try_recv().unwrap(), Message::text("#1 1"));
        assert_eq!(a.try_recv().unwrap(), Message::text("#2 2"));
        assert_eq!(b.try_recv().unwrap(), Message::text("#1 2"));
    }

    #[tokio::test]
    async fn close_all_reaches_everyone() {
        let room = Room::default();
        let (mut a, _) = member(&room, 1, 8);
        let (mut b, _) = member(&room, 2, 8);
        room.logged_in(1, "admin".into());
        room.close_all(CloseCode::Away, "server shutting down");
        for rx in [&mut a, &mut b] {
            match rx.try_recv().unwrap() {
                Message::Close(Some(f)) => {
                    assert_eq!(f.code, CloseCode::Away);
                    assert_eq!(f.reason.as_str(), "server shutting down");
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(room.len(), 0);
    }

    #[tokio::test]
    async fn a_burst_waits_for_a_reader_that_catches_up_instead_of_dropping_it() {
        let room = Room::default();
        let (mut reader, mut killed) = member(&room, 1, 2);
        room.logged_in(1, "a".into());
        // The reader drains its queue slowly, but within the stall time each time.
        let draining = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(m) = reader.recv().await {
                got.push(m);
                tokio::time::sleep(STALL / 5).await;
            }
            got
        });
        for i in 0..10 {
            let sent = room
                .broadcast(99, Message::text(format!("{i}")), STALL)
                .await;
            assert_eq!(sent, (1, 0), "broadcast {i}");
        }
        assert_eq!(room.counts(), (1, 1));
        room.leave(1);
        let got = draining.await.unwrap();
        let want: Vec<_> = (0..10).map(|i| Message::text(format!("{i}"))).collect();
        assert_eq!(got, want);
        assert!(
            tokio::time::timeout(STALL, killed.wait()).await.is_err(),
            "the reader was told to go"
        );
    }

    #[tokio::test]
    async fn pushes_skip_a_full_queue_and_drop_it_once_it_stayed_full() {
        let room = Room::default();
        let (mut rx, mut killed) = member(&room, 1, 1);
        room.logged_in(1, "a".into());
        assert_eq!(room.push(|n, _| format!("#{n}"), STALL), 1);
        // Full: skipped, not dropped yet.
        assert_eq!(room.push(|n, _| format!("#{n}"), STALL), 0);
        assert_eq!(room.counts(), (1, 1));
        tokio::time::sleep(STALL * 2).await;
        assert_eq!(room.push(|n, _| format!("#{n}"), STALL), 0);
        assert_eq!(room.counts(), (0, 0));
        told_too_slow(&mut killed).await;
        assert_eq!(rx.try_recv().unwrap(), Message::text("#1"));
    }
}
