use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use wsdeck::app::{App, AppInit};
use wsdeck::cli::{Cli, Command, ConnectArgs, DemoArgs, PASSWORD_ENV};
use wsdeck::model::{AuthMethod, ConnectSpec, DEFAULT_URL, Secret};

/// The seed's demo credentials, used only by `wsdeck demo`.
const DEMO_USER: &str = "admin";
const DEMO_PASSWORD: &str = "123456";

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The local UTC offset can only be read safely while the process has one thread.
    let utc_offset = time::UtcOffset::current_local_offset()
        .map(|o| o.whole_seconds())
        .unwrap_or(0);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(e.into()),
    };
    let result = match cli.command {
        None => rt.block_on(ui(default_init(), utc_offset)),
        Some(Command::Connect(args)) => match connect_init(&args) {
            Ok(init) => rt.block_on(ui(init, utc_offset)),
            Err(e) => Err(e),
        },
        Some(Command::Demo(args)) => rt.block_on(demo(args, utc_offset)),
        Some(Command::Serve(args)) => {
            init_stderr_logging();
            rt.block_on(wsdeck::server::run_serve(args))
        }
        Some(Command::Pipe(args)) => {
            let code = rt.block_on(wsdeck::pipe::run_pipe(args));
            // Exit without waiting for the stdin reader thread, which may be blocked in a read.
            std::process::exit(code);
        }
    };
    rt.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("wsdeck: {e:#}");
    ExitCode::FAILURE
}

/// Logs for the server go to stderr (`RUST_LOG` picks the level; default: warnings).
fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn env_password() -> Secret {
    Secret::new(std::env::var(PASSWORD_ENV).unwrap_or_default())
}

fn default_init() -> AppInit {
    let mut spec = ConnectSpec::new(DEFAULT_URL);
    spec.password = env_password();
    AppInit {
        spec,
        connect_now: false,
        banner: None,
    }
}

fn connect_init(args: &ConnectArgs) -> anyhow::Result<AppInit> {
    let mut spec = args.to_spec()?;
    spec.password = env_password();
    Ok(AppInit {
        connect_now: spec.auth == AuthMethod::None,
        spec,
        banner: None,
    })
}

async fn demo(args: DemoArgs, utc_offset: i32) -> anyhow::Result<()> {
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
        spec,
        connect_now: false,
        banner: Some(format!(
            "demo server listening on {url} — user {DEMO_USER}, password filled in: press Enter to log in"
        )),
    };
    let result = ui(init, utc_offset).await;
    server.shutdown().await;
    result
}

async fn ui(init: AppInit, utc_offset: i32) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the UI needs a terminal; for scripts use `wsdeck pipe URL`");
    }
    let (mut app, initial) = App::new(init);
    app.set_utc_offset(utc_offset);
    wsdeck::tui::run_terminal(app, initial).await?;
    Ok(())
}
