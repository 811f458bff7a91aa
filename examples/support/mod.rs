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
