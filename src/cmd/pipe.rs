//! `wsdeck pipe`: the flags (and profile) into [`crate::pipe::PipeOptions`].

use std::time::Duration;

use anyhow::bail;

use crate::cli::PipeArgs;
use crate::pipe::{PipeOptions, SendMode, run_pipe};

/// Exit code 2 for bad flags, URL or profile, as clap does for usage errors.
pub async fn run(args: PipeArgs) -> i32 {
    match prepare(&args) {
        Ok(opts) => run_pipe(opts).await,
        Err(e) => {
            eprintln!("wsdeck: {e:#}");
            2
        }
    }
}

fn prepare(args: &PipeArgs) -> anyhow::Result<PipeOptions> {
    let conn = &args.conn;
    let cfg = super::config_for(conn, false)?;
    let spec = super::session_spec(conn, cfg.as_ref())?;
    if let Some(n) = args.frame_size {
        if args.send != SendMode::Binary {
            bail!("--frame-size cuts raw stdin into frames: it needs --send binary");
        }
        if n == 0 || n > spec.max_message {
            bail!(
                "--frame-size must be between 1 and the message limit ({} bytes, \
                 --max-message), not {n}",
                spec.max_message
            );
        }
    }
    let secs = args.close_timeout;
    if !secs.is_finite() || !(0.01..=3600.0).contains(&secs) {
        bail!("--close-timeout must be between 0.01 and 3600 seconds, not {secs}");
    }
    Ok(PipeOptions {
        record: super::record_path(conn, cfg.as_ref()),
        har: conn.har.clone(),
        send: args.send,
        frame_size: args.frame_size,
        recv: args.recv,
        close_timeout: Duration::from_secs_f64(secs),
        overwrite: conn.overwrite,
        spec,
    })
}
