//! Writing what drover has to say to stdout and stderr without ever panicking. A reader that
//! went away (`drover inventory --list | head -1`) is a quiet end, as for other Unix tools:
//! the rest of the text is dropped, nothing is printed about it, and the exit code stays the
//! one drover had anyway (a run's report is already written by then). Any other failure to
//! write stdout is an error that names it.

use std::io::Write;

use crate::error::{Error, Result};

/// Writes `text` to stdout and flushes it; a closed stdout is not an error.
pub fn print(text: &str) -> Result<()> {
    quiet_pipe(write_all(&mut std::io::stdout().lock(), text))
        .map_err(|e| Error::io("stdout", "write to", e))
}

/// Writes `text` to stderr; a stderr that cannot be written is ignored, since there is no
/// place left to say so.
pub fn eprint(text: &str) {
    let _ = write_all(&mut std::io::stderr().lock(), text);
}

/// `text` and a newline to stderr, as [`eprint`].
pub fn eprintln(text: &str) {
    let _ = write_all(&mut std::io::stderr().lock(), &format!("{text}\n"));
}

fn write_all(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// `Ok` for a broken pipe (the reader left), the error otherwise.
pub fn quiet_pipe(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
