//! Reading files the user names (recordings, config, snippets, scripts, users files,
//! certificates): regular files only, after following symlinks, and never more than a stated
//! size. A device (`/dev/zero`), a FIFO nobody writes or a socket would otherwise never end or
//! never start, and the read would grow without bound or hang.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Most a config, snippets, script, users or certificate file may hold (far more than any
/// real one needs).
pub const MAX_SMALL_FILE: u64 = 4 << 20;

/// Open `path` for reading if it is a regular file (symlinks followed); otherwise an error
/// whose message says what it is instead. Checked before opening, so opening a FIFO never
/// waits for a writer.
pub fn open_regular(path: &Path) -> io::Result<File> {
    refuse_special(&std::fs::metadata(path)?)?;
    let file = File::open(path)?;
    // The path may have been replaced between the check and the open.
    refuse_special(&file.metadata()?)?;
    Ok(file)
}

/// The whole of a regular file of at most `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the file is larger than {}, more than such a file ever needs",
                human_limit(limit)
            ),
        ));
    }
    Ok(bytes)
}

/// The whole of a regular UTF-8 text file of at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the file is not UTF-8 text".to_string(),
        )
    })
}

fn refuse_special(meta: &std::fs::Metadata) -> io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let what = kind_name(&meta.file_type());
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {what}, not a regular file; give the path of a regular file"),
    ))
}

fn kind_name(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

fn human_limit(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_with_what_they_are() {
        let e = read_text(Path::new("/dev/zero"), 16).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("a character device"), "{e}");
        let e = read_text(Path::new("/"), 16).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_and_one_at_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"12345678").unwrap();
        assert_eq!(read_text(&p, 8).unwrap(), "12345678");
        let e = read_text(&p, 7).unwrap_err();
        assert!(e.to_string().contains("larger than 7 bytes"), "{e}");
        assert_eq!(
            read_text(&dir.path().join("none"), 8).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
