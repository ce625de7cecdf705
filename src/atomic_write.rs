//! Writing an output file so a reader never sees half of it: a temporary file in the same
//! directory, written through a buffer, synced, then renamed over the target.
//!
//! Only a regular file (or a path that does not exist yet) is replaced that way. A symlink is
//! followed to the file it names, so the link stays a link. Anything else (a FIFO, a terminal,
//! `/dev/stdout`, `/dev/null`) is written straight through: renaming over a device node would
//! replace it with a regular file, which as root replaces it for the whole machine. `-` is
//! stdout.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Symlinks followed before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Writes what `fill` produces to `path`; a regular file is replaced atomically and is
/// untouched if anything fails.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    if path == Path::new("-") {
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        return fill(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| Error::io(path, "write", e));
    }
    let target = follow_links(path).map_err(|e| Error::io(path, "resolve", e))?;
    match std::fs::metadata(&target) {
        Ok(meta) if !meta.is_file() => {
            if meta.is_dir() {
                let e = std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory");
                return Err(Error::io(path, "write", e));
            }
            write_through(&target, fill).map_err(|e| Error::io(path, "write", e))
        }
        _ => replace(&target, fill).map_err(|e| Error::io(path, "write", e)),
    }
}

/// The path with every symlink along its last component followed (a dangling link names
/// the file to create).
fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// A FIFO, a terminal or another device: opened as it is, never created or replaced.
fn write_through(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    let mut out = BufWriter::new(file);
    fill(&mut out)?;
    out.flush()
}

/// Temp file beside `path`, synced, renamed over it.
fn replace(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut out = BufWriter::new(std::fs::File::create(&tmp)?);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) -> Result<()> {
        write_atomic(path, |out| out.write_all(text.as_bytes()))
    }

    #[test]
    fn a_symlink_stays_a_link_and_its_target_gets_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write(&link, "new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn a_dangling_symlink_creates_the_file_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(dir.path().join("new.json"), &link).unwrap();
        write(&link, "x").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("new.json")).unwrap(),
            "x"
        );
    }

    #[test]
    fn a_regular_file_is_replaced_and_left_whole_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.json");
        std::fs::write(&file, "old").unwrap();
        let failed = write_atomic(&file, |out| {
            out.write_all(b"half")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "old");
        write(&file, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp file left behind");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write(dir.path(), "x").is_err());
        assert!(dir.path().is_dir());
    }
}
