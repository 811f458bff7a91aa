//! `wsdeck man`: manual pages from the clap definitions, one per subcommand, the top-level
//! page with the keys (from the one keymap), the config file and the exit codes appended.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use clap::CommandFactory;

use crate::cli::Cli;

/// The page asked for (`None` with `--dir`, after writing every page there).
pub fn run(subcommand: Option<&str>, dir: Option<&Path>) -> anyhow::Result<Option<Vec<u8>>> {
    let top = Cli::command();
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot make the directory {}", dir.display()))?;
        let mut pages = vec![("wsdeck.1".to_string(), top_page()?)];
        for sub in top.get_subcommands() {
            let name = sub.get_name().to_string();
            pages.push((format!("wsdeck-{name}.1"), sub_page(&name)?));
        }
        for (file, page) in pages {
            let path = dir.join(&file);
            std::fs::write(&path, page)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        return Ok(None);
    }
    match subcommand {
        None => Ok(Some(top_page()?)),
        Some(name) => Ok(Some(sub_page(name)?)),
    }
}

fn sub_page(name: &str) -> anyhow::Result<Vec<u8>> {
    let top = Cli::command();
    let Some(sub) = top.find_subcommand(name) else {
        let names: Vec<&str> = top.get_subcommands().map(|s| s.get_name()).collect();
        bail!(
            "there is no subcommand {name:?}: pages exist for {}",
            names.join(", ")
        );
    };
    let sub = sub
        .clone()
        .display_name(format!("wsdeck-{name}"))
        .bin_name(format!("wsdeck {name}"));
    let mut out = Vec::new();
    clap_mangen::Man::new(sub)
        .title(format!("wsdeck-{name}"))
        .render(&mut out)?;
    if name == "pipe" {
        writeln!(out, ".SH EXIT STATUS")?;
        for (code, what) in crate::pipe::EXIT_CODES {
            writeln!(out, ".TP\n\\fB{code}\\fR\n{}", roff(what))?;
        }
    }
    Ok(out)
}

/// Roff-escape a line of text (backslashes and a leading dot or quote).
fn roff(s: &str) -> String {
    let s = s.replace('\\', "\\\\").replace('-', "\\-");
    if s.starts_with(['.', '\'']) {
        format!("\\&{s}")
    } else {
        s
    }
}

fn top_page() -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    writeln!(out, ".SH KEYS")?;
    writeln!(out, "The same table is in the help overlay (F1).")?;
    for sec in crate::app::keymap::help_sections() {
        writeln!(out, ".SS {}", roff(sec.title))?;
        for (keys, what) in &sec.rows {
            writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(keys), roff(what))?;
        }
    }
    writeln!(out, ".SH FILES")?;
    writeln!(
        out,
        ".TP\n\\fI~/.config/wsdeck/config.toml\\fR\nProfiles and snippets \
         (also \\fB\\-\\-config\\fR or \\fBWSDECK_CONFIG\\fR); an example ships as \
         assets/config.toml."
    )?;
    writeln!(
        out,
        ".TP\n\\fI~/.config/wsdeck/ca/\\fR\nThe local CA that \\fBproxy \\-\\-mitm\\fR signs with \
         (\\fBwsdeck ca\\fR prints it)."
    )?;
    writeln!(out, ".SH ENVIRONMENT")?;
    writeln!(
        out,
        ".TP\n\\fBWSDECK_PASSWORD\\fR\nThe password or token (never a flag).\n\
         .TP\n\\fBHTTP_PROXY\\fR, \\fBHTTPS_PROXY\\fR, \\fBALL_PROXY\\fR, \\fBNO_PROXY\\fR\n\
         Proxies, as curl reads them.\n.TP\n\\fBSSL_CERT_FILE\\fR, \\fBSSL_CERT_DIR\\fR\n\
         Trusted CAs.\n.TP\n\\fBVISUAL\\fR, \\fBEDITOR\\fR\nThe editor the proxy's O key opens.\n\
         .TP\n\\fBNO_COLOR\\fR\nNo colours."
    )?;
    writeln!(out, ".SH EXIT STATUS")?;
    for (code, what) in [
        (
            "0",
            "success (pipe: the server closed cleanly with 1000, or stdin ended and the close handshake finished)",
        ),
        (
            "1",
            "a failure, with a one-line reason on stderr (refused, DNS, TLS, an HTTP answer to the upgrade, login rejected, a script's wait timed out, a Close not answered)",
        ),
        ("2", "bad flags or arguments"),
        (
            "3",
            "pipe: the server went away (1001, a Close without a status code, a dropped connection)",
        ),
        (
            "4",
            "pipe: the server said to retry later (1012, 1013, HTTP 503 or 429); see wsdeck man pipe",
        ),
        ("101", "a bug (panic); the terminal is restored first"),
        ("141", "pipe's stdout was closed"),
    ] {
        writeln!(out, ".TP\n\\fB{code}\\fR\n{}", roff(what))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_a_page_and_the_top_page_lists_keys_and_exit_codes() {
        let top = String::from_utf8(run(None, None).unwrap().unwrap()).unwrap();
        assert!(top.contains(".SH KEYS") && top.contains(".SH EXIT STATUS"));
        assert!(top.contains("Ctrl\\-C, Ctrl\\-Q"), "the key table");
        let proxy = String::from_utf8(run(Some("proxy"), None).unwrap().unwrap()).unwrap();
        assert!(
            proxy.contains("wsdeck\\-proxy") && proxy.contains("intercept"),
            "{proxy}"
        );
        let pipe = String::from_utf8(run(Some("pipe"), None).unwrap().unwrap()).unwrap();
        let status = &pipe[pipe.find(".SH EXIT STATUS").expect("pipe's exit codes")..];
        for code in ["0", "1", "2", "3", "4", "141"] {
            assert!(
                status.contains(&format!("\\fB{code}\\fR")),
                "{code}: {status}"
            );
        }
        assert!(status.contains("1013 Try Again Later"), "{status}");
        let e = run(Some("nope"), None).unwrap_err().to_string();
        assert!(
            e.contains("pages exist for") && e.contains("connect"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(run(None, Some(dir.path())).unwrap().is_none());
        for page in [
            "wsdeck.1",
            "wsdeck-connect.1",
            "wsdeck-pipe.1",
            "wsdeck-proxy.1",
        ] {
            assert!(dir.path().join(page).is_file(), "{page}");
        }
    }
}
