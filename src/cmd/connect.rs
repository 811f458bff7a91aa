//! `wsdeck connect` (and `wsdeck` alone): the login pane filled from the flags or a profile,
//! then the full-screen UI.

use crate::app::{App, AppInit};
use crate::cli::{ConnectArgs, UiArgs};
use crate::config::Config;
use crate::model::Secret;
use crate::spec::{AuthMethod, ConnectSpec, DEFAULT_URL, PASSWORD_ENV};
use crate::tui::RunOptions;

/// A checked `connect` command line, ready to open the UI.
pub struct Prepared {
    init: AppInit,
    opts: RunOptions,
}

impl Prepared {
    pub async fn run(self, utc_offset: i32) -> anyhow::Result<()> {
        ui(self.init, utc_offset, self.opts).await
    }
}

/// Everything that can be wrong with the flags, URL, profile or script is found here,
/// before the terminal is taken over.
pub fn prepare(args: &ConnectArgs, ui_args: &UiArgs) -> anyhow::Result<Prepared> {
    let cfg = super::config_for(args, true)?.unwrap_or_default();
    let mut spec = super::session_spec(args, Some(&cfg))?;
    if spec.password.is_empty() {
        spec.password = env_password();
    }
    let record = super::record_path(args, Some(&cfg));
    let mut opts = run_options(ui_args, record, args.no_redact)?;
    opts.har = args.har.clone();
    opts.overwrite = args.overwrite;
    let init = AppInit {
        connect_now: spec.auth == AuthMethod::None,
        profile: args.profile_name().map(str::to_string),
        ..with_config(AppInit::new(spec), cfg)
    };
    Ok(Prepared { init, opts })
}

/// `wsdeck` with no command: the login pane with the defaults.
pub async fn default_ui(utc_offset: i32) -> anyhow::Result<()> {
    let mut spec = ConnectSpec::new(DEFAULT_URL);
    spec.password = env_password();
    let init = with_config(AppInit::new(spec), Config::load(None)?);
    ui(init, utc_offset, RunOptions::default()).await
}

fn env_password() -> Secret {
    Secret::new(std::env::var(PASSWORD_ENV).unwrap_or_default())
}

/// The config file's snippets and profiles, for the palette and the login pane.
pub(super) fn with_config(init: AppInit, cfg: Config) -> AppInit {
    AppInit {
        snippets: cfg.snippets,
        profiles: cfg.profiles.into_iter().collect(),
        warnings: cfg.warnings,
        ..init
    }
}

/// Load the script (errors before the UI starts) and collect the runtime's options.
pub(super) fn run_options(
    ui: &UiArgs,
    record: Option<std::path::PathBuf>,
    no_redact: bool,
) -> anyhow::Result<RunOptions> {
    let script = match &ui.script {
        Some(path) => Some(crate::script::Script::load(path)?),
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

/// Take over the terminal and run the UI until the user quits.
pub(super) async fn ui(init: AppInit, utc_offset: i32, opts: RunOptions) -> anyhow::Result<()> {
    super::require_terminal("; for scripts use `wsdeck pipe URL`")?;
    let mut opts = opts;
    // Ctrl-T opens another session with the same login pane (URL, user…).
    opts.new_session = Some(AppInit {
        banner: None,
        connect_now: false,
        warnings: Vec::new(),
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
    let notes = opts.exit_notes.clone();
    let result = crate::tui::run_terminal(app, initial, opts).await;
    // The terminal is restored: what happened to a taken file name stays readable.
    for n in notes.lock().map(|n| n.clone()).unwrap_or_default() {
        eprintln!("wsdeck: {n}");
    }
    result.map(|_| ())
}
