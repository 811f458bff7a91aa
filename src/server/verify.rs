//! The argon2 verifiers for `--users-file` logins: a fixed number of threads fed by a bounded
//! queue, so that a burst of logins costs a bounded amount of memory and CPU.
//!
//! - [`VERIFIERS`] threads, each verifying one login at a time with its own argon2 working
//!   memory (19 MiB at the default parameters), reused for the next queued login and given
//!   back to the operating system as soon as the queue is empty. Peak memory is therefore
//!   `VERIFIERS` × argon2's memory, whatever the burst; after it, nothing stays.
//! - At most [`QUEUE`] logins wait; at most [`PER_ADDRESS`] of them (waiting or being verified)
//!   come from one client address, so one address cannot make others wait behind it. A login
//!   that finds no room is refused at once ([`Busy`]), not judged.
//! - A login whose connection went away while it waited is skipped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};

use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::{Argon2, Block};
use tokio::sync::oneshot;

use super::auth::UserDb;

/// Verifications running at once.
pub(crate) const VERIFIERS: usize = 2;
/// Logins waiting for a verifier.
pub(crate) const QUEUE: usize = 32;
/// Logins from one address waiting or being verified.
pub(crate) const PER_ADDRESS: usize = 4;

/// Why a login was refused without being judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Busy {
    /// [`PER_ADDRESS`] logins from this address are already waiting or being verified.
    Address,
    /// The queue is full.
    Server,
}

impl Busy {
    /// The reason of the Close (1008) that refuses the login.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Busy::Address => "too many logins from this address being checked; try again later",
            Busy::Server => "too many logins being checked; try again later",
        }
    }
}

/// The verifier threads and their queue. Dropping it lets the threads end once the queue is
/// empty.
pub(crate) struct Verifiers {
    jobs: SyncSender<Job>,
    /// Keeps the queue open even with no thread (tests); the threads end when `jobs` goes.
    _queue: Arc<Mutex<Receiver<Job>>>,
    in_flight: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

struct Job {
    users: Arc<UserDb>,
    login: String,
    reply: oneshot::Sender<Option<String>>,
    /// Held until the verification is over (or skipped).
    _slot: AddressSlot,
}

/// One of an address's [`PER_ADDRESS`] places; given back when dropped.
struct AddressSlot {
    addr: IpAddr,
    in_flight: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut map = lock(&self.in_flight);
        if let Some(n) = map.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.addr);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Verifiers {
    /// Start the threads.
    pub(crate) fn start() -> std::io::Result<Verifiers> {
        Self::start_with(VERIFIERS, QUEUE)
    }

    fn start_with(threads: usize, queue: usize) -> std::io::Result<Verifiers> {
        let (jobs, rx) = sync_channel(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-verifier-{i}"))
                .spawn(move || verifier(&rx))?;
        }
        Ok(Verifiers {
            jobs,
            _queue: rx,
            in_flight: Arc::default(),
        })
    }

    /// Queue the login text `login` from `addr` for verification against `users`. The
    /// receiver gets the user name when it is accepted, `None` when not (or when the
    /// verifiers are gone).
    pub(crate) fn submit(
        &self,
        users: Arc<UserDb>,
        addr: IpAddr,
        login: String,
    ) -> Result<oneshot::Receiver<Option<String>>, Busy> {
        let addr = addr.to_canonical();
        let slot = {
            let mut map = lock(&self.in_flight);
            let n = map.entry(addr).or_insert(0);
            if *n >= PER_ADDRESS {
                return Err(Busy::Address);
            }
            *n += 1;
            AddressSlot {
                addr,
                in_flight: self.in_flight.clone(),
            }
        };
        let (reply, answer) = oneshot::channel();
        let job = Job {
            users,
            login,
            reply,
            _slot: slot,
        };
        match self.jobs.try_send(job) {
            Ok(()) => Ok(answer),
            // The job (and its slot) is dropped here.
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => Err(Busy::Server),
        }
    }
}

/// One verifier thread: take jobs until the queue's sender is gone.
fn verifier(rx: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::default();
    loop {
        let job = {
            let rx = lock(rx);
            match rx.try_recv() {
                Ok(job) => job,
                Err(TryRecvError::Empty) => {
                    // Nothing waits: give the working memory back before sleeping.
                    memory.release();
                    match rx.recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    }
                }
                Err(TryRecvError::Disconnected) => return,
            }
        };
        if job.reply.is_closed() {
            // The connection went away while its login waited.
            continue;
        }
        let accepted = job
            .users
            .check_login_with(&job.login, &mut |hash, password| {
                verify(hash, password, &mut memory)
            });
        let _ = job.reply.send(accepted);
    }
}

/// A verifier's argon2 working memory, kept across the logins of one burst.
#[derive(Default)]
struct Memory {
    blocks: Vec<Block>,
}

/// Allocations at least this big are always given back to the operating system when freed
/// (glibc maps every allocation over 32 MiB separately, however its dynamic mmap threshold
/// has moved; smaller freed ones may stay in a thread's arena for good). Only the blocks in
/// use are ever touched, so the rest costs address space, not memory.
const ALWAYS_MAPPED_BLOCKS: usize = (33 << 20) / Block::SIZE;

impl Memory {
    /// `n` blocks of working memory.
    fn blocks(&mut self, n: usize) -> &mut [Block] {
        if self.blocks.capacity() < n {
            self.blocks = Vec::with_capacity(n.max(ALWAYS_MAPPED_BLOCKS));
        }
        self.blocks.resize(n, Block::default());
        &mut self.blocks[..n]
    }

    fn release(&mut self) {
        self.blocks = Vec::new();
    }
}

/// Does `password` match the PHC `hash`? Argon2's own verification, with the working memory
/// supplied by the caller: recompute the hash with the same algorithm, version, parameters and
/// salt, and compare the outputs in constant time.
fn verify(hash: &PasswordHash, password: &[u8], memory: &mut Memory) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut buf = [0u8; Output::MAX_LENGTH];
    let Some(out) = buf.get_mut(..expected.len()) else {
        return false;
    };
    let blocks = memory.blocks(params.block_count());
    let argon2 = Argon2::new(algorithm, version, params);
    if argon2
        .hash_password_into_with_memory(password, salt, out, blocks)
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(out).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{CustomizedPasswordHasher, PasswordVerifier};

    fn hash(password: &str, alg: &str, version: u32, m: u32, t: u32, p: u32) -> PasswordHash {
        let params = argon2::ParamsBuilder::new()
            .m_cost(m)
            .t_cost(t)
            .p_cost(p)
            .output_len(24)
            .build()
            .unwrap();
        Argon2::default()
            .hash_password_customized(
                password.as_bytes(),
                b"saltsaltsalt",
                Some(alg),
                Some(version),
                params,
            )
            .unwrap()
    }

    #[test]
    fn verification_with_reused_memory_agrees_with_argon2s_own() {
        let mut memory = Memory::default();
        for (alg, version, m, t, p) in [
            ("argon2id", 0x13, 64, 1, 1),
            ("argon2i", 0x13, 256, 2, 2),
            ("argon2d", 0x10, 32, 3, 4),
            ("argon2id", 0x13, 128, 1, 1),
        ] {
            let h = hash("right", alg, version, m, t, p);
            for (given, want) in [("right", true), ("wrong", false), ("", false)] {
                let theirs = Argon2::default()
                    .verify_password(given.as_bytes(), &h)
                    .is_ok();
                assert_eq!(theirs, want, "{alg} v{version} m={m} t={t} p={p} {given:?}");
                assert_eq!(
                    verify(&h, given.as_bytes(), &mut memory),
                    want,
                    "{alg} v{version} m={m} t={t} p={p} {given:?}"
                );
            }
        }
        memory.release();
        assert_eq!(memory.blocks.capacity(), 0);
    }

    fn users() -> Arc<UserDb> {
        let h = hash("pw", "argon2id", 0x13, 64, 1, 1);
        Arc::new(UserDb::parse(&format!("alice:{h}\n")).unwrap())
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[tokio::test]
    async fn logins_are_verified_by_the_threads() {
        let v = Verifiers::start_with(2, 4).unwrap();
        let ok = v.submit(users(), A, "alice:pw".into()).unwrap();
        let bad = v.submit(users(), A, "alice:nope".into()).unwrap();
        let unknown = v.submit(users(), B, "bob:pw".into()).unwrap();
        assert_eq!(ok.await.unwrap().as_deref(), Some("alice"));
        assert_eq!(bad.await.unwrap(), None);
        assert_eq!(unknown.await.unwrap(), None);
    }

    #[test]
    fn the_queue_and_each_address_are_bounded() {
        // No threads: nothing leaves the queue.
        let v = Verifiers::start_with(0, PER_ADDRESS + 1).unwrap();
        let mut held = Vec::new();
        for _ in 0..PER_ADDRESS {
            held.push(v.submit(users(), A, "alice:x".into()).unwrap());
        }
        assert_eq!(
            v.submit(users(), A, "alice:x".into()).unwrap_err(),
            Busy::Address
        );
        // IPv4-mapped IPv6 is the same address.
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(
            v.submit(users(), mapped, "alice:x".into()).unwrap_err(),
            Busy::Address
        );
        held.push(v.submit(users(), B, "alice:x".into()).unwrap());
        assert_eq!(
            v.submit(users(), B, "alice:x".into()).unwrap_err(),
            Busy::Server
        );
        // A refused login gave its address slot back.
        assert_eq!(lock(&v.in_flight).get(&B), Some(&1));
    }

    #[tokio::test]
    async fn a_login_whose_connection_went_away_is_skipped_and_frees_its_slot() {
        let v = Verifiers::start_with(1, 8).unwrap();
        for _ in 0..PER_ADDRESS {
            drop(v.submit(users(), A, "alice:pw".into()).unwrap());
        }
        // Once the abandoned ones are done with, the address has room again.
        let answer = v.submit(users(), B, "alice:pw".into()).unwrap();
        assert_eq!(answer.await.unwrap().as_deref(), Some("alice"));
        assert!(lock(&v.in_flight).get(&A).is_none());
        assert!(v.submit(users(), A, "alice:pw".into()).is_ok());
    }
}
