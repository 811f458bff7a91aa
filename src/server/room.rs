//! The registry of connected clients: broadcast, pushes and shutdown notices.
//!
//! Every connection registers its outgoing queue here. Fan-out (broadcast, pushes, the
//! shutdown Close) never waits: it uses `try_send`, and a client whose queue is full is
//! dropped from the room and told to disconnect, so one client that never reads cannot slow
//! the others down or grow the server's memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, Semaphore, mpsc};
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

/// One connection as the room sees it.
struct Member {
    /// The user name it logged in with; `None` until it has logged in.
    name: Option<Arc<str>>,
    tx: mpsc::Sender<Message>,
    budget: Budget,
    /// Told when the room drops this member (queue full).
    kill: Arc<Notify>,
    /// Server pushes sent to this member so far.
    pushes: u64,
}

/// Remove the members a fan-out dropped (their queue was full: they are not reading).
fn forget_dropped(map: &mut HashMap<u64, Member>, dropped: &[u64]) {
    for id in dropped {
        map.remove(id);
    }
    if !dropped.is_empty() {
        tracing::warn!(
            dropped = dropped.len(),
            "dropped clients whose outgoing queue was full"
        );
    }
}

/// What happened to one queued message.
enum Delivery {
    Queued,
    /// The queue was full: the member has been dropped.
    Dropped,
    /// The connection is already ending.
    Gone,
}

fn deliver(m: &Member, msg: Message) -> Delivery {
    if !m.budget.try_take(&msg) {
        // Too many bytes already waiting for this client.
        m.kill.notify_one();
        return Delivery::Dropped;
    }
    match m.tx.try_send(msg) {
        Ok(()) => Delivery::Queued,
        Err(mpsc::error::TrySendError::Full(msg)) => {
            m.budget.give_back(&msg);
            m.kill.notify_one();
            Delivery::Dropped
        }
        Err(mpsc::error::TrySendError::Closed(msg)) => {
            m.budget.give_back(&msg);
            Delivery::Gone
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
    pub fn join(&self, id: u64, tx: mpsc::Sender<Message>, budget: Budget, kill: Arc<Notify>) {
        self.lock().insert(
            id,
            Member {
                name: None,
                tx,
                budget,
                kill,
                pushes: 0,
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

    /// Queue `msg` for every logged-in member except `from`. Returns (queued, dropped).
    pub fn broadcast(&self, from: u64, msg: Message) -> (usize, usize) {
        let mut map = self.lock();
        let mut queued = 0;
        let mut dropped = Vec::new();
        for (&id, m) in map.iter() {
            if id == from || m.name.is_none() {
                continue;
            }
            match deliver(m, msg.clone()) {
                Delivery::Queued => queued += 1,
                Delivery::Dropped => dropped.push(id),
                Delivery::Gone => {}
            }
        }
        forget_dropped(&mut map, &dropped);
        (queued, dropped.len())
    }

    /// Send every logged-in member its next server push, built by
    /// `text(push_number, clients_online)`. Returns how many were queued.
    pub fn push(&self, text: impl Fn(u64, usize) -> String) -> usize {
        let mut map = self.lock();
        let online = map.values().filter(|m| m.name.is_some()).count();
        let mut queued = 0;
        let mut dropped = Vec::new();
        for (&id, m) in map.iter_mut() {
            if m.name.is_none() {
                continue;
            }
            m.pushes += 1;
            match deliver(m, Message::text(text(m.pushes, online))) {
                Delivery::Queued => queued += 1,
                Delivery::Dropped => dropped.push(id),
                Delivery::Gone => {}
            }
        }
        forget_dropped(&mut map, &dropped);
        queued
    }

    /// Queue a Close frame for every member (logged in or not); members whose queue is full
    /// are told to disconnect at once. Empties the room.
    pub fn close_all(&self, code: CloseCode, reason: &'static str) {
        let mut map = self.lock();
        for m in map.values() {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            if let Delivery::Queued = deliver(m, Message::Close(Some(frame))) {
                continue;
            }
            m.kill.notify_one();
        }
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(room: &Room, id: u64, cap: usize) -> (mpsc::Receiver<Message>, Arc<Notify>) {
        let (tx, rx) = mpsc::channel(cap);
        let kill = Arc::new(Notify::new());
        room.join(id, tx, Budget::new(1 << 30), kill.clone());
        (rx, kill)
    }

    #[tokio::test]
    async fn byte_budget_drops_a_member_with_too_much_waiting() {
        let room = Room::default();
        let (tx, mut slow_rx) = mpsc::channel(1000);
        let slow_kill = Arc::new(Notify::new());
        let budget = Budget::new(3 * (1000 + MESSAGE_OVERHEAD));
        room.join(1, tx, budget.clone(), slow_kill.clone());
        let (mut fast, _) = member(&room, 2, 1000);
        room.logged_in(1, "a".into());
        room.logged_in(2, "a".into());
        let big = Message::text("x".repeat(1000));
        for _ in 0..3 {
            assert_eq!(room.broadcast(99, big.clone()), (2, 0));
        }
        assert_eq!(budget.in_use(), 3 * (1000 + MESSAGE_OVERHEAD));
        // Pings and closes are not counted; the 4th big message does not fit.
        assert_eq!(
            room.broadcast(99, Message::Ping(Default::default())),
            (2, 0)
        );
        assert_eq!(room.broadcast(99, big.clone()), (1, 1));
        tokio::time::timeout(std::time::Duration::from_secs(5), slow_kill.notified())
            .await
            .expect("slow member told to go");
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
        let (queued, dropped) = room.broadcast(1, Message::text("admin: hi"));
        assert_eq!((queued, dropped), (1, 0));
        assert_eq!(b.try_recv().unwrap(), Message::text("admin: hi"));
        assert!(a.try_recv().is_err());
        assert!(c.try_recv().is_err());
    }

    #[tokio::test]
    async fn full_queue_drops_only_that_member() {
        let room = Room::default();
        let (_slow_rx, slow_kill) = member(&room, 1, 1);
        let (mut fast, _) = member(&room, 2, 16);
        room.logged_in(1, "admin".into());
        room.logged_in(2, "admin".into());
        room.broadcast(99, Message::text("one"));
        let (queued, dropped) = room.broadcast(99, Message::text("two"));
        assert_eq!((queued, dropped), (1, 1));
        // The slow member was told to go and left the room.
        tokio::time::timeout(std::time::Duration::from_secs(5), slow_kill.notified())
            .await
            .expect("slow member notified");
        assert_eq!(room.len(), 1);
        assert_eq!(fast.try_recv().unwrap(), Message::text("one"));
        assert_eq!(fast.try_recv().unwrap(), Message::text("two"));
    }

    #[tokio::test]
    async fn pushes_are_numbered_per_member() {
        let room = Room::default();
        let (mut a, _) = member(&room, 1, 8);
        room.logged_in(1, "admin".into());
        room.push(|n, online| format!("#{n} {online}"));
        let (mut b, _) = member(&room, 2, 8);
        room.logged_in(2, "admin".into());
        room.push(|n, online| format!("#{n} {online}"));
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
}
