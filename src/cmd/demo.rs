//! `wsdeck demo`: the embedded demo server on a free loopback port and the UI pointed at it,
//! its login filled in.

use std::time::Duration;

use crate::app::AppInit;
use crate::cli::DemoArgs;
use crate::config::Config;
use crate::model::Secret;
use crate::server::ServerConfig;
use crate::spec::ConnectSpec;

/// The seed's demo credentials, used only by `wsdeck demo`.
const DEMO_USER: &str = "admin";
const DEMO_PASSWORD: &str = "123456";

pub async fn run(args: DemoArgs, utc_offset: i32) -> anyhow::Result<()> {
    let cfg = Config::load(args.config.as_deref())?;
    let mut server_cfg = ServerConfig::new(
        "127.0.0.1:0".parse().expect("valid address"),
        DEMO_USER.to_string(),
        Secret::new(DEMO_PASSWORD),
    );
    server_cfg.tick = (args.tick > 0).then(|| Duration::from_secs(args.tick));
    let server = crate::server::start(server_cfg).await?;
    let url = format!("ws://{}", server.local_addr());
    let mut spec = ConnectSpec::new(url.clone());
    spec.user = DEMO_USER.into();
    spec.password = Secret::new(DEMO_PASSWORD);
    let init = AppInit {
        banner: Some(format!(
            "demo server listening on {url} — user {DEMO_USER}, password filled in: press Enter to log in"
        )),
        ..super::connect::with_config(AppInit::new(spec), cfg)
    };
    let mut opts = super::connect::run_options(&args.ui, args.record.clone(), false)?;
    opts.har = args.har.clone();
    opts.overwrite = args.overwrite;
    let result = super::connect::ui(init, utc_offset, opts).await;
    server.shutdown().await;
    result
}
