//! The NDJSON event stream (`--events FILE|-`): one JSON object per line, written as each
//! event happens and flushed at once, so `tail -f` and `jq` see the run live. The same lines
//! read back as [`Stamped`](crate::event::Stamped) events replay into the same report.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where `--events` goes: a file, or stdout for `-`.
pub struct EventLog {
    out: Box<dyn Write + Send>,
    path: PathBuf,
    /// The first write error; later events are dropped, the run goes on.
    failed: Option<std::io::Error>,
}

impl EventLog {
    pub fn open(path: &Path) -> Result<EventLog> {
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            let file = std::fs::File::create(path)
                .map_err(|e| Error::io(path, "create the events file", e))?;
            Box::new(BufWriter::new(file))
        };
        Ok(EventLog {
            out,
            path: path.to_path_buf(),
            failed: None,
        })
    }

    /// Writes one event as a line: a run's [`Stamped`](crate::event::Stamped) events, or a watch's.
    pub fn write(&mut self, event: &impl serde::Serialize) {
        if self.failed.is_some() {
            return;
        }
        let result = serde_json::to_writer(&mut self.out, event)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush());
        if let Err(e) = result {
            self.failed = Some(e);
        }
    }

    /// Flushes, and reports the first error (a full disk). A reader of `-` that went away
    /// (`| head`) is a quiet end, as for every other stdout write.
    pub fn finish(mut self) -> Result<()> {
        let flushed = self.out.flush();
        let result = self.failed.take().map_or(flushed, Err);
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && self.path == Path::new("-") => {
                Ok(())
            }
            Ok(()) => Ok(()),
            Err(e) => Err(Error::io(&self.path, "write events", e)),
        }
    }
}
