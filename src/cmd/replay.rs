//! `wsdeck replay FILE`: the monitor and chat over a recorded session, read-only.

use crate::app::App;
use crate::cli::KeepArgs;
use crate::tui::RunOptions;

pub async fn run(file: &std::path::Path, keep: &KeepArgs, utc_offset: i32) -> anyhow::Result<()> {
    // The file first: what is wrong with it matters more than where the UI would run.
    let recording = crate::record::read_any(file)?;
    super::require_terminal("")?;
    let (frames, bytes) = keep.limits();
    let mut app = App::replay_with_limits(recording, &file.display().to_string(), frames, bytes);
    app.set_utc_offset(utc_offset);
    let opts = RunOptions {
        utc_offset,
        ..RunOptions::default()
    };
    crate::tui::run_terminal(app, Vec::new(), opts).await?;
    Ok(())
}
