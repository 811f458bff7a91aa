//! Per-command glue between the command line (`cli`) and the engine modules: each command
//! turns its flags into the engine's types, runs, and maps the outcome to an exit code.
//! The config file is read once here, for the commands that use it.

mod connect;
mod demo;
mod hash_password;
mod log;
mod man;
mod pipe;
pub mod proxy;
mod replay;
mod serve;
mod signals;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{Cli, Command, ConnectArgs};
use crate::config::Config;
use crate::spec::{ConnectSpec, validate_url};

/// Run the command line `cli` and return the process's exit code.
pub fn main(cli: Cli) -> ExitCode {
    if let Some(path) = &cli.log
        && let Err(e) = log::to_file(path)
    {
        return fail(e);
    }
    let Some(command) = cli.command else {
        return with_ui_runtime(|rt, utc_offset| rt.block_on(connect::default_ui(utc_offset)));
    };
    match command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "wsdeck", &mut out);
            print_all(&out)
        }
        Command::Man { subcommand, dir } => match man::run(subcommand.as_deref(), dir.as_deref()) {
            Ok(Some(page)) => print_all(&page),
            Ok(None) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wsdeck: {e:#}");
                ExitCode::from(2)
            }
        },
        // One thread: the network task and the printer hand frames over without waking
        // another core for each one (about 2× faster under a flood; bench/PROFILE.md).
        Command::Pipe(args) => exit_single_threaded(pipe::run(args)),
        // One thread, as for pipe: relays and the printer hand frames over without waking
        // another core for each batch.
        Command::Proxy(args) if args.no_ui => exit_single_threaded(proxy::run(args)),
        // The UI runs the editor with the terminal handed over: on its own thread.
        Command::Proxy(args) => match proxy::config(&args) {
            Ok(cfg) => with_ui_runtime(|rt, utc| rt.block_on(proxy::run_ui(args, cfg, utc))),
            // Bad flags: the usage exit code, as headless.
            Err(e) => {
                eprintln!("wsdeck: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Ca => proxy::print_ca().map_or_else(fail, |()| ExitCode::SUCCESS),
        Command::Connect { conn, ui } => match connect::prepare(&conn, &ui) {
            Ok(prepared) => with_ui_runtime(|rt, utc_offset| rt.block_on(prepared.run(utc_offset))),
            // Bad flags, URL, profile or script: the usage exit code, like clap's.
            Err(e) => {
                eprintln!("wsdeck: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Demo(args) => with_ui_runtime(|rt, utc| rt.block_on(demo::run(args, utc))),
        Command::Replay { file, keep } => {
            with_ui_runtime(|rt, utc| rt.block_on(replay::run(&file, &keep, utc)))
        }
        Command::Serve(args) => {
            if cli.log.is_none() {
                log::to_stderr(log::stderr_level(args.verbose));
            }
            with_runtime(|rt| rt.block_on(serve::run(args)))
        }
        Command::HashPassword(args) => {
            hash_password::run(args).map_or_else(fail, |()| ExitCode::SUCCESS)
        }
    }
}

/// Run `fut` on a one-thread runtime and exit with its code, without waiting for reader
/// threads that may be blocked in a read of stdin.
fn exit_single_threaded(fut: impl std::future::Future<Output = i32>) -> ExitCode {
    let code = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(single) => single.block_on(fut),
        Err(e) => {
            eprintln!("wsdeck: {e}");
            1
        }
    };
    std::process::exit(code);
}

/// The multi-threaded runtime for the UI and the server; errors become exit code 1.
fn with_runtime(f: impl FnOnce(&tokio::runtime::Runtime) -> anyhow::Result<()>) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e.into()),
    };
    let result = f(&rt);
    rt.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// As [`with_runtime`], for the full-screen UI: colours and the local time offset are
/// decided first, while the process still has one thread.
fn with_ui_runtime(
    f: impl FnOnce(&tokio::runtime::Runtime, i32) -> anyhow::Result<()>,
) -> ExitCode {
    // NO_COLOR (no-color.org): decided once, for every screen drawn.
    crate::ui::theme::set_no_color(crate::ui::theme::no_color_requested(
        std::env::var_os("NO_COLOR").as_deref(),
    ));
    // The local UTC offset can only be read safely while the process has one thread.
    let utc_offset = time::UtcOffset::current_local_offset()
        .map(|o| o.whole_seconds())
        .unwrap_or(0);
    with_runtime(|rt| f(rt, utc_offset))
}

/// Write generated text to stdout; a closed pipe (`| head`) is not an error.
fn print_all(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    match std::io::stdout().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => fail(e.into()),
        _ => ExitCode::SUCCESS,
    }
}

fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("wsdeck: {e:#}");
    ExitCode::FAILURE
}

/// The config file for a `connect`/`pipe` command line: read (once) when the URL names a
/// profile or `with_ui` asks for the UI's snippets and profiles; `None` otherwise.
fn config_for(args: &ConnectArgs, with_ui: bool) -> anyhow::Result<Option<Config>> {
    if args.profile_name().is_none() && !with_ui {
        return Ok(None);
    }
    let cfg = Config::load(args.config.as_deref())?;
    if let Some(name) = args.profile_name() {
        cfg.profile(name)?;
    }
    if !with_ui {
        // The UI shows them in its history; `pipe` here.
        for w in &cfg.warnings {
            eprintln!("wsdeck: warning: {w}");
        }
    }
    Ok(Some(cfg))
}

/// The session a `connect`/`pipe` command line describes: the profile's spec (for `@NAME`)
/// or the URL with the defaults, then the flags over it.
fn session_spec(args: &ConnectArgs, cfg: Option<&Config>) -> anyhow::Result<ConnectSpec> {
    let mut spec = match (args.profile_name(), cfg) {
        (Some(name), Some(cfg)) => cfg.profile(name)?.to_spec()?,
        (Some(name), None) => anyhow::bail!("profile {name:?}: no config file was read"),
        (None, _) => ConnectSpec::new(validate_url(&args.url)?),
    };
    args.overrides().apply(&mut spec)?;
    Ok(spec)
}

/// `--record FILE`, else the profile's `record`.
fn record_path(args: &ConnectArgs, cfg: Option<&Config>) -> Option<std::path::PathBuf> {
    args.record.clone().or_else(|| {
        let name = args.profile_name()?;
        cfg?.profile(name).ok()?.record.clone()
    })
}

/// The UI needs a terminal on both ends; `hint` says what to use instead.
fn require_terminal(hint: &str) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the UI needs a terminal{hint}");
    }
    Ok(())
}
