//! The crate's error type. Every message a user reads about bad input is written here.

use std::fmt;
use std::path::PathBuf;

use crate::diagnostic::SourceError;

#[derive(Debug)]
pub enum Error {
    /// Bad input at a position in a file.
    Source(Box<SourceError>),
    /// Several of them, reported together (every unknown key of a playbook).
    Sources(Vec<SourceError>),
    /// A file that could not be read or written.
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// A dynamic inventory script that failed or printed something that is not an inventory.
    DynamicInventory { path: PathBuf, message: String },
    /// A host pattern that names nothing.
    Pattern {
        pattern: String,
        term: String,
        suggestions: Vec<String>,
    },
    /// A host pattern that selects no host at all.
    NoHosts { pattern: String },
    /// A command line that makes no sense.
    Usage(String),
    /// A template that failed for one host (undefined variable, bad filter argument).
    Render {
        host: String,
        task: String,
        message: String,
    },
    /// A value that was given on the command line or in a file and could not be used.
    Invalid { what: String, message: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }
}

impl Error {
    /// One error, or all of them.
    pub fn sources(mut errors: Vec<SourceError>) -> Error {
        if errors.len() == 1 {
            Error::Source(Box::new(errors.remove(0)))
        } else {
            Error::Sources(errors)
        }
    }
}

impl From<SourceError> for Error {
    fn from(e: SourceError) -> Error {
        Error::Source(Box::new(e))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Source(e) => write!(f, "{e}"),
            Error::Sources(list) => {
                for (i, e) in list.iter().enumerate() {
                    if i > 0 {
                        write!(f, "\n\nerror: ")?;
                    }
                    write!(f, "{e}")?;
                }
                write!(f, "\n\n{} problems in this file; nothing ran", list.len())
            }
            Error::Io {
                path,
                action,
                source,
            } => {
                write!(f, "cannot {action} {}: {source}", path.display())
            }
            Error::DynamicInventory { path, message } => {
                write!(f, "dynamic inventory {} failed: {message}", path.display())
            }
            Error::Pattern {
                pattern,
                term,
                suggestions,
            } => {
                write!(
                    f,
                    "host pattern `{pattern}`: `{term}` matches no host or group"
                )?;
                if !suggestions.is_empty() {
                    let list: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
                    write!(f, "\n  = hint: closest names: {}", list.join(", "))?;
                }
                Ok(())
            }
            Error::NoHosts { pattern } => write!(f, "host pattern `{pattern}` selects no hosts"),
            Error::Usage(message) => write!(f, "{message}"),
            Error::Render {
                host,
                task,
                message,
            } => {
                write!(f, "host {host}, task `{task}`: {message}")
            }
            Error::Invalid { what, message } => write!(f, "{what}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
