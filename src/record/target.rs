//! Where a recording or an export goes when its file already exists: a user's evidence is
//! never destroyed unless they ask. A JSONL recording gets the new session appended (its
//! handshake line starts it; `wsdeck replay` reads both); a HAR file, which is one JSON
//! document, is written under the next free name (`x.har` → `x-1.har`). `--overwrite` asks
//! for the old file to be replaced.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// What was found at the path a recording or export was asked to go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// Nothing (or an empty file): written as asked.
    Fresh,
    /// A recording with this many bytes: the new session follows it.
    Appended(u64),
    /// A file with this many bytes, replaced on request (`--overwrite`).
    Replaced(u64),
    /// A file: written under this other name instead.
    Renamed(PathBuf),
}

impl Opened {
    /// The sentence saying what was done with the existing file (`None`: there was none).
    pub fn sentence(&self, asked: &Path) -> Option<String> {
        let asked = asked.display();
        match self {
            Opened::Fresh => None,
            Opened::Appended(n) => Some(format!(
                "{asked} already holds a recording ({}): this session is added after it \
                 (wsdeck replay shows both; --overwrite replaces the file)",
                crate::fmt::bytes(*n as f64)
            )),
            Opened::Replaced(n) => Some(format!(
                "{asked} replaced as asked (--overwrite): its {} are gone",
                crate::fmt::bytes(*n as f64)
            )),
            Opened::Renamed(to) => Some(format!(
                "{asked} already exists, so this was written to {} (--overwrite replaces the file)",
                to.display()
            )),
        }
    }
}

/// The length of the file at `path`, if one is there.
fn existing_len(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Open a JSONL recording for writing: appended to when it exists, unless `overwrite`.
pub fn open_jsonl(path: &Path, overwrite: bool) -> anyhow::Result<(super::Recorder, Opened)> {
    let before = existing_len(path).unwrap_or(0);
    if overwrite {
        let r = super::Recorder::create(path)?;
        let opened = if before > 0 {
            Opened::Replaced(before)
        } else {
            Opened::Fresh
        };
        return Ok((r, opened));
    }
    let r = super::Recorder::append(path)?;
    let opened = if before > 0 {
        Opened::Appended(before)
    } else {
        Opened::Fresh
    };
    Ok((r, opened))
}

/// `x.har` → `x-N.har` (`x` → `x-N`).
fn numbered(path: &Path, n: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

/// Create a whole-document file (HAR): `path` when it is free (or `overwrite`), else the first
/// free `path-N.ext`. Never truncates a file that was not asked for.
pub fn create_new_or_numbered(
    path: &Path,
    overwrite: bool,
) -> anyhow::Result<(File, PathBuf, Opened)> {
    if overwrite {
        let before = existing_len(path);
        let f = File::create(path)
            .with_context(|| format!("cannot create HAR file {}", path.display()))?;
        let opened = match before {
            Some(n) if n > 0 => Opened::Replaced(n),
            _ => Opened::Fresh,
        };
        return Ok((f, path.to_path_buf(), opened));
    }
    for n in 0..10_000u32 {
        let candidate = if n == 0 {
            path.to_path_buf()
        } else {
            numbered(path, n)
        };
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(f) => {
                let opened = if n == 0 {
                    Opened::Fresh
                } else {
                    Opened::Renamed(candidate.clone())
                };
                return Ok((f, candidate, opened));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create HAR file {}", path.display()));
            }
        }
    }
    anyhow::bail!(
        "cannot create HAR file {}: it and {} … -9999 all exist; pick another name",
        path.display(),
        numbered(path, 1).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_har_name_gets_the_next_number_and_the_old_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.har");
        std::fs::write(&p, "old").unwrap();
        std::fs::write(dir.path().join("s-1.har"), "older").unwrap();
        let (_, to, opened) = create_new_or_numbered(&p, false).unwrap();
        assert_eq!(to, dir.path().join("s-2.har"));
        assert_eq!(opened, Opened::Renamed(to.clone()));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert!(opened.sentence(&p).unwrap().contains("s-2.har"));
        let (_, to, opened) = create_new_or_numbered(&p, true).unwrap();
        assert_eq!((to, opened), (p.clone(), Opened::Replaced(3)));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "");
    }

    #[test]
    fn a_name_without_extension_is_numbered_too() {
        assert_eq!(numbered(Path::new("/t/x"), 3), PathBuf::from("/t/x-3"));
    }
}
