//! Where `tracing` logs go: a file with `--log`, stderr for `serve`; never the UI's screen.

use std::io::IsTerminal;

use anyhow::Context;

/// `RUST_LOG`, else `default`.
fn filter(default: &str) -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
}

/// The level `serve` logs to the terminal at for `-v` given `verbose` times: warnings and
/// errors only by default (the terminal shows `listening on HOST:PORT`, not INFO lines).
pub fn stderr_level(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    }
}

/// Logs for the server go to stderr, at `RUST_LOG`'s level, else `level`.
pub fn to_stderr(level: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// `--log FILE`: tracing appended to a file.
pub fn to_file(path: &std::path::Path) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open log file {}", path.display()))?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter("info"))
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
    Ok(())
}
