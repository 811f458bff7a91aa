//! `wsdeck pipe`: the flags (and profile) into [`crate::pipe::PipeOptions`].

use crate::cli::ConnectArgs;
use crate::pipe::{PipeOptions, run_pipe};

/// Exit code 2 for bad flags, URL or profile, as clap does for usage errors.
pub async fn run(args: ConnectArgs) -> i32 {
    let prepared = super::config_for(&args, false).and_then(|cfg| {
        Ok(PipeOptions {
            spec: super::session_spec(&args, cfg.as_ref())?,
            record: super::record_path(&args, cfg.as_ref()),
            har: args.har.clone(),
        })
    });
    match prepared {
        Ok(opts) => run_pipe(opts).await,
        Err(e) => {
            eprintln!("wsdeck: {e:#}");
            2
        }
    }
}
