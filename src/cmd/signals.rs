//! SIGINT/SIGTERM for the commands that run until told to stop.

use anyhow::Context;

/// SIGINT/SIGTERM, registered before the server announces itself so that a signal sent right
/// after `listening on …` is already handled gracefully.
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    pub fn register() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        })
    }

    #[cfg(unix)]
    pub async fn wait(mut self) -> anyhow::Result<()> {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        Ok(())
    }

    #[cfg(not(unix))]
    pub fn register() -> anyhow::Result<Self> {
        Ok(Signals {})
    }

    #[cfg(not(unix))]
    pub async fn wait(self) -> anyhow::Result<()> {
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")
    }
}
