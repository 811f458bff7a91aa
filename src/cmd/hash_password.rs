//! `wsdeck hash-password`: an argon2 hash for `serve --users-file`.

use std::io::Write as _;

use anyhow::{Context, bail};

use crate::cli::HashPasswordArgs;
use crate::model::Secret;
use crate::server::hash_password;

/// `wsdeck hash-password`: read a password (no-echo prompt on a terminal, else the first
/// line of stdin; never from the command line) and print its argon2 PHC hash, as
/// `USER:HASH` when `--user` is given.
pub fn run(args: HashPasswordArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
        let again = rpassword::prompt_password("Again: ").context("cannot read the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        Secret::new(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        Secret::new(line)
    };
    check_new_password(&password)?;
    let hash = hash_password(&password)?;
    let mut out = std::io::stdout().lock();
    match &args.user {
        Some(user) => {
            if user.is_empty()
                || user.contains(':')
                || user.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                bail!("--user must be a name without ':', spaces or control characters");
            }
            writeln!(out, "{user}:{hash}")
        }
        None => writeln!(out, "{hash}"),
    }
    .context("cannot write to stdout")?;
    Ok(())
}

/// A password the seed's `user:password` login can carry.
fn check_new_password(p: &Secret) -> anyhow::Result<()> {
    if p.expose().is_empty() {
        bail!("the password is empty");
    }
    if p.expose().contains(':') {
        bail!("the password contains ':', which the `user:password` login cannot carry");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_must_fit_the_login() {
        assert!(check_new_password(&Secret::new("ok-pw")).is_ok());
        assert!(check_new_password(&Secret::new("")).is_err());
        let e = check_new_password(&Secret::new("a:b")).unwrap_err();
        assert!(e.to_string().contains("':'"));
    }
}
