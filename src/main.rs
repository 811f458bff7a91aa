use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use wsdeck::app::{App, AppInit};
use wsdeck::cli::{Cli, Command, ConnectArgs, DemoArgs, PASSWORD_ENV, UiArgs};
use wsdeck::config::{Config, Profile, Snippet};
use wsdeck::model::{AuthMethod, ConnectSpec, DEFAULT_URL, Secret};
use wsdeck::tui::RunOptions;

/// The seed's demo credentials, used only by `wsdeck demo`.
const DEMO_USER: &str = "admin";
const DEMO_PASSWORD: &str = "123456";

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(path) = &cli.log
        && let Err(e) = init_file_logging(path)
    {
        return fail(e);
    }
    match &cli.command {
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "wsdeck", &mut out);
            return print_all(&out);
        }
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut out) {
                return fail(e.into());
            }
            return print_all(&out);
        }
        Some(Command::Pipe(args)) => {
            // One thread: the network task and the printer hand frames over without waking
            // another core for each one (about 2× faster under a flood; bench/PROFILE.md).
            let code = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(single) => single.block_on(wsdeck::pipe::run_pipe(args.clone())),
                Err(e) => {
                    eprintln!("wsdeck: {e}");
                    1
                }
            };
            // Exit without waiting for the stdin reader thread, which may be blocked in a read.
            std::process::exit(code);
        }
        Some(Command::Proxy(args)) => {
            // One thread, as for pipe: relays and the printer hand frames over without
            // waking another core for each batch.
            let code = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(single) => single.block_on(wsdeck::cmd::proxy::run(args.clone())),
                Err(e) => {
                    eprintln!("wsdeck: {e}");
                    1
                }
            };
            std::process::exit(code);
        }
        Some(Command::Ca) => {
            return wsdeck::cmd::proxy::print_ca().map_or_else(fail, |()| ExitCode::SUCCESS);
        }
        _ => {}
    }
    // NO_COLOR (no-color.org): decided once, for every screen drawn.
    wsdeck::ui::theme::set_no_color(wsdeck::ui::theme::no_color_requested(
        std::env::var_os("NO_COLOR").as_deref(),
    ));
    // The local UTC offset can only be read safely while the process has one thread.
    let utc_offset = time::UtcOffset::current_local_offset()
        .map(|o| o.whole_seconds())
        .unwrap_or(0);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e.into()),
    };
    let result = match cli.command {
        None => match default_init() {
            Ok(init) => rt.block_on(ui(init, utc_offset, RunOptions::default())),
            Err(e) => Err(e),
        },
        Some(Command::Connect { conn, ui: ui_args }) => {
            match connect_init(&conn).and_then(|init| Ok((init, connect_options(&conn, &ui_args)?)))
            {
                Ok((init, opts)) => rt.block_on(ui(init, utc_offset, opts)),
                // Bad flags, URL, profile or script: the usage exit code, like clap's.
                Err(e) => {
                    eprintln!("wsdeck: {e:#}");
                    return ExitCode::from(2);
                }
            }
        }
        Some(Command::Demo(args)) => rt.block_on(demo(args, utc_offset)),
        Some(Command::Replay { file, keep }) => rt.block_on(replay(&file, &keep, utc_offset)),
        // Handled above, before any runtime exists.
        Some(Command::Completions { .. })
        | Some(Command::Man)
        | Some(Command::Pipe(_))
        | Some(Command::Proxy(_))
        | Some(Command::Ca) => Ok(()),
        Some(Command::Serve(args)) => {
            if cli.log.is_none() {
                init_stderr_logging();
            }
            rt.block_on(wsdeck::server::run_serve(args))
        }
        Some(Command::HashPassword(args)) => wsdeck::server::run_hash_password(args),
    };
    rt.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
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

/// Logs for the server go to stderr (`RUST_LOG` picks the level; default: info).
fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// `--log FILE`: tracing to a file (append), level from `RUST_LOG` (default: info).
fn init_file_logging(path: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open log file {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
    Ok(())
}

fn env_password() -> Secret {
    Secret::new(std::env::var(PASSWORD_ENV).unwrap_or_default())
}

/// Snippets and named profiles for the UI.
type UiConfig = (Vec<Snippet>, Vec<(String, Profile)>);

/// The UI's global snippets and profiles from the config file (`explicit`, else
/// `WSDECK_CONFIG`, else the user's config directory); `profile` must be one of them.
fn ui_config(
    explicit: Option<&std::path::Path>,
    profile: Option<&str>,
) -> anyhow::Result<UiConfig> {
    let cfg = Config::load(explicit)?;
    if let Some(name) = profile {
        cfg.profile(name)?;
    }
    Ok((cfg.snippets, cfg.profiles.into_iter().collect()))
}

fn default_init() -> anyhow::Result<AppInit> {
    let mut spec = ConnectSpec::new(DEFAULT_URL);
    spec.password = env_password();
    let (snippets, profiles) = ui_config(None, None)?;
    Ok(AppInit {
        snippets,
        profiles,
        ..AppInit::new(spec)
    })
}

fn connect_init(args: &ConnectArgs) -> anyhow::Result<AppInit> {
    let mut spec = args.to_spec()?;
    if spec.password.is_empty() {
        spec.password = env_password();
    }
    let profile = args.url.strip_prefix('@');
    let (snippets, profiles) = ui_config(args.config.as_deref(), profile)?;
    Ok(AppInit {
        connect_now: spec.auth == AuthMethod::None,
        snippets,
        profiles,
        profile: profile.map(str::to_string),
        ..AppInit::new(spec)
    })
}

async fn demo(args: DemoArgs, utc_offset: i32) -> anyhow::Result<()> {
    let (snippets, profiles) = ui_config(None, None)?;
    let mut cfg = wsdeck::server::ServerConfig::new(
        "127.0.0.1:0".parse().expect("valid address"),
        DEMO_USER.to_string(),
        Secret::new(DEMO_PASSWORD),
    );
    cfg.tick = (args.tick > 0).then(|| Duration::from_secs(args.tick));
    let server = wsdeck::server::start(cfg).await?;
    let url = format!("ws://{}", server.local_addr());
    let mut spec = ConnectSpec::new(url.clone());
    spec.user = DEMO_USER.into();
    spec.password = Secret::new(DEMO_PASSWORD);
    let init = AppInit {
        banner: Some(format!(
            "demo server listening on {url} — user {DEMO_USER}, password filled in: press Enter to log in"
        )),
        snippets,
        profiles,
        ..AppInit::new(spec)
    };
    let mut opts = run_options(&args.ui, args.record.clone(), false)?;
    opts.har = args.har.clone();
    let result = ui(init, utc_offset, opts).await;
    server.shutdown().await;
    result
}

/// `connect`'s recording and export: the flags, else the profile's `record`.
fn connect_options(conn: &ConnectArgs, ui: &UiArgs) -> anyhow::Result<RunOptions> {
    let record = match &conn.record {
        Some(p) => Some(p.clone()),
        None => conn.profile()?.and_then(|p| p.record),
    };
    let mut opts = run_options(ui, record, conn.no_redact)?;
    opts.har = conn.har.clone();
    Ok(opts)
}

/// Load the script (errors before the UI starts) and collect the runtime's options.
fn run_options(
    ui: &UiArgs,
    record: Option<std::path::PathBuf>,
    no_redact: bool,
) -> anyhow::Result<RunOptions> {
    let script = match &ui.script {
        Some(path) => Some(wsdeck::script::Script::load(path)?),
        None => None,
    };
    Ok(RunOptions {
        script,
        record,
        no_redact,
        frame_limits: Some(ui.keep.limits()),
        ..RunOptions::default()
    })
}

async fn ui(init: AppInit, utc_offset: i32, opts: RunOptions) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the UI needs a terminal; for scripts use `wsdeck pipe URL`");
    }
    let mut opts = opts;
    // Ctrl-T opens another session with the same login pane (URL, user…).
    opts.new_session = Some(AppInit {
        banner: None,
        connect_now: false,
        ..init.clone()
    });
    opts.utc_offset = utc_offset;
    opts.panic_at_draw = std::env::var("WSDECK_FAULT_PANIC_AT_DRAW")
        .ok()
        .and_then(|v| v.parse().ok());
    let (mut app, initial) = App::new(init);
    app.set_utc_offset(utc_offset);
    if let Some((frames, bytes)) = opts.frame_limits {
        app.set_frame_limits(frames, bytes);
    }
    wsdeck::tui::run_terminal(app, initial, opts).await?;
    Ok(())
}

/// `wsdeck replay FILE`: the monitor and chat over a recorded session, read-only.
async fn replay(
    file: &std::path::Path,
    keep: &wsdeck::cli::KeepArgs,
    utc_offset: i32,
) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the UI needs a terminal");
    }
    let recording = wsdeck::record::jsonl::read(file)?;
    let (frames, bytes) = keep.limits();
    let mut app = App::replay_with_limits(recording, &file.display().to_string(), frames, bytes);
    app.set_utc_offset(utc_offset);
    let opts = RunOptions {
        utc_offset,
        ..RunOptions::default()
    };
    wsdeck::tui::run_terminal(app, Vec::new(), opts).await?;
    Ok(())
}
