//! `wsdeck serve`: the demo server alone, configured from the command line.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tracing::info;

use crate::cli::ServeArgs;
use crate::cmd::signals::Signals;
use crate::model::Secret;
use crate::server::{ServerConfig, UserDb, load_tls_config, start};

/// `wsdeck serve`: credentials from `--password-env` or `--users-file`, the limits from the
/// flags, start, print `listening on HOST:PORT`, run until SIGINT/SIGTERM, then shut down
/// gracefully. Logging (a `tracing` subscriber) is the caller's to set up.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let cfg = config_from_args(&args)?;
    let signals = Signals::register()?;
    let server = start(cfg).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", server.local_addr()).context("cannot write to stdout")?;
        out.flush().context("cannot write to stdout")?;
    }
    signals.wait().await?;
    info!("signal received");
    server.shutdown().await;
    Ok(())
}

/// Check `wsdeck serve`'s flags and build the configuration (reads the password variable,
/// the users file and the TLS files).
pub fn config_from_args(args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    let mut cfg = match (&args.users_file, &args.user, &args.password_env) {
        (Some(path), None, None) => {
            let users = UserDb::load(path)?;
            let mut cfg = ServerConfig::new(args.listen, String::new(), Secret::default());
            cfg.users = Some(Arc::new(users));
            cfg
        }
        (None, Some(user), Some(var)) => {
            if user.is_empty() {
                bail!("--user must not be empty");
            }
            ServerConfig::new(args.listen, user.clone(), password_from_env(var)?)
        }
        (Some(_), _, _) => {
            bail!("--users-file replaces --user and --password-env; give one or the other")
        }
        (None, _, _) => bail!("give --user NAME --password-env VAR, or --users-file FILE"),
    };
    cfg.tick = (args.tick > 0).then(|| Duration::from_secs(args.tick));
    cfg.broadcast = !args.no_broadcast;
    if args.max_message < MIN_MAX_MESSAGE {
        bail!("--max-message must be at least {MIN_MAX_MESSAGE} bytes");
    }
    cfg.max_message_size = args.max_message;
    if args.no_compression {
        cfg.compression = None;
    }
    if args.max_connections == 0 {
        bail!("--max-connections must be at least 1");
    }
    cfg.max_connections = args.max_connections;
    cfg.idle_timeout = (args.idle_timeout > 0).then(|| Duration::from_secs(args.idle_timeout));
    cfg.login_timeout = (args.login_timeout > 0).then(|| Duration::from_secs(args.login_timeout));
    if args.handshake_timeout == 0 {
        bail!("--handshake-timeout must be at least 1 second");
    }
    cfg.handshake_timeout = Duration::from_secs(args.handshake_timeout);
    if args.max_login_attempts == 0 {
        bail!("--max-login-attempts must be at least 1");
    }
    cfg.max_login_attempts = args.max_login_attempts;
    cfg.max_failures_per_ip = args.max_failures_per_ip;
    cfg.allowed_origins = args
        .allow_origins
        .iter()
        .map(|o| normalize_origin(o))
        .collect::<anyhow::Result<_>>()?;
    cfg.tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(load_tls_config(cert, key)?),
        (None, None) => None,
        _ => bail!("--tls-cert and --tls-key go together"),
    };
    Ok(cfg)
}

/// Smallest `--max-message` accepted (a login or a close reason must fit).
const MIN_MAX_MESSAGE: usize = 1024;

/// An `--allow-origin` value as browsers send it: `scheme://host[:port]`, no path, no
/// trailing slash (one is dropped).
fn normalize_origin(o: &str) -> anyhow::Result<String> {
    let trimmed = o.trim().trim_end_matches('/');
    let uri: http::Uri = trimmed
        .parse()
        .map_err(|e| anyhow::anyhow!("--allow-origin {o:?} is not an origin: {e}"))?;
    let ok = uri.scheme().is_some()
        && uri.authority().is_some()
        && uri
            .path_and_query()
            .is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/");
    if !ok {
        bail!(
            "--allow-origin {o:?} is not an origin like https://example.com or http://localhost:8080"
        );
    }
    Ok(trimmed.to_string())
}

fn password_from_env(var: &str) -> anyhow::Result<Secret> {
    match std::env::var(var) {
        Ok(p) if !p.is_empty() => Ok(Secret::new(p)),
        Ok(_) => {
            bail!("environment variable {var} (--password-env) is empty; set it to the password")
        }
        Err(std::env::VarError::NotPresent) => {
            bail!("environment variable {var} (--password-env) is not set; set it to the password")
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("environment variable {var} (--password-env) is not valid UTF-8")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_args(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(
            ["wsdeck", "serve"].iter().chain(args.iter()).copied(),
        )?;
        match cli.command {
            Some(crate::cli::Command::Serve(a)) => Ok(a),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn serve_flag_defaults_match_the_config_defaults() {
        // Any variable that is surely set and not empty will do as the password.
        let var = "PATH";
        let args = serve_args(&["--user", "u", "--password-env", var]).unwrap();
        let cfg = config_from_args(&args).unwrap();
        let want = ServerConfig::new(args.listen, "u", Secret::new("x"));
        assert_eq!(cfg.max_message_size, want.max_message_size);
        assert_eq!(cfg.max_connections, want.max_connections);
        assert_eq!(cfg.idle_timeout, want.idle_timeout);
        assert_eq!(cfg.login_timeout, Some(Duration::from_secs(120)));
        assert_eq!(cfg.login_timeout, want.login_timeout);
        assert_eq!(cfg.handshake_timeout, want.handshake_timeout);
        assert_eq!(cfg.max_login_attempts, want.max_login_attempts);
        assert_eq!(cfg.max_failures_per_ip, 20);
        assert_eq!(cfg.max_failures_per_ip, want.max_failures_per_ip);
        assert!(cfg.allowed_origins.is_empty() && cfg.tls.is_none() && cfg.users.is_none());

        let args = serve_args(&[
            "--user",
            "u",
            "--password-env",
            var,
            "--max-message",
            "4096",
            "--max-connections",
            "7",
            "--idle-timeout",
            "0",
            "--login-timeout",
            "0",
            "--handshake-timeout",
            "3",
            "--max-login-attempts",
            "2",
            "--max-failures-per-ip",
            "0",
            "--allow-origin",
            "https://a.example/",
            "--allow-origin",
            "http://localhost:8080",
        ])
        .unwrap();
        let cfg = config_from_args(&args).unwrap();
        assert_eq!(cfg.max_message_size, 4096);
        assert_eq!(cfg.max_connections, 7);
        assert_eq!(cfg.idle_timeout, None);
        assert_eq!(cfg.login_timeout, None);
        assert_eq!(cfg.handshake_timeout, Duration::from_secs(3));
        assert_eq!(cfg.max_login_attempts, 2);
        assert_eq!(cfg.max_failures_per_ip, 0);
        assert_eq!(
            cfg.allowed_origins,
            ["https://a.example", "http://localhost:8080"]
        );
    }

    #[test]
    fn serve_flag_combinations_are_checked() {
        // Credentials: one way or the other, not both, not neither.
        assert!(serve_args(&[]).is_err());
        assert!(serve_args(&["--user", "u"]).is_err());
        assert!(serve_args(&["--users-file", "f", "--user", "u", "--password-env", "V"]).is_err());
        assert!(serve_args(&["--users-file", "f"]).is_ok());
        // TLS needs both files.
        assert!(serve_args(&["--users-file", "f", "--tls-cert", "c"]).is_err());
        assert!(serve_args(&["--users-file", "f", "--tls-key", "k"]).is_err());

        let var = "PATH";
        let bad = |extra: &[&str], want: &str| {
            let mut all = vec!["--user", "u", "--password-env", var];
            all.extend_from_slice(extra);
            let e = config_from_args(&serve_args(&all).unwrap()).unwrap_err();
            assert!(format!("{e:#}").contains(want), "{extra:?}: {e:#}");
        };
        bad(&["--max-message", "10"], "--max-message");
        bad(&["--max-connections", "0"], "--max-connections");
        bad(&["--handshake-timeout", "0"], "--handshake-timeout");
        bad(&["--max-login-attempts", "0"], "--max-login-attempts");
        bad(&["--allow-origin", "example.com"], "--allow-origin");
        bad(
            &["--allow-origin", "https://a.example/path"],
            "--allow-origin",
        );
        bad(
            &[
                "--tls-cert",
                "/nonexistent/c.pem",
                "--tls-key",
                "/nonexistent/k.pem",
            ],
            "cannot read --tls-cert",
        );
        let e = config_from_args(&serve_args(&["--users-file", "/nonexistent/users"]).unwrap())
            .unwrap_err();
        assert!(format!("{e:#}").contains("cannot read users file"), "{e:#}");
    }

    #[test]
    fn password_env_errors_are_clear() {
        let e = password_from_env("WSDECK_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert!(e.to_string().contains("WSDECK_TEST_SURELY_UNSET_VAR"));
        assert!(e.to_string().contains("not set"));
    }
}
