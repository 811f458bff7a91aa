//! Shared by the echo benchmarks' load generators (`echo_load`, `tcp_echo`): the server's CPU
//! time and the one result line `bench/run.sh` reads.

use anyhow::Context;

/// CPU time (ns) used so far by all threads of process `pid`.
pub fn process_cpu_ns(pid: u32) -> anyhow::Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat"))?;
        total += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .context("bad schedstat")?;
    }
    Ok(total)
}

/// `roundtrips_per_sec R (N in S s, WHAT, E ended early)`, plus `server_cpu_s C
/// roundtrips_per_cpu_s R` when the server's CPU time (ns) before and after is known.
pub fn result_line(
    n: u64,
    secs: f64,
    what: &str,
    ended: usize,
    cpu_ns: Option<(u64, u64)>,
) -> String {
    let mut line = format!(
        "roundtrips_per_sec {:.0} ({n} in {secs:.2} s, {what}, {ended} ended early)",
        n as f64 / secs
    );
    if let Some((a, b)) = cpu_ns {
        let cpu = b.saturating_sub(a) as f64 / 1e9;
        line.push_str(&format!(
            " server_cpu_s {cpu:.3} roundtrips_per_cpu_s {:.0}",
            n as f64 / cpu.max(1e-9)
        ));
    }
    line
}

/// After the warm-up, count for the window's seconds: the round trips added to `count` and
/// the server's CPU time (ns, before and after) when its pid is given.
pub async fn count_window(
    count: &std::sync::atomic::AtomicU64,
    w: &Window,
) -> anyhow::Result<(u64, f64, Option<(u64, u64)>)> {
    let (warmup, secs, server_pid) = (w.warmup, w.secs, w.server_pid);
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};
    tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
    let cpu0 = server_pid.map(process_cpu_ns).transpose()?;
    let (c0, t0) = (count.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let (c1, dt) = (count.load(Ordering::Relaxed), t0.elapsed().as_secs_f64());
    let cpu1 = server_pid.map(process_cpu_ns).transpose()?;
    Ok((c1 - c0, dt, cpu0.zip(cpu1)))
}

/// Stop the connection tasks; returns how many had already ended (each one's error printed
/// with `who`), failing if all had: a connection that ended early was dropped by the server
/// (e.g. its outgoing queue overflowed while the generator was starved of CPU).
pub async fn end_tasks(
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    who: &str,
) -> anyhow::Result<usize> {
    let total = tasks.len();
    let mut ended = 0;
    for t in tasks {
        if t.is_finished() {
            ended += 1;
            if let Ok(Err(e)) = t.await {
                eprintln!("{who}: a connection ended: {e:#}");
            }
        } else {
            t.abort();
        }
    }
    if ended == total {
        anyhow::bail!("every connection ended during the measurement");
    }
    Ok(ended)
}

/// The load shape and measuring window, the same flags for both generators.
#[derive(Debug, clap::Args)]
pub struct Window {
    /// Messages each connection keeps in flight: 1 sends and waits for the reply; N > 1
    /// sends N together, and tops the window up after each burst of replies.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub in_flight: u32,
    /// Seconds not counted at the start.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Seconds counted.
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// Also report the CPU time this (local) server process used during the counted
    /// seconds, from /proc/PID/task/*/schedstat.
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
}
